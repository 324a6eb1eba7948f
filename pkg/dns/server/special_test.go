package server

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

func query(name string, qtype uint16, edit func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edit != nil {
		edit(m)
	}
	return m
}

func TestSpecialQueries(t *testing.T) {
	synced := newTestHandler(buildSnapshot(testConfig(), fixture()))
	unsynced := newTestHandler(nil)
	tests := []struct {
		name   string
		h      *Handler
		req    *dns.Msg
		rcode  int
		aa     bool
		answer int
	}{
		{name: "in-zone before sync is SERVFAIL", h: unsynced, req: query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil), rcode: dns.RcodeServerFailure},
		{name: "missing name before sync is SERVFAIL, not NXDOMAIN", h: unsynced, req: query("nope.default.svc.cluster.local.", dns.TypeA, nil), rcode: dns.RcodeServerFailure},
		{name: "reverse before sync is SERVFAIL", h: unsynced, req: query("1.0.254.10.in-addr.arpa.", dns.TypePTR, nil), rcode: dns.RcodeServerFailure},
		{name: "outside the zones before sync", h: unsynced, req: query("example.com.", dns.TypeA, nil), rcode: dns.RcodeRefused},
		{name: "NOTIFY is not implemented", h: synced, req: query("cluster.local.", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }), rcode: dns.RcodeNotImplemented},
		{name: "CHAOS class is refused", h: synced, req: query("version.bind.", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), rcode: dns.RcodeRefused},
		{name: "class ANY is served", h: synced, req: query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY }), aa: true, answer: 1},
		{name: "AXFR is refused", h: synced, req: query("cluster.local.", dns.TypeAXFR, nil), rcode: dns.RcodeRefused},
		{name: "EDNS version 1 gets BADVERS", h: synced, req: query("cluster.local.", dns.TypeSOA, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
		}), rcode: dns.RcodeBadVers},
		{name: "two questions are a format error", h: synced, req: query("cluster.local.", dns.TypeSOA, func(m *dns.Msg) {
			m.Question = append(m.Question, m.Question[0])
		}), rcode: dns.RcodeFormatError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := dnstest.NewRecorder(true)
			tt.h.ServeDNS(w, tt.req)
			if w.Msg == nil {
				t.Fatal("no reply")
			}
			if w.Msg.Rcode != tt.rcode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[w.Msg.Rcode], dns.RcodeToString[tt.rcode])
			}
			if w.Msg.Authoritative != tt.aa {
				t.Errorf("AA %v, want %v", w.Msg.Authoritative, tt.aa)
			}
			if len(w.Msg.Answer) != tt.answer {
				t.Errorf("%d answers, want %d", len(w.Msg.Answer), tt.answer)
			}
			if w.Msg.Id != tt.req.Id {
				t.Errorf("id %d, want %d", w.Msg.Id, tt.req.Id)
			}
		})
	}
}

func TestMalformedPacketsOverSockets(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), fixture())))
	good, _ := query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil).Pack()
	// A header announcing one question, followed by a truncated name.
	broken := append(append([]byte(nil), good[:12]...), 5, 'a', 'b')
	wire, err := rawUDP(addr, broken)
	if err != nil {
		t.Fatal(err)
	}
	resp := new(dns.Msg)
	if err := resp.Unpack(wire); err != nil {
		t.Fatal(err)
	}
	if resp.Rcode != dns.RcodeFormatError {
		t.Errorf("rcode %s, want FORMERR", dns.RcodeToString[resp.Rcode])
	}
	// The server still answers afterwards.
	resp, _, err = (&dns.Client{}).Exchange(query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil), addr)
	if err != nil || len(resp.Answer) != 1 {
		t.Fatalf("after a malformed packet: %v %v", resp, err)
	}
}

func rawUDP(addr string, b []byte) ([]byte, error) { return rawExchangeBytes("udp", addr, b) }

