package server

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/dns/upstream"
)

// fakeUpstream is a real DNS server on loopback answering A queries with ip
// and PTR queries with host.example.
func fakeUpstream(t *testing.T, ip string) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		q := r.Question[0]
		switch q.Qtype {
		case dns.TypeA:
			rr, _ := dns.NewRR(q.Name + " 60 IN A " + ip)
			m.Answer = append(m.Answer, rr)
		case dns.TypePTR:
			rr, _ := dns.NewRR(q.Name + " 60 IN PTR host.example.")
			m.Answer = append(m.Answer, rr)
		default:
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: h}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestForwarding(t *testing.T) {
	up := fakeUpstream(t, "192.0.2.1")
	stub := fakeUpstream(t, "192.0.2.53")
	fx := append(fixture(),
		fixtureService{svc: records.Service{Namespace: "ns1", Name: "ext-stub", Kind: records.ExternalName, ExternalName: "db.acme.local"}})
	s := buildSnapshot(testConfig(), fx)
	resolver := upstream.New(upstream.Servers{Upstreams: []string{up}, Stubs: map[string][]string{"acme.local": {stub}}}, time.Second)
	h := NewHandler(Options{Domain: testDomain, Snapshot: func() *records.Snapshot { return s }, Upstream: resolver})
	cases := []dnstest.Case{
		{Name: "outside the zones", Qname: "example.com.", Qtype: dns.TypeA, NoAA: true,
			Answer: []string{"example.com. 60 IN A 192.0.2.1"}},
		{Name: "stub domain", Qname: "x.acme.local.", Qtype: dns.TypeA, NoAA: true,
			Answer: []string{"x.acme.local. 60 IN A 192.0.2.53"}},
		{Name: "unknown address", Qname: "9.9.9.9.in-addr.arpa.", Qtype: dns.TypePTR, NoAA: true,
			Answer: []string{"9.9.9.9.in-addr.arpa. 60 IN PTR host.example."}},
		{Name: "known address stays authoritative", Qname: "1.0.254.10.in-addr.arpa.", Qtype: dns.TypePTR,
			Answer: []string{"1.0.254.10.in-addr.arpa. 30 IN PTR kubernetes.default.svc.cluster.local."}},
		{Name: "ExternalName target resolved upstream", Qname: "ext.ns1.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []string{"ext.ns1.svc.cluster.local. 30 IN CNAME my.example.com.", "my.example.com. 60 IN A 192.0.2.1"}},
		{Name: "ExternalName target in a stub domain", Qname: "ext-stub.ns1.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []string{"ext-stub.ns1.svc.cluster.local. 30 IN CNAME db.acme.local.", "db.acme.local. 60 IN A 192.0.2.53"}},
		{Name: "ExternalName target that does not resolve keeps the CNAME", Qname: "ext.ns1.svc.cluster.local.", Qtype: dns.TypeTXT,
			Answer: []string{"ext.ns1.svc.cluster.local. 30 IN CNAME my.example.com."}},
	}
	for _, tc := range cases {
		t.Run(tc.String(), func(t *testing.T) {
			w := dnstest.NewRecorder(true)
			h.ServeDNS(w, tc.Msg())
			if err := dnstest.Check(w.Msg, tc); err != nil {
				t.Error(err)
			}
			if !w.Msg.RecursionAvailable {
				t.Error("RA not set with an upstream")
			}
		})
	}

	t.Run("every upstream down", func(t *testing.T) {
		down := upstream.New(upstream.Servers{Upstreams: []string{deadUDP(t), deadUDP(t)}}, time.Second)
		h := NewHandler(Options{Domain: testDomain, Snapshot: func() *records.Snapshot { return s }, Upstream: down})
		w := dnstest.NewRecorder(true)
		h.ServeDNS(w, query("example.com.", dns.TypeA, nil))
		if w.Msg.Rcode != dns.RcodeServerFailure {
			t.Errorf("rcode %s, want SERVFAIL", dns.RcodeToString[w.Msg.Rcode])
		}
		w = dnstest.NewRecorder(true)
		h.ServeDNS(w, query("ext.ns1.svc.cluster.local.", dns.TypeA, nil))
		if err := dnstest.Check(w.Msg, dnstest.Case{Answer: []string{"ext.ns1.svc.cluster.local. 30 IN CNAME my.example.com."}}); err != nil {
			t.Error(err)
		}
	})
}

func deadUDP(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}
