// Package kubeclient is a small Kubernetes API client for the few resources
// kube-dns reads.
//
// It links only core/v1 and discovery/v1 and decodes the API server's
// protobuf straight into slim objects that keep just the fields DNS needs,
// instead of building full API objects and throwing most of them away.
package kubeclient
