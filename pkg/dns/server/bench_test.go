package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
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

// benchCluster returns n Services shaped like the benchmark harness's
// cluster (hack/bench): 80% ClusterIP with two named ports, 10% headless with
// three endpoints, 10% ExternalName, over 10 namespaces.
func benchCluster(n int) []fixtureService {
	out := make([]fixtureService, n)
	for i := range out {
		s := records.Service{Namespace: fmt.Sprintf("ns%d", i%10), Name: fmt.Sprintf("svc-%d", i)}
		var sets []records.EndpointSet
		switch i % 10 {
		case 8:
			s.Kind = records.Headless
			set := records.EndpointSet{Ports: []records.Port{tcp("http", 8080)}}
			for j := range 3 {
				set.Endpoints = append(set.Endpoints, ep("", true, fmt.Sprintf("10.%d.%d.%d", 100+j, i>>8&0xff, i&0xff)))
			}
			sets = []records.EndpointSet{set}
		case 9:
			s.Kind = records.ExternalName
			s.ExternalName = fmt.Sprintf("svc-%d.example.com", i)
		default:
			s.ClusterIPs = ips(fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff))
			s.Ports = []records.Port{tcp("http", 80), tcp("https", 443)}
		}
		out[i] = fixtureService{svc: s, sets: sets}
	}
	return out
}

// BenchmarkWorstQuery is what the most expensive queries cost at 10,000 and
// 50,000 Services, on each path a query can take: "udp" as the UDP read
// loop answers (the fast path, else ServeDNS), "tcp" through ServeDNS over
// TCP, "general" the general path alone (where a query the fast path does
// not take, such as one with an unusual class, goes). Each must stay
// within ~50 µs and bounded memory, however large the cluster.
func BenchmarkWorstQuery(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		h := newTestHandler(buildSnapshot(testConfig(), benchCluster(n)))
		for _, q := range []struct {
			name  string
			qtype uint16
		}{
			{"*.*.svc.cluster.local.", dns.TypeA},
			{"*.*.svc.cluster.local.", dns.TypeSRV},
			{"*.*.svc.cluster.local.", dns.TypeAAAA}, // no AAAA anywhere
			{"*.*.svc.cluster.local.", dns.TypeANY},
			{"*.*.*.svc.cluster.local.", dns.TypeA},
			{"*.ns3.svc.cluster.local.", dns.TypeA},
			{"svc-5.*.svc.cluster.local.", dns.TypeA},
			{"_http._tcp.*.*.svc.cluster.local.", dns.TypeSRV},
			{"_nope._tcp.*.*.svc.cluster.local.", dns.TypeSRV}, // matches nothing
			{"*.svc.cluster.local.", dns.TypeA},
			{"svc-8.ns8.svc.cluster.local.", dns.TypeANY},
			{"svc-9.ns9.svc.cluster.local.", dns.TypeA}, // a CNAME, not followed
			{"svc-1.ns1.svc.cluster.local.", dns.TypeA},
		} {
			m := query(q.name, q.qtype, func(m *dns.Msg) { m.SetEdns0(1232, false) })
			req, _ := m.Pack()
			out := make([]byte, maxUDPSize)
			for _, path := range []string{"udp", "tcp", "general"} {
				b.Run(fmt.Sprintf("%d/%s/%s/%s", n, path, dns.TypeToString[q.qtype], q.name), func(b *testing.B) {
					w := discard{dnstest.NewRecorder(path != "tcp")}
					b.ReportAllocs()
					for b.Loop() {
						switch path {
						case "udp":
							if _, ok := h.fastReply(req, out[:0], false, time.Now()); !ok {
								h.ServeDNS(w, m)
							}
						case "tcp":
							h.ServeDNS(w, m)
						default:
							h.serveGeneral(w, m, true, time.Now())
						}
					}
				})
			}
		}
	}
}
