// Package server answers DNS queries from the current records snapshot.
//
// Nothing takes a lock: queries load the snapshot published by the watch
// package and read it. On UDP, the socket's read loop answers plain queries
// itself from the record sets' pre-encoded bytes (fast.go, udp.go); the rest,
// and every TCP query, go to the Handler, which builds replies from the
// snapshot's records. Both give the same answers. Records in the snapshot are
// shared by every query and never modified; an answer that must carry the
// query's case gets copies.
//
// On Linux Listen can bind several UDP sockets (one per CPU, or a number) in
// a SO_REUSEPORT group, each read by its own loop, so that queries are read
// and answered on several CPUs; the kernel picks a client's socket by its
// address and port. TCP has one listener: miekg/dns serves each connection
// on its own goroutine, which the scheduler already spreads. tcp.go bounds
// how many it serves at once (past the bound, connections wait in the
// kernel's accept queue) and reads each message itself, so that an idle
// connection, a query cut short and a reply not read each end in a timeout.
//
// On Linux the UDP loop reads and writes batches with recvmmsg and sendmmsg
// itself (batch_linux.go) rather than through golang.org/x/net/ipv4's
// ReadBatch and WriteBatch. BenchmarkBatchRead reads batches of 64 queries
// (batchSize) both ways: ~200 µs against ~240 µs a batch, sends included, on
// 2 cores, and ReadBatch allocates a net.UDPAddr and its IP for every
// datagram (128 allocations, 3.3 KB a batch against 3 and 58 B, which are
// the sends'), and WriteBatch wants one back for every reply,
// where the loop replies to the raw address the kernel wrote. The fast path
// allocates nothing per query, and keeps it that way.
package server
