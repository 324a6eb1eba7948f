// Package integration runs the kubedns binary against a real kube-apiserver
// and etcd on loopback, started by hack/local-cluster.sh. Its tests skip, with
// the command that builds them, only when the control-plane binaries are absent.
package integration
