// Package watch lists and watches what kubedns reads from the API server
// (client-go reflectors feeding its own stores) and publishes an immutable
// records.Snapshot whenever the DNS-visible state of the cluster changes.
package watch