func TestPanicIsServfail(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg, "skydns", "skydns")
	h := NewHandler(Options{Domain: testDomain, Metrics: metrics, Snapshot: func() *records.Snapshot { panic("boom") }})
	w := dnstest.NewRecorder(true)
	h.ServeDNS(w, query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil))
	if w.Msg == nil || w.Msg.Rcode != dns.RcodeServerFailure {
		t.Fatalf("reply %v, want SERVFAIL", w.Msg)
	}
	if got := testutil.ToFloat64(metrics.panics); got != 1 {
		t.Errorf("panics_total %v, want 1", got)
	}
}

func TestMetricsCount(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := NewHandler(Options{Domain: testDomain, Metrics: NewMetrics(reg, "skydns", "skydns"),
		Snapshot: func() *records.Snapshot { return buildSnapshot(testConfig(), fixture()) }})
	for _, q := range []*dns.Msg{
		query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil),
		query("nope.default.svc.cluster.local.", dns.TypeA, nil),
		query("1.0.254.10.in-addr.arpa.", dns.TypePTR, nil),
		query("example.com.", dns.TypeA, nil),
		query("x.cluster.local.", 65000, nil),
	} {
		h.ServeDNS(dnstest.NewRecorder(true), q)
	}
	want := map[string]float64{
		`kubedns_dns_requests_total{rcode="NOERROR",type="A"}`:                    1,
		`kubedns_dns_requests_total{rcode="NXDOMAIN",type="A"}`:                   1,
		`kubedns_dns_requests_total{rcode="NOERROR",type="PTR"}`:                  1,
		`kubedns_dns_requests_total{rcode="REFUSED",type="A"}`:                    1,
		`kubedns_dns_requests_total{rcode="NXDOMAIN",type="other"}`:               1,
		`skydns_skydns_dns_request_count_total{system="auth"}`:                    3,
		`skydns_skydns_dns_request_count_total{system="reverse"}`:                 1,
		`skydns_skydns_dns_request_count_total{system="recursive"}`:               1,
		`skydns_skydns_dns_error_count_total{cause="nxdomain",system="auth"}`:     2,
		`skydns_skydns_dns_error_count_total{cause="refused",system="recursive"}`: 1,
	}
	got := gatherValues(t, reg)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestPodModes(t *testing.T) {
	pod := records.Pod{Namespace: "ns1", IP: ips("10.9.8.7")[0]}
	tests := []struct {
		mode  records.PodMode
		cases []dnstest.Case
	}{
		{mode: records.PodsVerified, cases: []dnstest.Case{
			{Name: "existing pod", Qname: "10-9-8-7.ns1.pod.cluster.local.", Qtype: dns.TypeA,
				Answer: []string{"10-9-8-7.ns1.pod.cluster.local. 30 IN A 10.9.8.7"}},
			{Name: "no such pod", Qname: "10-9-8-6.ns1.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
			{Name: "pod in another namespace", Qname: "10-9-8-7.default.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
			{Name: "namespace level", Qname: "ns1.pod.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
		}},
		{mode: records.PodsDisabled, cases: []dnstest.Case{
			{Name: "pod names off", Qname: "10-9-8-7.ns1.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
			{Name: "pod zone does not exist", Qname: "pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
		}},
	}
	for _, tt := range tests {
		c := testConfig()
		c.Pods = tt.mode
		h := newTestHandler(buildSnapshot(c, fixture(), pod))
		for _, tc := range tt.cases {
			t.Run(tt.mode.String()+"/"+tc.String(), func(t *testing.T) {
				w := dnstest.NewRecorder(true)
				h.ServeDNS(w, tc.Msg())
				if err := dnstest.Check(w.Msg, tc); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

func TestTTLFlag(t *testing.T) {
	c := testConfig()
	c.TTL = 5
	h := newTestHandler(buildSnapshot(c, fixture()))
	w := dnstest.NewRecorder(true)
	h.ServeDNS(w, query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil))
	if len(w.Msg.Answer) != 1 || w.Msg.Answer[0].Header().Ttl != 5 {
		t.Fatalf("answer %v, want TTL 5", w.Msg.Answer)
	}
	w = dnstest.NewRecorder(true)
	h.ServeDNS(w, query("nope.default.svc.cluster.local.", dns.TypeA, nil))
	if soa, ok := w.Msg.Ns[0].(*dns.SOA); !ok || soa.Hdr.Ttl != 5 || soa.Minttl != 5 {
		t.Fatalf("negative answer SOA %v, want TTL and minimum 5", w.Msg.Ns)
	}
}

func TestNegativeTTL(t *testing.T) {
	c := testConfig()
	neg := uint32(5)
	c.NegativeTTL = &neg
	h := newTestHandler(buildSnapshot(c, fixture()))
	w := dnstest.NewRecorder(true)
	h.ServeDNS(w, query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil))
	if len(w.Msg.Answer) != 1 || w.Msg.Answer[0].Header().Ttl != 30 {
		t.Fatalf("answer %v, want TTL 30", w.Msg.Answer)
	}
	for _, q := range []*dns.Msg{
		query("nope.default.svc.cluster.local.", dns.TypeA, nil),       // NXDOMAIN
		query("my-nginx.default.svc.cluster.local.", dns.TypeMX, nil),  // NODATA
		query("9.9.9.9.in-addr.arpa.", dns.TypePTR, nil),               // reverse NXDOMAIN
		query("My-Nginx.Default.svc.cluster.local.", dns.TypeTXT, nil), // NODATA, mixed case
		query("nope.default.svc.cluster.local.", dns.TypeA, ednsQuery), // with EDNS
	} {
		w = dnstest.NewRecorder(true)
		h.ServeDNS(w, q)
		if len(w.Msg.Ns) != 1 {
			t.Fatalf("%s: authority %v", q.Question[0].Name, w.Msg.Ns)
		}
		if soa, ok := w.Msg.Ns[0].(*dns.SOA); !ok || soa.Hdr.Ttl != 5 || soa.Minttl != 5 {
			t.Errorf("%s: negative answer SOA %v, want TTL and minimum 5", q.Question[0].Name, w.Msg.Ns)
		}
	}
}

func ednsQuery(m *dns.Msg) { m.SetEdns0(1232, false) }

// With --wildcards=false "*" is a label like any other: such names do not
// exist, on either path.
func TestWildcardsOff(t *testing.T) {
	h := NewHandler(Options{Domain: testDomain, Snapshot: func() *records.Snapshot { return buildSnapshot(testConfig(), fixture()) }})
	tc := dnstest.Case{Qname: "*.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}}
	for _, tcp := range []bool{false, true} {
		w := dnstest.NewRecorder(!tcp)
		h.ServeDNS(w, tc.Msg())
		if err := dnstest.Check(w.Msg, tc); err != nil {
			t.Errorf("tcp %v: %v", tcp, err)
		}
	}
	req, _ := tc.Msg().Pack()
	if _, ok := h.fastReply(req, make([]byte, 0, maxUDPSize), false, time.Now()); ok {
		t.Error("the fast path answered a wildcard with wildcards off")
	}
}

// A wildcard before the first wildcard view is SERVFAIL, as any query
// before the first snapshot.
func TestWildcardBeforeTheView(t *testing.T) {
	snap := buildSnapshot(testConfig(), fixture())
	h := NewHandler(Options{Domain: testDomain, Snapshot: func() *records.Snapshot { return snap },
		Wildcards: func() *records.Wildcards { return nil }})
	w := dnstest.NewRecorder(true)
	h.ServeDNS(w, query("*.default.svc.cluster.local.", dns.TypeA, nil))
	if w.Msg.Rcode != dns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[w.Msg.Rcode])
	}
}
