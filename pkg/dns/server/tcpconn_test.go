package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/wait"
)

// startTCP serves the test fixture (with huge.ns1, whose SRV reply is 64
// KiB, when huge) with cfg and returns the address, the listeners (shut down
// at the end of the test) and the metrics' registry.
func startTCP(t testing.TB, cfg TCPConfig, huge bool) (string, *Listeners, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg, "skydns", "skydns")
	services := fixture()
	if huge {
		services = hugeFixture()
	}
	h := newTestHandler(buildSnapshot(testConfig(), services))
	h.metrics = m
	l, err := ListenWith("127.0.0.1:0", h, ListenOptions{UDPSockets: 1, TCP: cfg, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return l.Addr(), l, reg
}

// metric returns one value of reg, e.g. `kubedns_dns_tcp_connections{}`.
func metric(t testing.TB, reg *prometheus.Registry, key string) float64 {
	t.Helper()
	return gatherValues(t, reg)[key]
}

const openConns = `kubedns_dns_tcp_connections{}`

// relaxed is a TCPConfig whose timeouts a test on a busy machine does not
// reach: a client starved of CPU between its connection and its query is
// not cut.
func relaxed(maxConns int) TCPConfig {
	return TCPConfig{MaxConns: maxConns, IdleTimeout: time.Minute, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
}

// poll checks cond at once, then every millisecond, until it holds; it
// returns an error when timeout passes first.
func poll(timeout time.Duration, cond func() bool) error {
	return wait.PollUntilContextTimeout(context.Background(), time.Millisecond, timeout, true,
		func(context.Context) (bool, error) { return cond(), nil })
}

// eventually polls cond every millisecond until it holds or 10 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if poll(10*time.Second, cond) != nil {
		t.Fatalf("still not %s after 10 s", what)
	}
}

// dialTCP opens a client connection, closed at the end of the test.
func dialTCP(t testing.TB, addr string) *dns.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &dns.Conn{Conn: c}
}

func newQuery(id uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("my-nginx.default.svc.cluster.local.", dns.TypeA)
	m.Id = id
	return m
}

func sendQuery(c *dns.Conn, id uint16) error { return c.WriteMsg(newQuery(id)) }

// pipeline writes n queries on c in one write, then reads the n replies
// and checks that each of their IDs came back once.
func pipeline(c *dns.Conn, n int) error {
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return err
	}
	var out []byte
	for i := range n {
		wire, err := newQuery(uint16(i)).Pack()
		if err != nil {
			return err
		}
		out = append(append(out, byte(len(wire)>>8), byte(len(wire))), wire...)
	}
	if _, err := c.Conn.Write(out); err != nil {
		return err
	}
	seen := make([]bool, n)
	for got := range n {
		r, err := c.ReadMsg()
		if err != nil {
			return fmt.Errorf("after %d of %d replies: %w", got, n, err)
		}
		if int(r.Id) >= n || seen[r.Id] || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			return fmt.Errorf("unexpected reply %d (rcode %s, %d answers)", r.Id, dns.RcodeToString[r.Rcode], len(r.Answer))
		}
		seen[r.Id] = true
	}
	return nil
}

// Many clients at once, each pipelining its queries, get every answer,
// whether they are under the limit or wait for a place past it; once they
// are gone, so are the goroutines that served them.
func TestTCPManyConnections(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxConns int
	}{
		{"no limit", 0},
		{"under the limit", 1000},
		{"four times the limit", 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const clients, queries = 200, 20
			baseline := runtime.NumGoroutine()
			addr, _, reg := startTCP(t, relaxed(tc.maxConns), false)
			var peak float64 // connections open at once, sampled
			sampled := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(sampled)
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
						if mfs, err := reg.Gather(); err == nil {
							for _, mf := range mfs {
								if mf.GetName() == "kubedns_dns_tcp_connections" {
									peak = max(peak, mf.GetMetric()[0].GetGauge().GetValue())
								}
							}
						}
					}
				}
			}()
			errs := make(chan error, clients)
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					c, err := net.Dial("tcp", addr)
					if err != nil {
						errs <- err
						return
					}
					defer c.Close()
					errs <- pipeline(&dns.Conn{Conn: c}, queries)
				})
			}
			wg.Wait()
			close(done)
			<-sampled
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if tc.maxConns > 0 && peak > float64(tc.maxConns) {
				t.Errorf("%v connections open at once, more than %d", peak, tc.maxConns)
			}
			if peak == 0 {
				t.Error("no connection seen open")
			}
			eventually(t, "all closed", func() bool { return metric(t, reg, openConns) == 0 })
			v := gatherValues(t, reg)
			if got := v[`kubedns_dns_requests_total{rcode="NOERROR",type="A"}`]; got != clients*queries {
				t.Errorf("%v queries answered, want %d", got, clients*queries)
			}
			// The server's own goroutines (accept loop, UDP) stay until shutdown.
			eventually(t, "back to the goroutines before", func() bool { return runtime.NumGoroutine() <= baseline+3 })
		})
	}
}

