// Package watch runs the Kubernetes informers kubedns needs and publishes an
// immutable records.Snapshot whenever the DNS-visible state of the cluster changes.
package watch
