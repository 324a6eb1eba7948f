package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

var (
	soaCluster = dnstest.SOA("cluster.local.", testDomain, testSerial)
	soaV4      = dnstest.SOA("in-addr.arpa.", testDomain, testSerial)
	soaV6      = dnstest.SOA("ip6.arpa.", testDomain, testSerial)
)

// answerCases covers every record rule of the schema, the negative answers included.
var answerCases = []dnstest.Case{
	// 1. ClusterIP Services, dual-stack.
	{Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Qname: "kubernetes.default.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.254.0.1"}},
	{Qname: "dual.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"dual.ns1.svc.cluster.local. 30 IN A 10.0.0.10"}},
	{Qname: "dual.ns1.svc.cluster.local.", Qtype: dns.TypeAAAA,
		Answer: []string{"dual.ns1.svc.cluster.local. 30 IN AAAA fd00::10"}},
	{Name: "v4-only service has no AAAA", Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeAAAA, Ns: []string{soaCluster}},
	// 2. Named ports and SRV on the bare name.
	{Qname: "_http._tcp.dual.ns1.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"_http._tcp.dual.ns1.svc.cluster.local. 30 IN SRV 0 100 80 dual.ns1.svc.cluster.local."},
		Extra:  []string{"dual.ns1.svc.cluster.local. 30 IN A 10.0.0.10", "dual.ns1.svc.cluster.local. 30 IN AAAA fd00::10"}},
	{Qname: "kubernetes.default.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"kubernetes.default.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."},
		Extra:  []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.254.0.1"}},
	{Name: "bare SRV includes unnamed ports", Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"my-nginx.default.svc.cluster.local. 30 IN SRV 0 100 80 my-nginx.default.svc.cluster.local."},
		Extra:  []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Name: "UDP and TCP ports with one number give one SRV", Qname: "kube-dns.kube-system.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."},
		Extra:  []string{"kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.2"}},
	{Qname: "_dns._udp.kube-dns.kube-system.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"_dns._udp.kube-dns.kube-system.svc.cluster.local. 30 IN SRV 0 100 53 kube-dns.kube-system.svc.cluster.local."},
		Extra:  []string{"kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.2"}},
	{Name: "wrong protocol for a named port", Qname: "_dns._tcp.kube-dns.kube-system.svc.cluster.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "proto level is an empty non-terminal", Qname: "_tcp.dual.ns1.svc.cluster.local.", Qtype: dns.TypeSRV, Ns: []string{soaCluster}},
	// 3. PTR for ClusterIPs.
	{Qname: "1.0.254.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.254.10.in-addr.arpa. 30 IN PTR kubernetes.default.svc.cluster.local."}},
	{Qname: "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 30 IN PTR dual.ns1.svc.cluster.local."}},
	{Name: "unknown address", Qname: "9.9.9.9.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []string{soaV4}},
	{Name: "reverse empty non-terminal", Qname: "254.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []string{soaV4}},
	{Name: "reverse v6 apex", Qname: "ip6.arpa.", Qtype: dns.TypePTR, Ns: []string{soaV6}},
	// 4. Headless Services.
	{Qname: "hl.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"hl.ns1.svc.cluster.local. 30 IN A 10.1.0.1", "hl.ns1.svc.cluster.local. 30 IN A 10.1.0.2"}},
	{Qname: "hl.ns1.svc.cluster.local.", Qtype: dns.TypeAAAA,
		Answer: []string{"hl.ns1.svc.cluster.local. 30 IN AAAA fd00::1:1"}},
	{Qname: "web-0.hl.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"web-0.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.1"}},
	{Name: "hostname carried by two slices", Qname: "web-0.hl.ns1.svc.cluster.local.", Qtype: dns.TypeAAAA,
		Answer: []string{"web-0.hl.ns1.svc.cluster.local. 30 IN AAAA fd00::1:1"}},
	{Name: "endpoint without hostname", Qname: "10-1-0-2.hl.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"10-1-0-2.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.2"}},
	{Name: "not-ready endpoint", Qname: "web-3.hl.ns1.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Qname: "_http._tcp.hl.ns1.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{
			"_http._tcp.hl.ns1.svc.cluster.local. 30 IN SRV 0 50 8080 web-0.hl.ns1.svc.cluster.local.",
			"_http._tcp.hl.ns1.svc.cluster.local. 30 IN SRV 0 50 8080 10-1-0-2.hl.ns1.svc.cluster.local."},
		Extra: []string{
			"web-0.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.1", "web-0.hl.ns1.svc.cluster.local. 30 IN AAAA fd00::1:1",
			"10-1-0-2.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.2"}},
	{Qname: "1.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.1.10.in-addr.arpa. 30 IN PTR web-0.hl.ns1.svc.cluster.local."}},
	{Name: "PTR of an endpoint without hostname", Qname: "2.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"2.0.1.10.in-addr.arpa. 30 IN PTR 10-1-0-2.hl.ns1.svc.cluster.local."}},
	{Name: "no PTR for a not-ready endpoint", Qname: "3.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []string{soaV4}},
	{Name: "publishNotReadyAddresses", Qname: "hl-pub.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"hl-pub.ns1.svc.cluster.local. 30 IN A 10.2.0.1"}},
	{Name: "headless without ready endpoints", Qname: "hl-empty.ns1.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	// 5. ExternalName.
	{Qname: "ext.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"ext.ns1.svc.cluster.local. 30 IN CNAME my.example.com."}},
	{Qname: "ext.ns1.svc.cluster.local.", Qtype: dns.TypeCNAME,
		Answer: []string{"ext.ns1.svc.cluster.local. 30 IN CNAME my.example.com."}},
	{Name: "target inside the domain is followed", Qname: "ext-in.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"ext-in.ns1.svc.cluster.local. 30 IN CNAME dual.ns1.svc.cluster.local.", "dual.ns1.svc.cluster.local. 30 IN A 10.0.0.10"}},
	{Name: "CNAME loop ends", Qname: "ext-loop.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"ext-loop.ns1.svc.cluster.local. 30 IN CNAME ext-loop.ns1.svc.cluster.local."}},
	{Name: "IP-valued externalName", Qname: "ext-ip.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"ext-ip.ns1.svc.cluster.local. 30 IN A 1.2.3.4"}},
	// 6. Pods (insecure).
	{Qname: "10-9-8-7.ns1.pod.cluster.local.", Qtype: dns.TypeA, Answer: []string{"10-9-8-7.ns1.pod.cluster.local. 30 IN A 10.9.8.7"}},
	{Qname: "fd00--7.ns1.pod.cluster.local.", Qtype: dns.TypeAAAA, Answer: []string{"fd00--7.ns1.pod.cluster.local. 30 IN AAAA fd00::7"}},
	{Name: "pod of wrong family", Qname: "10-9-8-7.ns1.pod.cluster.local.", Qtype: dns.TypeAAAA, Ns: []string{soaCluster}},
	{Name: "pod in a missing namespace", Qname: "10-9-8-7.nope.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "not an address", Qname: "10-9-8.ns1.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "below a pod name", Qname: "x.10-9-8-7.ns1.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	// 7. Schema version.
	{Qname: "dns-version.cluster.local.", Qtype: dns.TypeTXT, Answer: []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`}},
	// 8. Apex.
	{Qname: "cluster.local.", Qtype: dns.TypeSOA, Answer: []string{soaCluster}},
	{Qname: "cluster.local.", Qtype: dns.TypeNS, Answer: []string{"cluster.local. 30 IN NS ns.dns.cluster.local."},
		Extra: []string{"ns.dns.cluster.local. 30 IN A 10.254.0.2"}},
	{Qname: "ns.dns.cluster.local.", Qtype: dns.TypeA, Answer: []string{"ns.dns.cluster.local. 30 IN A 10.254.0.2"}},
	// 9. Negative answers and empty non-terminals.
	{Name: "apex A", Qname: "cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Qname: "svc.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Qname: "pod.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Qname: "dns.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Qname: "ns1.svc.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Name: "namespace without services", Qname: "empty-ns.svc.cluster.local.", Qtype: dns.TypeA, Ns: []string{soaCluster}},
	{Name: "missing namespace", Qname: "nope.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "missing service", Qname: "nope.default.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "missing service in missing namespace", Qname: "a.nope.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "name exists, no TXT", Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeTXT, Ns: []string{soaCluster}},
	{Name: "CNAME query on a ClusterIP service", Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeCNAME, Ns: []string{soaCluster}},
	{Name: "unknown label under the domain", Qname: "foo.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	// 10. ANY and case.
	{Name: "ANY answers every record", Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeANY,
		Answer: []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162",
			"my-nginx.default.svc.cluster.local. 30 IN SRV 0 100 80 my-nginx.default.svc.cluster.local."},
		Extra: []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Name: "ANY on an empty non-terminal", Qname: "svc.cluster.local.", Qtype: dns.TypeANY, Ns: []string{soaCluster}},
	{Name: "ANY on a missing name", Qname: "nope.default.svc.cluster.local.", Qtype: dns.TypeANY, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "mixed case is echoed", Qname: "My-Nginx.Default.SVC.Cluster.Local.", Qtype: dns.TypeA,
		Answer: []string{"My-Nginx.Default.SVC.Cluster.Local. 30 IN A 10.254.32.162"}},
	{Name: "mixed case PTR", Qname: "1.0.254.10.IN-ADDR.ARPA.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.254.10.IN-ADDR.ARPA. 30 IN PTR kubernetes.default.svc.cluster.local."}},
	// 11. Wildcards.
	{Name: "any service in a namespace", Qname: "*.default.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"*.default.svc.cluster.local. 30 IN A 10.254.0.1", "*.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Name: "any namespace", Qname: "my-nginx.*.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"my-nginx.*.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Name: "any endpoint", Qname: "*.hl.ns1.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"*.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.1", "*.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.2"}},
	{Name: "star below a ClusterIP service", Qname: "*.my-nginx.default.svc.cluster.local.", Qtype: dns.TypeA,
		Answer: []string{"*.my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Name: "wildcard port", Qname: "_http._tcp.*.ns1.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{
			"_http._tcp.*.ns1.svc.cluster.local. 30 IN SRV 0 100 80 dual.ns1.svc.cluster.local.",
			"_http._tcp.*.ns1.svc.cluster.local. 30 IN SRV 0 50 8080 web-0.hl.ns1.svc.cluster.local.",
			"_http._tcp.*.ns1.svc.cluster.local. 30 IN SRV 0 50 8080 10-1-0-2.hl.ns1.svc.cluster.local."},
		Extra: []string{
			"dual.ns1.svc.cluster.local. 30 IN A 10.0.0.10", "dual.ns1.svc.cluster.local. 30 IN AAAA fd00::10",
			"web-0.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.1", "web-0.hl.ns1.svc.cluster.local. 30 IN AAAA fd00::1:1",
			"10-1-0-2.hl.ns1.svc.cluster.local. 30 IN A 10.1.0.2"}},
	{Name: "wildcard matching nothing", Qname: "*.nope.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaCluster}},
	{Name: "wildcard with no record of the type", Qname: "*.default.svc.cluster.local.", Qtype: dns.TypeTXT, Ns: []string{soaCluster}},
	// Outside kubedns's zones, without an upstream.
	{Name: "outside the zones", Qname: "example.com.", Qtype: dns.TypeA, Rcode: dns.RcodeRefused, NoAA: true},
}

func TestAnswers(t *testing.T) {
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	for _, tc := range answerCases {
		t.Run(tc.String(), func(t *testing.T) {
			for _, udp := range []bool{true, false} {
				w := dnstest.NewRecorder(udp)
				h.ServeDNS(w, tc.Msg())
				if err := dnstest.Check(w.Msg, tc); err != nil {
					t.Errorf("udp=%v: %v", udp, err)
				}
			}
		})
	}
}
