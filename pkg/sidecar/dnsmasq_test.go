package sidecar

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// chaosServer answers dnsmasq's CHAOS TXT statistics with values the test
// sets; a name without a value gets REFUSED.
type chaosServer struct {
	mu      sync.Mutex
	values  map[string]string
	queries int
}

func (c *chaosServer) set(values map[string]string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.values = values
}

func (c *chaosServer) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	c.mu.Lock()
	c.queries++
	v, ok := c.values[q.Question[0].Name]
	c.mu.Unlock()
	m := new(dns.Msg)
	m.SetReply(q)
	if !ok || q.Question[0].Qclass != dns.ClassCHAOS || q.Question[0].Qtype != dns.TypeTXT {
		m.Rcode = dns.RcodeRefused
	} else {
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: []string{v}}}
	}
	_ = w.WriteMsg(m)
}

// stats builds the server's answers: hits, misses, evictions, insertions
// and the cache size.
func stats(h, m, e, i, size int) map[string]string {
	return map[string]string{
		"hits.bind.": strconv.Itoa(h), "misses.bind.": strconv.Itoa(m), "evictions.bind.": strconv.Itoa(e),
		"insertions.bind.": strconv.Itoa(i), "cachesize.bind.": strconv.Itoa(size),
	}
}

// exported reads every dnsmasq metric from reg, by full name.
func exported(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		m := mf.GetMetric()[0]
		switch {
		case m.GetCounter() != nil:
			out[mf.GetName()] = m.GetCounter().GetValue()
		case m.GetGauge() != nil:
			out[mf.GetName()] = m.GetGauge().GetValue()
		}
	}
	return out
}

