package sidecar

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/wait"
)

// dnsServer is a miekg DNS server on the UDP and TCP ports of one address.
type dnsServer struct {
	addr     string
	udp, tcp *dns.Server
}

// startDNS serves h on addr ("127.0.0.1:0" for any free port) over UDP and
// TCP, and stops it when the test ends.
func startDNS(t *testing.T, addr string, h dns.Handler) *dnsServer {
	t.Helper()
	var (
		pc  net.PacketConn
		ln  net.Listener
		err error
	)
	for range 20 {
		if pc, err = net.ListenPacket("udp", addr); err != nil {
			t.Fatalf("listen udp %s: %v", addr, err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatalf("listen tcp %s: %v", addr, err)
	}
	s := &dnsServer{
		addr: pc.LocalAddr().String(),
		udp:  &dns.Server{PacketConn: pc, Handler: h},
		tcp:  &dns.Server{Listener: ln, Handler: h},
	}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("the DNS server did not start")
		}
	}
	t.Cleanup(s.stop)
	return s
}

// stop shuts the server down; stopping twice is harmless.
func (s *dnsServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.udp.ShutdownContext(ctx)
	_ = s.tcp.ShutdownContext(ctx)
}

// answer replies to every question with one record of its type (an SRV for
// ANY), and remembers the last query.
type answer struct {
	mu   sync.Mutex
	last *dns.Msg
}

func (a *answer) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	a.mu.Lock()
	a.last = q.Copy()
	a.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(q)
	m.Answer = append(m.Answer, record(q.Question[0]))
	_ = w.WriteMsg(m)
}

func (a *answer) lastQuery() *dns.Msg {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

func record(q dns.Question) dns.RR {
	hdr := dns.RR_Header{Name: q.Name, Rrtype: q.Qtype, Class: dns.ClassINET, Ttl: 30}
	switch q.Qtype {
	case dns.TypeA:
		return &dns.A{Hdr: hdr, A: net.ParseIP("192.0.2.1")}
	case dns.TypeAAAA:
		return &dns.AAAA{Hdr: hdr, AAAA: net.ParseIP("2001:db8::1")}
	}
	hdr.Rrtype = dns.TypeSRV
	return &dns.SRV{Hdr: hdr, Priority: 10, Weight: 100, Port: 443, Target: "kubernetes.default.svc.cluster.local."}
}

// fakeClock is a Clock whose time only moves when Sleep or advance is
// called. Sleep records its argument and cancels the run after maxSleeps.
type fakeClock struct {
	mu        sync.Mutex
	now       time.Time
	sleeps    []time.Duration
	jitters   []time.Duration
	maxSleeps int
	cancel    context.CancelFunc
}

func newFakeClock(maxSleeps int, cancel context.CancelFunc) *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), maxSleeps: maxSleeps, cancel: cancel}
}

func (f *fakeClock) clock() Clock {
	return Clock{
		Now: func() time.Time {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.now
		},
		Sleep: func(ctx context.Context, d time.Duration) bool {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sleeps = append(f.sleeps, d)
			f.now = f.now.Add(d)
			if f.maxSleeps > 0 && len(f.sleeps) >= f.maxSleeps {
				f.cancel()
			}
			return ctx.Err() == nil
		},
		Jitter: func(d time.Duration) time.Duration {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.jitters = append(f.jitters, d)
			return d / 4
		},
	}
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeClock) recorded() (sleeps, jitters []time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...), append([]time.Duration(nil), f.jitters...)
}

// eventually polls cond every 10ms until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, within, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out after %v waiting for %s", within, what)
	}
}

// lockedBuffer collects a child process's output safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
