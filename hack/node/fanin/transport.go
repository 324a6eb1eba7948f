package main

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// The connection behaviour of CoreDNS 1.14's forward plugin with force_tcp
// toward one upstream (plugin/pkg/proxy and plugin/forward), as a node's
// NodeLocal DNSCache shows it to the cluster DNS:
//   - a stack of idle connections, taken oldest first; one idle for longer
//     than expire (10 s) is closed instead of used, and a ticker closes those
//     every expire;
//   - a new connection when none is idle, so as many as queries in flight;
//   - the query's write, then its read, each with a 2 s deadline;
//   - a connection that the server closed while idle (EOF on a reused one)
//     is thrown away and the query tried again at once, not counted;
//   - any other error is an attempt; a query gets 2 attempts within 5 s,
//     then fails (the cache answers SERVFAIL).
const (
	defaultExpire = 10 * time.Second
	ioTimeout     = 2 * time.Second
	queryDeadline = 5 * time.Second
	attempts      = 2
	// The dial timeout adapts to the dials seen, as CoreDNS's does: twice
	// the running average, between 1 s and 30 s, the average starting at 15 s.
	minDial, maxDial = time.Second, 30 * time.Second
)

type persistConn struct {
	c    *dns.Conn
	used time.Time
}

// transport is one node cache's pool of TCP connections to the upstream.
type transport struct {
	addr    string
	expire  time.Duration
	io      time.Duration // each write and read
	limit   time.Duration // one query, all attempts
	avgDial atomic.Int64

	mu    sync.Mutex
	idle  []*persistConn // oldest first
	stats *stats
}

func newTransport(addr string, expire time.Duration, s *stats) *transport {
	t := &transport{addr: addr, expire: expire, io: ioTimeout, limit: queryDeadline, stats: s}
	t.avgDial.Store(int64(maxDial / 2))
	return t
}

// run closes idle connections past expire until ctx ends, then all of them.
func (t *transport) run(ctx context.Context) {
	tick := time.NewTicker(t.expire)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			t.mu.Lock()
			idle := t.idle
			t.idle = nil
			t.mu.Unlock()
			for _, pc := range idle {
				pc.c.Close()
			}
			return
		case <-tick.C:
			t.mu.Lock()
			stale := time.Now().Add(-t.expire)
			n := 0
			for n < len(t.idle) && !t.idle[n].used.After(stale) {
				n++
			}
			old := t.idle[:n:n]
			t.idle = t.idle[n:]
			t.mu.Unlock()
			for _, pc := range old {
				pc.c.Close()
			}
		}
	}
}

func (t *transport) dialTimeout() time.Duration {
	avg := time.Duration(t.avgDial.Load())
	switch {
	case avg < minDial:
		return minDial
	case avg < maxDial/2:
		return 2 * avg
	}
	return maxDial
}

// dial returns an idle connection (cached true) or a new one.
func (t *transport) dial(deadline time.Time) (*persistConn, bool, error) {
	t.mu.Lock()
	for len(t.idle) > 0 {
		pc := t.idle[0]
		t.idle = t.idle[1:]
		if time.Since(pc.used) > t.expire {
			pc.c.Close()
			continue
		}
		t.mu.Unlock()
		return pc, true, nil
	}
	t.mu.Unlock()
	start := time.Now()
	timeout := min(t.dialTimeout(), time.Until(deadline))
	c, err := (&dns.Client{Net: "tcp", Dialer: &net.Dialer{Timeout: timeout}}).Dial(t.addr)
	d := time.Since(start)
	t.avgDial.Add(int64(d-time.Duration(t.avgDial.Load())) / 4)
	if err != nil {
		return nil, false, err
	}
	t.stats.dialed.Add(1)
	return &persistConn{c: c}, false, nil
}

func (t *transport) yield(pc *persistConn) {
	pc.used = time.Now()
	t.mu.Lock()
	t.idle = append(t.idle, pc)
	t.mu.Unlock()
}

var errCachedClosed = errors.New("cached connection closed by the server")

// exchange sends q once over a pooled connection.
func (t *transport) exchange(q *dns.Msg, deadline time.Time) (*dns.Msg, error) {
	pc, cached, err := t.dial(deadline)
	if err != nil {
		return nil, err
	}
	q.Id = dns.Id()
	pc.c.SetWriteDeadline(time.Now().Add(t.io))
	if err := pc.c.WriteMsg(q); err != nil {
		pc.c.Close()
		if cached && errors.Is(err, io.EOF) {
			return nil, errCachedClosed
		}
		return nil, err
	}
	pc.c.SetReadDeadline(time.Now().Add(t.io))
	for {
		r, err := pc.c.ReadMsg()
		if err != nil {
			pc.c.Close()
			if cached && errors.Is(err, io.EOF) {
				return nil, errCachedClosed
			}
			return nil, err
		}
		if r.Id == q.Id {
			t.yield(pc)
			return r, nil
		}
	}
}

// query is what the forward plugin does with one query the cache missed.
func (t *transport) query(q *dns.Msg) (*dns.Msg, error) {
	deadline := time.Now().Add(t.limit)
	var err error
	for tries := 0; tries < attempts && time.Now().Before(deadline); {
		var r *dns.Msg
		r, err = t.exchange(q, deadline)
		if err == nil {
			return r, nil
		}
		if errors.Is(err, errCachedClosed) {
			t.stats.reconnects.Add(1)
			continue
		}
		tries++
		if tries < attempts {
			t.stats.retries.Add(1)
		}
	}
	if err == nil {
		err = errors.New("query deadline passed")
	}
	return nil, err
}
