package server

import (
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

func BenchmarkServeDNS(b *testing.B) {
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	for _, q := range []*dns.Msg{
		query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil),
		query("_http._tcp.hl.ns1.svc.cluster.local.", dns.TypeSRV, nil),
		query("1.0.254.10.in-addr.arpa.", dns.TypePTR, nil),
		query("nope.default.svc.cluster.local.", dns.TypeA, nil),
	} {
		b.Run(dns.TypeToString[q.Question[0].Qtype]+"/"+q.Question[0].Name, func(b *testing.B) {
			w := discard{dnstest.NewRecorder(true)}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeDNS(w, q)
			}
		})
	}
}

// discard is a UDP-shaped ResponseWriter that drops the reply unread.
type discard struct{ *dnstest.Recorder }

func (discard) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkFastReply is the UDP read loop's work per plain query, from request
// bytes to reply bytes.
func BenchmarkFastReply(b *testing.B) {
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	out := make([]byte, maxUDPSize)
	for _, q := range []*dns.Msg{
		query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil),
		query("_http._tcp.hl.ns1.svc.cluster.local.", dns.TypeSRV, nil),
		query("1.0.254.10.in-addr.arpa.", dns.TypePTR, nil),
		query("nope.default.svc.cluster.local.", dns.TypeA, nil),
	} {
		req, _ := q.Pack()
		b.Run(dns.TypeToString[q.Question[0].Qtype]+"/"+q.Question[0].Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := h.fastReply(req, out[:0], false, time.Time{}); !ok {
					b.Fatal("not answered on the fast path")
				}
			}
		})
	}
}
