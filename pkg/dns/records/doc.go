// Package records turns slim Kubernetes objects into DNS records for the
// cluster domain and the reverse zones.
//
// Nothing here talks to the API server: the watch package feeds an Index
// with each Service's records (a Fragment), the namespaces and the pods, and
// the Index publishes immutable Snapshots that the server package answers
// from without locks. A changed Service costs work proportional to its own
// records: the names live in a copy-on-write name table (table.go), and a
// Snapshot shares every shard of it that did not change with the one before.
//
// Records are kept only in wire form, as the bytes of an answer: names in
// them point into the question, so the server's fast path copies them into a
// reply as they are, and the general path decodes them when it needs
// records (RRSet.Records).
package records
