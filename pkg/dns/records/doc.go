// Package records turns slim Kubernetes objects into an immutable snapshot of
// DNS records for the cluster domain and the reverse zones.
//
// Nothing here talks to the API server: the watch package feeds it Services,
// endpoint sets, namespaces and pods, and the server package answers queries
// from the Snapshot it builds. A Snapshot is never modified after Finish, so
// readers need no locks.
package records
