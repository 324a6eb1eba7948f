// Package server answers DNS queries from the current records snapshot.
//
// Nothing takes a lock: queries load the snapshot published by the watch
// package and read it. On UDP, the socket's read loop answers plain queries
// itself from the record sets' pre-encoded bytes (fast.go, udp.go); the rest,
// and every TCP query, go to the Handler, which builds replies from the
// snapshot's records. Both give the same answers. Records in the snapshot are
// shared by every query and never modified; an answer that must carry the
// query's case gets copies.
package server
