// Package httpserver builds the HTTP servers of kubedns and the sidecar
// (readiness, health checks, metrics, pprof) with one set of limits, so that
// a client that is slow, idle or sends oversized headers holds one
// connection for a bounded time and never the probes.
package httpserver

import (
	"net/http"
	"time"
)

// Limits are the timeouts and the header limit of a server. A zero field is
// net/http's default: no limit for the timeouts, 1 MiB of headers.
type Limits struct {
	// ReadHeaderTimeout bounds the wait for a request's line and headers,
	// from the first byte awaited (on a kept-alive connection, from the
	// end of the idle wait).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of the whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the headers' read to the
	// end of the response's write.
	WriteTimeout time.Duration
	// IdleTimeout closes a kept-alive connection that has not begun its
	// next request by then.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers; net/http reads 4 KiB
	// more (the request line, slack) and answers 431 beyond.
	MaxHeaderBytes int
}

// Default returns the limits of every HTTP server of the project. The
// clients are the kubelet's probes (GET, a few hundred bytes of headers,
// a 1 s timeout for kubedns's readiness and 5 s for the liveness probes
// in cluster/kube-dns.yaml.in, no keep-alive), Prometheus scrapes (GET,
// perhaps a bearer token of 1-2 KiB, 10 s scrape timeout by default,
// one connection kept alive between scrapes), an operator's curl or
// port-forward to /cache, and go tool pprof on the loopback.
//
//   - ReadHeaderTimeout 5 s: every one of those clients sends its headers
//     in one write; a request not in after the liveness probe's own
//     timeout is a slow or stuck client, whose connection is closed.
//   - ReadTimeout 10 s: no handler reads a body, but net/http reads and
//     discards one (up to 256 KiB) before reusing a connection; this bounds
//     a body trickled in. It does not cut long handlers: net/http lifts the
//     read deadline once the request is read.
//   - WriteTimeout 30 s: longer than Prometheus's scrape timeout and the
//     probes' by far, and room for the whole /cache of a large cluster
//     through a port-forward; a client that stops reading a response is
//     cut then. pprof's profile, trace and delta profiles stream for the
//     seconds asked (30 by default): net/http/pprof moves the write
//     deadline out by that many seconds itself, so the pprof server needs
//     no limits of its own.
//   - IdleTimeout 60 s: longer than the 15 s and 30 s scrape intervals
//     most Prometheus setups use, so a scraper keeps its connection; an
//     idle connection (a goroutine and its buffers) is closed after a
//     minute. At Prometheus's default interval (1 m) the connection may
//     close just as a scrape begins: Go's HTTP client, which Prometheus
//     uses, sends a GET again on a new connection when the kept-alive one
//     it picked turns out closed.
//   - MaxHeaderBytes 16 KiB: ten times what a probe or an authenticated
//     scrape sends, instead of net/http's 1 MiB, which every connection
//     could otherwise make the server buffer.
func Default() Limits {
	return Limits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// Server returns a server of handler h on addr with the limits l.
func (l Limits) Server(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		MaxHeaderBytes:    l.MaxHeaderBytes,
	}
}
