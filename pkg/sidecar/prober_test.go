package sidecar

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// get fetches url and returns the status code and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// decodeStatus checks that body is a JSON object with exactly the
// original's field names, and decodes it.
func decodeStatus(t *testing.T, body string) Status {
	t.Helper()
	var fields map[string]any
	if err := json.Unmarshal([]byte(body), &fields); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	var names []string
	for k := range fields {
		names = append(names, k)
	}
	if len(fields) != 3 || fields["IsOk"] == nil || fields["LatencySeconds"] == nil || fields["Err"] == nil {
		t.Fatalf("body %q has fields %v, want exactly IsOk, LatencySeconds, Err", body, names)
	}
	var s Status
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestProbeHealthcheck probes a real DNS server every 100ms through the
// HTTP handler: healthy, stopped, back again.
func TestProbeHealthcheck(t *testing.T) {
	srv := startDNS(t, "127.0.0.1:0", &answer{})
	reg := prometheus.NewRegistry()
	m, err := NewProbeMetrics(reg, "kubedns", []string{"kubedns"})
	if err != nil {
		t.Fatal(err)
	}
	probe := Probe{Label: "kubedns", Server: srv.addr, Name: "kubernetes.default.svc.cluster.local.", Interval: 100 * time.Millisecond, Type: dns.TypeSRV}
	p := NewProber(probe, m, Clock{})
	web := httptest.NewServer(NewHandler([]*Prober{p}, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), "/metrics"))
	defer web.Close()
	url := web.URL + "/healthcheck/kubedns"

	code, body := get(t, url)
	if s := decodeStatus(t, body); code != http.StatusServiceUnavailable || s != (Status{Err: "waiting for first probe"}) {
		t.Errorf("before the first probe: %d %+v, want 503 waiting for first probe", code, s)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	eventually(t, 10*time.Second, "200 from a healthy server", func() bool { code, _ := get(t, url); return code == http.StatusOK })
	_, body = get(t, url)
	if s := decodeStatus(t, body); !s.IsOk || s.Err != "" || s.LatencySeconds <= 0 {
		t.Errorf("healthy: %+v", s)
	}

	srv.stop()
	stoppedAt, before := time.Now(), p.attempts.Load()
	eventually(t, 10*time.Second, "503 after the server stopped", func() bool {
		code, _ := get(t, url)
		return code == http.StatusServiceUnavailable
	})
	// Within two intervals: the first or second probe after the stop.
	if n := p.attempts.Load() - before; n > 2 {
		t.Errorf("503 came after %d probes (%v), want at most 2", n, time.Since(stoppedAt))
	}
	_, body = get(t, url)
	if s := decodeStatus(t, body); s.IsOk || !strings.Contains(s.Err, srv.addr) {
		t.Errorf("stopped: %+v, want an error naming %s", s, srv.addr)
	}
	if n := testutil.ToFloat64(m.errors.WithLabelValues("kubedns")); n < 1 {
		t.Errorf("probe_errors_total = %v, want >= 1", n)
	}

	startDNS(t, srv.addr, &answer{})
	eventually(t, 10*time.Second, "200 once the server is back", func() bool { code, _ := get(t, url); return code == http.StatusOK })

	if code, _ := get(t, web.URL+"/healthcheck/dnsmasq"); code != http.StatusNotFound {
		t.Errorf("unknown label: %d, want 404", code)
	}
	code, body = get(t, web.URL+"/metrics")
	for _, want := range []string{`kubedns_probe_latency_seconds_count{probe="kubedns"}`, `kubedns_probe_kubedns_latency_ms_count`, `kubedns_probe_errors_total{probe="kubedns"}`, `kubedns_probe_kubedns_errors`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics (%d) lacks %s", code, want)
		}
	}
}

// TestProbeOutcomes checks what counts as success, against servers that
// misbehave in different ways.
func TestProbeOutcomes(t *testing.T) {
	reply := func(f func(q, m *dns.Msg, tcp bool)) dns.HandlerFunc {
		return func(w dns.ResponseWriter, q *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(q)
			f(q, m, w.RemoteAddr().Network() == "tcp")
			_ = w.WriteMsg(m)
		}
	}
	tests := []struct {
		name    string
		handler dns.Handler
		ok      bool
		err     string
	}{
		{name: "answer", handler: &answer{}, ok: true},
		{name: "refused", handler: reply(func(_, m *dns.Msg, _ bool) { m.Rcode = dns.RcodeRefused }), err: "answered REFUSED"},
		{name: "nxdomain", handler: reply(func(_, m *dns.Msg, _ bool) { m.Rcode = dns.RcodeNameError }), err: "answered NXDOMAIN"},
		{name: "servfail with records", handler: reply(func(q, m *dns.Msg, _ bool) {
			m.Rcode = dns.RcodeServerFailure
			m.Answer = []dns.RR{record(q.Question[0])}
		}), err: "answered SERVFAIL"},
		{name: "no records", handler: reply(func(_, _ *dns.Msg, _ bool) {}), err: "answered no records for kubernetes.default.svc.cluster.local. SRV"},
		{name: "truncated over UDP", handler: reply(func(q, m *dns.Msg, tcp bool) {
			if tcp {
				m.Answer = []dns.RR{record(q.Question[0])}
			} else {
				m.Truncated = true
			}
		}), ok: true},
		{name: "truncated over TCP too", handler: reply(func(_, m *dns.Msg, _ bool) { m.Truncated = true }), err: "answered no records"},
		{name: "silent", handler: dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}), err: "no answer from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startDNS(t, "127.0.0.1:0", tt.handler)
			p := NewProber(Probe{Label: "x", Server: srv.addr, Name: "kubernetes.default.svc.cluster.local.", Interval: 400 * time.Millisecond, Type: dns.TypeSRV}, nil, Clock{})
			p.probeOnce(context.Background())
			s, healthy := p.Status()
			if s.IsOk != tt.ok || healthy != tt.ok || !strings.Contains(s.Err, tt.err) || (tt.ok && s.Err != "") {
				t.Errorf("got %+v healthy=%v, want ok=%v err containing %q", s, healthy, tt.ok, tt.err)
			}
		})
	}
}

