// Package kubeclient is kube-dns's edge to the Kubernetes API: a client-go
// clientset (protobuf) and, for ServiceImports, a dynamic client list and
// watch for the informers, whose transform (Transform) slims each object as
// it arrives into the types here, which keep just the fields DNS needs.
package kubeclient