// Past the limit a new connection waits, unserved and not refused, and is
// served as soon as another one closes: its query is not lost.
func TestTCPConnectionWaitsForAPlace(t *testing.T) {
	addr, _, reg := startTCP(t, relaxed(2), false)
	first, second := dialTCP(t, addr), dialTCP(t, addr)
	for _, c := range []*dns.Conn{first, second} {
		if err := pipeline(c, 1); err != nil {
			t.Fatal(err)
		}
	}
	third := dialTCP(t, addr) // connected: the kernel's accept queue holds it
	if err := sendQuery(third, 7); err != nil {
		t.Fatal(err)
	}
	// Nothing to poll for here: the reply must not come while both places are held.
	_ = third.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if r, err := third.ReadMsg(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("served past the limit: %v, %v", r, err)
	}
	if got := metric(t, reg, openConns); got != 2 {
		t.Errorf("%v connections open, want 2", got)
	}
	first.Close()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := third.ReadMsg()
	if err != nil || r.Id != 7 {
		t.Fatalf("after a place was freed: %v, %v", r, err)
	}
	if err := pipeline(second, 3); err != nil {
		t.Errorf("the other connection: %v", err)
	}
}

// queryThen writes a query and the start of another in one write: the
// first query does not wait (a new connection's wait is ReadTimeout too).
func queryThen(partial ...byte) func(c *dns.Conn) error {
	return func(c *dns.Conn) error {
		wire, err := newQuery(1).Pack()
		if err != nil {
			return err
		}
		_, err = c.Conn.Write(append(append([]byte{byte(len(wire) >> 8), byte(len(wire))}, wire...), partial...))
		return err
	}
}

// A connection is closed when its client is idle, or slow: the timeouts of
// TCPConfig, each counted.
func TestTCPTimeouts(t *testing.T) {
	const short, long = 100 * time.Millisecond, 30 * time.Second
	tests := []struct {
		name    string
		cfg     TCPConfig
		client  func(c *dns.Conn) error // what the client does before waiting
		timeout string                  // the label counted
		after   time.Duration           // the connection lasts at least this
	}{
		{
			name:    "idle after a query",
			cfg:     TCPConfig{IdleTimeout: short, ReadTimeout: long},
			client:  func(c *dns.Conn) error { return pipeline(c, 3) },
			timeout: "idle", after: short,
		},
		{
			name:    "silent from the start",
			cfg:     TCPConfig{IdleTimeout: long, ReadTimeout: short},
			client:  func(*dns.Conn) error { return nil },
			timeout: "idle", after: short,
		},
		{
			name:    "half a length",
			cfg:     TCPConfig{IdleTimeout: long, ReadTimeout: short},
			client:  queryThen(0),
			timeout: "read", after: short,
		},
		{
			name:    "half a message",
			cfg:     TCPConfig{IdleTimeout: long, ReadTimeout: short},
			client:  queryThen(0, 40, 1, 2, 3),
			timeout: "read", after: short,
		},
		{
			name: "replies not read",
			cfg:  TCPConfig{IdleTimeout: long, ReadTimeout: long, WriteTimeout: short},
			client: func(c *dns.Conn) error {
				// SRV of 3,000 endpoints: 64 KiB replies, until the
				// socket buffers are full and a write blocks.
				for i := range 2000 {
					q := query("huge.ns1.svc.cluster.local.", dns.TypeSRV, nil)
					q.Id = uint16(i)
					if err := c.WriteMsg(q); err != nil {
						return nil // the server gave up on us already
					}
				}
				return nil
			},
			timeout: "write", after: short,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr, _, reg := startTCP(t, tc.cfg, tc.timeout == "write")
			c := dialTCP(t, addr)
			if tc.timeout == "write" {
				_ = c.Conn.(*net.TCPConn).SetReadBuffer(4096)
			}
			start := time.Now()
			_ = c.SetDeadline(start.Add(20 * time.Second))
			if err := tc.client(c); err != nil {
				t.Fatal(err)
			}
			counted := `kubedns_dns_tcp_timeouts_total{timeout="` + tc.timeout + `"}`
			eventually(t, "closed", func() bool {
				return metric(t, reg, counted) == 1 && metric(t, reg, openConns) == 0
			})
			if d := time.Since(start); d < tc.after || d > long/3 {
				t.Errorf("closed after %v, want the %v timeout", d, tc.after)
			}
			// The client sees the end of the connection.
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, err := c.Conn.Read(make([]byte, 65536)); err != nil {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatal("connection still open")
					}
					break
				}
			}
			v := gatherValues(t, reg)
			for _, name := range tcpTimeoutNames {
				if key := `kubedns_dns_tcp_timeouts_total{timeout="` + name + `"}`; name != tc.timeout && v[key] != 0 {
					t.Errorf("%s = %v, want 0", key, v[key])
				}
			}
		})
	}
}

// Shutdown ends idle connections and half-read queries at once, without
// waiting for their timeouts, and counts none of them as timed out.
func TestTCPShutdownEndsIdleConnections(t *testing.T) {
	addr, l, reg := startTCP(t, TCPConfig{IdleTimeout: time.Minute, ReadTimeout: time.Minute}, false)
	var conns []*dns.Conn
	for range 20 {
		c := dialTCP(t, addr)
		if err := pipeline(c, 2); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	if _, err := conns[0].Conn.Write([]byte{0, 30, 1}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "all open", func() bool { return metric(t, reg, openConns) == 20 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := l.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		// EOF, or a reset where the server had not read all we sent.
		if _, err := c.Conn.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("connection %d after shutdown: %v, want it closed", i, err)
		}
	}
	if got := metric(t, reg, openConns); got != 0 {
		t.Errorf("%v connections open after shutdown", got)
	}
	for _, name := range tcpTimeoutNames {
		if got := metric(t, reg, `kubedns_dns_tcp_timeouts_total{timeout="`+name+`"}`); got != 0 {
			t.Errorf("%s timeouts counted at shutdown: %v", name, got)
		}
	}
}
