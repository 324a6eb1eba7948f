// Package server answers DNS queries from the current records snapshot.
//
// The Handler takes no locks: it loads the snapshot published by the watch
// package and reads it. Records in the snapshot are shared by every query and
// are never modified; an answer that must carry the query's case gets copies.
package server