// TestProbeQuery checks the question sent: the name, the type, RD set.
func TestProbeQuery(t *testing.T) {
	for _, typ := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeANY, dns.TypeSRV} {
		a := &answer{}
		srv := startDNS(t, "127.0.0.1:0", a)
		p := NewProber(Probe{Label: "x", Server: srv.addr, Name: "Example.COM.", Interval: time.Second, Type: typ}, nil, Clock{})
		p.probeOnce(context.Background())
		q := a.lastQuery()
		if q == nil || !q.RecursionDesired || len(q.Question) != 1 ||
			q.Question[0] != (dns.Question{Name: "Example.COM.", Qtype: typ, Qclass: dns.ClassINET}) {
			t.Errorf("%s: query %v", dns.Type(typ), q)
		}
		if s, ok := p.Status(); !ok {
			t.Errorf("%s: %+v", dns.Type(typ), s)
		}
	}
}

// TestProberSchedule runs the loop on a fake clock: a random first delay
// below the interval, then one probe per interval whatever the latency.
func TestProberSchedule(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := newFakeClock(4, cancel)
	var queries atomic.Int64
	srv := startDNS(t, "127.0.0.1:0", dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		queries.Add(1)
		fc.advance(30 * time.Millisecond) // the probe's latency, on the fake clock
		(&answer{}).ServeDNS(w, q)
	}))
	interval := 5 * time.Second
	p := NewProber(Probe{Label: "x", Server: srv.addr, Name: "a.", Interval: interval, Type: dns.TypeA}, nil, fc.clock())
	p.Run(ctx)

	sleeps, jitters := fc.recorded()
	if !reflect.DeepEqual(jitters, []time.Duration{interval}) {
		t.Errorf("jitter asked for %v, want [%v]", jitters, interval)
	}
	want := []time.Duration{interval / 4, interval - 30*time.Millisecond, interval - 30*time.Millisecond, interval - 30*time.Millisecond}
	if !reflect.DeepEqual(sleeps, want) {
		t.Errorf("sleeps %v, want %v", sleeps, want)
	}
	if n := queries.Load(); n != 3 {
		t.Errorf("%d probes, want 3", n)
	}
	if s, ok := p.Status(); !ok || s.LatencySeconds != 0.03 {
		t.Errorf("status %+v, %v; want ok with 0.03s", s, ok)
	}
}

// TestProberStale checks that a success older than two intervals plus the
// timeout no longer counts.
func TestProberStale(t *testing.T) {
	fc := newFakeClock(0, nil)
	srv := startDNS(t, "127.0.0.1:0", &answer{})
	p := NewProber(Probe{Label: "x", Server: srv.addr, Name: "a.", Interval: 5 * time.Second, Type: dns.TypeA}, nil, fc.clock())
	p.probeOnce(context.Background())
	fc.advance(12 * time.Second)
	if s, ok := p.Status(); !ok || !s.IsOk {
		t.Errorf("12s after: %+v %v, want healthy", s, ok)
	}
	fc.advance(time.Millisecond)
	if s, ok := p.Status(); ok || s.IsOk || !strings.Contains(s.Err, "old, more than 12s") {
		t.Errorf("12.001s after: %+v %v, want stale", s, ok)
	}
}

// TestProberCancel checks that cancelling stops a probe waiting for an
// answer, and that the cancelled probe is not recorded.
func TestProberCancel(t *testing.T) {
	srv := startDNS(t, "127.0.0.1:0", dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) {}))
	reg := prometheus.NewRegistry()
	m, err := NewProbeMetrics(reg, "kubedns", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	p := NewProber(Probe{Label: "x", Server: srv.addr, Name: "a.", Interval: time.Hour, Type: dns.TypeA}, m, Clock{Jitter: func(time.Duration) time.Duration { return 0 }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	eventually(t, 10*time.Second, "the probe to start", func() bool { return p.attempts.Load() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second): // the probe's own timeout is 2s
		t.Fatal("Run did not return promptly after cancel")
	}
	if s, _ := p.Status(); s.Err != errWaiting {
		t.Errorf("status after a cancelled probe: %+v", s)
	}
	if n := testutil.ToFloat64(m.errors.WithLabelValues("x")); n != 0 {
		t.Errorf("errors = %v after a cancelled probe, want 0", n)
	}
}

func TestExchangeRefused(t *testing.T) {
	// A closed UDP port: the probe fails fast with the server's address.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	p := NewProber(Probe{Label: "x", Server: addr, Name: "a.", Interval: time.Second, Type: dns.TypeA}, nil, Clock{})
	p.probeOnce(context.Background())
	if s, ok := p.Status(); ok || !strings.HasPrefix(s.Err, "query "+addr) {
		t.Errorf("%+v", s)
	}
}
