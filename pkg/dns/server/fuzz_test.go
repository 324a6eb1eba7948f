package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

// FuzzServeDNS feeds arbitrary packets to the handler the way the server
// does: a packet that does not unpack, or has no question, never reaches it.
// Every packet that does must get a reply that packs, with the query's ID.
func FuzzServeDNS(f *testing.F) {
	for _, tc := range answerCases {
		b, _ := tc.Msg().Pack()
		f.Add(b)
	}
	for _, q := range []*dns.Msg{
		query("big.ns1.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(600, true) }),
		query("*.*.svc.cluster.local.", dns.TypeANY, nil),
		query("_http._tcp.*.*.svc.cluster.local.", dns.TypeSRV, nil),
		query("fd00--0.ns1.pod.cluster.local.", dns.TypeAAAA, nil),
	} {
		b, _ := q.Pack()
		f.Add(b)
	}
	h := newTestHandler(buildSnapshot(testConfig(), bigFixture(40)))
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil || len(req.Question) == 0 {
			return
		}
		for _, udp := range []bool{true, false} {
			w := dnstest.NewRecorder(udp)
			h.ServeDNS(w, req)
			if w.Msg == nil {
				t.Fatalf("no reply to %v", req)
			}
			if w.Msg.Id != req.Id {
				t.Fatalf("reply id %d, query id %d", w.Msg.Id, req.Id)
			}
			if udp && len(w.Wire) > 4096 {
				t.Fatalf("UDP reply of %d bytes", len(w.Wire))
			}
		}
	})
}
