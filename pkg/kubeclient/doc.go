// Package kubeclient is a small Kubernetes API client for the few resources
// kube-dns reads.
//
// It links only core/v1 and discovery/v1 and decodes the API server's
// protobuf into slim objects that keep just the fields DNS needs: a list is
// read item by item, each item unmarshalled by k8s.io/api's generated code
// and slimmed at once, so the full objects of a list are never all alive.
package kubeclient