// TestDnsmasqCounters drives a fake dnsmasq through two restarts and a
// failure: every exported counter only goes up, and continues from where
// it was rather than jumping.
func TestDnsmasqCounters(t *testing.T) {
	fake := &chaosServer{}
	srv := startDNS(t, "127.0.0.1:0", fake)
	d := NewDnsmasqMetrics(srv.addr, "kubedns", Clock{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)

	if got := exported(t, reg); len(got) != 2 || got["kubedns_dnsmasq_errors"] != 0 || got["kubedns_dnsmasq_errors_total"] != 0 {
		t.Errorf("before any poll: %v, want only the error counters at 0", got)
	}

	steps := []struct {
		name                             string
		raw                              map[string]string // nil: the server is down
		fail                             bool
		hits, misses, evictions, inserts float64
		size, maxSize, errors            float64
	}{
		{name: "first poll", raw: stats(10, 4, 1, 6, 150), hits: 10, misses: 4, evictions: 1, inserts: 6, size: 150, maxSize: 150},
		{name: "growing", raw: stats(25, 9, 1, 12, 150), hits: 25, misses: 9, evictions: 1, inserts: 12, size: 150, maxSize: 150},
		{name: "restart", raw: stats(5, 2, 0, 3, 1000), hits: 30, misses: 11, evictions: 1, inserts: 15, size: 1000, maxSize: 1000},
		{name: "after restart", raw: stats(7, 2, 0, 4, 1000), hits: 32, misses: 11, evictions: 1, inserts: 16, size: 1000, maxSize: 1000},
		{name: "failure keeps values", raw: map[string]string{"hits.bind.": "1"}, hits: 32, misses: 11, evictions: 1, inserts: 16, size: 1000, maxSize: 1000, errors: 1, fail: true},
		{name: "not a number", raw: map[string]string{"hits.bind.": "x", "misses.bind.": "1"}, hits: 32, misses: 11, evictions: 1, inserts: 16, size: 1000, maxSize: 1000, errors: 2, fail: true},
		{name: "second restart, smaller cache", raw: stats(3, 1, 0, 1, 100), hits: 35, misses: 12, evictions: 1, inserts: 17, size: 100, maxSize: 1000, errors: 2},
		{name: "down", raw: nil, hits: 35, misses: 12, evictions: 1, inserts: 17, size: 100, maxSize: 1000, errors: 3, fail: true},
	}
	prev := map[string]float64{}
	for _, st := range steps {
		if st.raw == nil {
			srv.stop()
		} else {
			fake.set(st.raw)
		}
		err := d.Poll(context.Background(), time.Second)
		if (err != nil) != st.fail {
			t.Errorf("%s: Poll error %v", st.name, err)
		}
		got := exported(t, reg)
		want := map[string]float64{
			"kubedns_dnsmasq_hits": st.hits, "kubedns_dnsmasq_hits_total": st.hits,
			"kubedns_dnsmasq_misses": st.misses, "kubedns_dnsmasq_misses_total": st.misses,
			"kubedns_dnsmasq_evictions": st.evictions, "kubedns_dnsmasq_evictions_total": st.evictions,
			"kubedns_dnsmasq_insertions": st.inserts, "kubedns_dnsmasq_insertions_total": st.inserts,
			"kubedns_dnsmasq_cache_size": st.size, "kubedns_dnsmasq_max_size": st.maxSize,
			"kubedns_dnsmasq_errors": st.errors, "kubedns_dnsmasq_errors_total": st.errors,
		}
		for name, w := range want {
			if got[name] != w {
				t.Errorf("%s: %s = %v, want %v", st.name, name, got[name], w)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: exported %d metrics, want %d", st.name, len(got), len(want))
		}
		for name, v := range got {
			if name != "kubedns_dnsmasq_cache_size" && v < prev[name] {
				t.Errorf("%s: counter %s went back from %v to %v", st.name, name, prev[name], v)
			}
		}
		prev = got
	}
}

func TestQueryStatErrors(t *testing.T) {
	txt := func(name string, s ...string) dns.RR {
		return &dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: s}
	}
	tests := []struct {
		name   string
		answer func(q *dns.Msg) *dns.Msg
		want   string
	}{
		{name: "refused", answer: func(q *dns.Msg) *dns.Msg { return new(dns.Msg).SetRcode(q, dns.RcodeRefused) }, want: "answer REFUSED"},
		{name: "empty", answer: func(q *dns.Msg) *dns.Msg { return new(dns.Msg).SetReply(q) }, want: "0 answer records, want 1"},
		{name: "two records", answer: func(q *dns.Msg) *dns.Msg {
			m := new(dns.Msg).SetReply(q)
			m.Answer = []dns.RR{txt("hits.bind.", "1"), txt("hits.bind.", "2")}
			return m
		}, want: "2 answer records"},
		{name: "two strings", answer: func(q *dns.Msg) *dns.Msg {
			m := new(dns.Msg).SetReply(q)
			m.Answer = []dns.RR{txt("hits.bind.", "1", "2")}
			return m
		}, want: "want one TXT string"},
		{name: "negative", answer: func(q *dns.Msg) *dns.Msg {
			m := new(dns.Msg).SetReply(q)
			m.Answer = []dns.RR{txt("hits.bind.", "-1")}
			return m
		}, want: `"-1" is not a count`},
		{name: "not TXT", answer: func(q *dns.Msg) *dns.Msg {
			m := new(dns.Msg).SetReply(q)
			m.Answer = []dns.RR{record(dns.Question{Name: "hits.bind.", Qtype: dns.TypeA})}
			return m
		}, want: "want one TXT string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startDNS(t, "127.0.0.1:0", dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) { _ = w.WriteMsg(tt.answer(q)) }))
			_, err := queryStat(context.Background(), srv.addr, "hits.bind.")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "hits.bind.: ") {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestDnsmasqRun checks the poll loop on a fake clock: a poll at once, then
// one per interval.
func TestDnsmasqRun(t *testing.T) {
	fake := &chaosServer{}
	fake.set(stats(1, 2, 3, 4, 5))
	srv := startDNS(t, "127.0.0.1:0", fake)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := newFakeClock(3, cancel)
	d := NewDnsmasqMetrics(srv.addr, "kubedns", fc.clock())
	d.Run(ctx, 5*time.Second)

	sleeps, _ := fc.recorded()
	if len(sleeps) != 3 || sleeps[0] != 5*time.Second {
		t.Errorf("sleeps %v, want 3 of 5s", sleeps)
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	if fake.queries != 15 {
		t.Errorf("%d queries, want 3 polls of 5", fake.queries)
	}
	if n := testutil.CollectAndCount(d); n != 12 {
		t.Errorf("%d metrics, want 12", n)
	}
}
