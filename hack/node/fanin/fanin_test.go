package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/wait"
)

// server answers known. with an A record and anything else with NXDOMAIN
// over TCP on loopback, counting the connections it accepted.
type server struct {
	addr     string
	accepted atomic.Int64
	srv      *dns.Server
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startServer(t *testing.T, idle time.Duration) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: ln.Addr().String()}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		r := new(dns.Msg).SetReply(q)
		if q.Question[0].Name == "known.example." {
			rr, _ := dns.NewRR("known.example. 30 IN A 10.0.0.1")
			r.Answer = append(r.Answer, rr)
		} else {
			r.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(r)
	})
	started := make(chan struct{})
	s.srv = &dns.Server{Listener: countingListener{ln, &s.accepted}, Handler: h, MaxTCPQueries: -1,
		IdleTimeout: func() time.Duration { return idle }, NotifyStartedFunc: func() { close(started) }}
	go s.srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { s.srv.Shutdown() })
	return s
}

func TestFanInAnswersAndReusesConnections(t *testing.T) {
	s := startServer(t, time.Minute)
	c := config{server: s.addr, caches: 4, rate: 50, duration: time.Second, expire: defaultExpire, nxdomain: 0.2, names: []string{"known.example"}}
	st := run(context.Background(), c)
	var out bytes.Buffer
	report(&out, c, st)
	t.Log(out.String())
	if st.failed.Load() != 0 || st.answered.Load() != st.sent.Load() || st.sent.Load() < 150 {
		t.Fatalf("sent %d answered %d failed %d, want all answered", st.sent.Load(), st.answered.Load(), st.failed.Load())
	}
	// One connection per cache is enough for queries answered in well
	// under their period; a few more when two overlap.
	if d := st.dialed.Load(); d < 4 || d > 40 {
		t.Errorf("dialed %d connections for 4 caches, want persistent connections reused", d)
	}
	if !strings.HasPrefix(out.String(), "fanin: 4 caches × 50/s") {
		t.Errorf("report: %q", out.String())
	}
}

func TestServerClosedIdleConnectionIsRetriedAtOnce(t *testing.T) {
	s := startServer(t, 20*time.Millisecond) // the server closes idle connections
	st := &stats{errs: map[string]int{}, failedBySecond: map[int]int{}, start: time.Now()}
	tr := newTransport(s.addr, time.Minute, st)
	q := new(dns.Msg).SetQuestion("known.example.", dns.TypeA)
	if _, err := tr.query(q); err != nil {
		t.Fatal(err)
	}
	// Wait for the server to close the idle connection: a read on the
	// pooled one then ends.
	tr.mu.Lock()
	pc := tr.idle[0]
	tr.mu.Unlock()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		pc.c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		var b [1]byte
		_, err := pc.c.Conn.Read(b[:])
		return err != nil && !isTimeout(err), nil
	})
	if err != nil {
		t.Fatal("the server did not close the idle connection")
	}
	r, err := tr.query(q)
	if err != nil || len(r.Answer) != 1 {
		t.Fatalf("query after the server closed the pooled connection: %v %v", r, err)
	}
	if st.reconnects.Load() != 1 || st.retries.Load() != 0 || s.accepted.Load() != 2 {
		t.Errorf("reconnects %d retries %d accepted %d, want 1, 0, 2", st.reconnects.Load(), st.retries.Load(), s.accepted.Load())
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestSilentServerFailsAfterTwoAttempts(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			defer c.Close() // held open, never answered
		}
	}()
	st := &stats{errs: map[string]int{}, failedBySecond: map[int]int{}, start: time.Now()}
	tr := newTransport(ln.Addr().String(), time.Minute, st)
	tr.io = 50 * time.Millisecond
	_, err = tr.query(new(dns.Msg).SetQuestion("known.example.", dns.TypeA))
	if err == nil || !isTimeout(err) {
		t.Fatalf("query to a silent server: %v, want a timeout", err)
	}
	if st.retries.Load() != 1 || st.dialed.Load() != 2 {
		t.Errorf("retries %d dialed %d, want 1 retry on a second connection", st.retries.Load(), st.dialed.Load())
	}
}

func TestIdleConnectionsExpire(t *testing.T) {
	s := startServer(t, time.Minute)
	st := &stats{errs: map[string]int{}, failedBySecond: map[int]int{}, start: time.Now()}
	tr := newTransport(s.addr, 30*time.Millisecond, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tr.run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if _, err := tr.query(new(dns.Msg).SetQuestion("known.example.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		return len(tr.idle) == 0, nil
	})
	if err != nil {
		t.Fatal("the idle connection was not closed after expire")
	}
}

// With a ramp, the caches start over it rather than all within their first
// period: fewer queries are sent in the same time, and all are answered.
func TestFanInRamp(t *testing.T) {
	s := startServer(t, time.Minute)
	c := config{server: s.addr, caches: 8, rate: 20, duration: time.Second, ramp: 800 * time.Millisecond,
		expire: defaultExpire, names: []string{"known.example"}}
	st := run(context.Background(), c)
	if st.failed.Load() != 0 || st.answered.Load() != st.sent.Load() {
		t.Fatalf("sent %d answered %d failed %d", st.sent.Load(), st.answered.Load(), st.failed.Load())
	}
	if full := int64(c.caches * c.rate); st.sent.Load() >= full {
		t.Errorf("sent %d with an 800 ms ramp, want fewer than the %d of caches all started at once", st.sent.Load(), full)
	}
}
