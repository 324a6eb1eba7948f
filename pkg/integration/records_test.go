package integration

import (
	"fmt"
	"strings"

	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

const soa = "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 0 7200 1800 86400 30"

// createRecordFixtures writes one object of every kind the schema covers into
// namespace "it" (dual-stack cluster IPs come from the API server's two ranges).
func createRecordFixtures(t *testing.T) {
	t.Helper()
	const ns = "it"
	createNamespace(t, ns)
	createNamespace(t, "it-empty")
	http := port("http", corev1.ProtocolTCP, 80)
	createService(t, clusterIPService(ns, "web", []string{"10.254.100.1"}, http, port("metrics", corev1.ProtocolTCP, 9090)))
	createService(t, clusterIPService(ns, "dual", []string{"10.254.100.2", "fd00:10:254::1:2"}, http))
	createService(t, headlessService(ns, "hl", false, port("http", corev1.ProtocolTCP, 8080)))
	ports := []discoveryv1.EndpointPort{slicePort("http", 8080)}
	createSlice(t, slice(ns, "hl-a", "hl", discoveryv1.AddressTypeIPv4, ports,
		endpoint("web-0", ptr.To(true), "10.10.0.1"),
		endpoint("", ptr.To(true), "10.10.0.2"),
		endpoint("web-3", ptr.To(false), "10.10.0.3")))
	createSlice(t, slice(ns, "hl-b", "hl", discoveryv1.AddressTypeIPv4, ports,
		endpoint("", nil, "10.10.0.4")))
	createSlice(t, slice(ns, "hl-v6", "hl", discoveryv1.AddressTypeIPv6, ports,
		endpoint("web-0", ptr.To(true), "fd00:10::1")))
	createService(t, headlessService(ns, "hl-pub", true))
	createSlice(t, slice(ns, "hl-pub", "hl-pub", discoveryv1.AddressTypeIPv4, nil, endpoint("", ptr.To(false), "10.11.0.1")))
	createService(t, headlessService(ns, "hl-none", false))
	createSlice(t, slice(ns, "hl-none", "hl-none", discoveryv1.AddressTypeIPv4, nil, endpoint("", ptr.To(false), "10.12.0.1")))
	createService(t, externalNameService(ns, "ext", "my.example.com"))
	createService(t, externalNameService(ns, "ext-in", "web.it.svc.cluster.local"))
	createService(t, externalNameService(ns, "ext-ip", "1.2.3.4"))
}

// recordCases is every record rule, checked against objects in a real API server.
var recordCases = []dnstest.Case{
	// The walkthrough's checks.
	{Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	{Qname: "kubernetes.default.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.254.0.1"}},
	{Qname: "kube-dns.kube-system.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"kube-dns.kube-system.svc.cluster.local. 30 IN A 10.254.0.2"}},
	{Name: "the sidecar's probe", Qname: "kubernetes.default.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"kubernetes.default.svc.cluster.local. 30 IN SRV 0 100 443 kubernetes.default.svc.cluster.local."},
		Extra:  []string{"kubernetes.default.svc.cluster.local. 30 IN A 10.254.0.1"}},
	// ClusterIP, dual-stack, ports, PTR.
	{Qname: "dual.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"dual.it.svc.cluster.local. 30 IN A 10.254.100.2"}},
	{Qname: "dual.it.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []string{"dual.it.svc.cluster.local. 30 IN AAAA fd00:10:254::1:2"}},
	{Qname: "_http._tcp.web.it.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"_http._tcp.web.it.svc.cluster.local. 30 IN SRV 0 100 80 web.it.svc.cluster.local."},
		Extra:  []string{"web.it.svc.cluster.local. 30 IN A 10.254.100.1"}},
	{Qname: "web.it.svc.cluster.local.", Qtype: dns.TypeSRV,
		Answer: []string{"web.it.svc.cluster.local. 30 IN SRV 0 50 80 web.it.svc.cluster.local.",
			"web.it.svc.cluster.local. 30 IN SRV 0 50 9090 web.it.svc.cluster.local."},
		Extra: []string{"web.it.svc.cluster.local. 30 IN A 10.254.100.1"}},
	{Qname: "1.100.254.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.100.254.10.in-addr.arpa. 30 IN PTR web.it.svc.cluster.local."}},
	{Qname: "2.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.5.2.0.0.1.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"2.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.5.2.0.0.1.0.0.0.0.d.f.ip6.arpa. 30 IN PTR dual.it.svc.cluster.local."}},
	// Headless: ready endpoints over three slices, hostnames, dashed names, PTR.
	{Qname: "hl.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{
		"hl.it.svc.cluster.local. 30 IN A 10.10.0.1", "hl.it.svc.cluster.local. 30 IN A 10.10.0.2", "hl.it.svc.cluster.local. 30 IN A 10.10.0.4"}},
	{Qname: "hl.it.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []string{"hl.it.svc.cluster.local. 30 IN AAAA fd00:10::1"}},
	{Qname: "web-0.hl.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"web-0.hl.it.svc.cluster.local. 30 IN A 10.10.0.1"}},
	{Qname: "web-0.hl.it.svc.cluster.local.", Qtype: dns.TypeAAAA, Answer: []string{"web-0.hl.it.svc.cluster.local. 30 IN AAAA fd00:10::1"}},
	{Qname: "10-10-0-2.hl.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"10-10-0-2.hl.it.svc.cluster.local. 30 IN A 10.10.0.2"}},
	{Name: "not-ready endpoint", Qname: "web-3.hl.it.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	{Qname: "_http._tcp.hl.it.svc.cluster.local.", Qtype: dns.TypeSRV, Answer: []string{
		"_http._tcp.hl.it.svc.cluster.local. 30 IN SRV 0 33 8080 web-0.hl.it.svc.cluster.local.",
		"_http._tcp.hl.it.svc.cluster.local. 30 IN SRV 0 33 8080 10-10-0-2.hl.it.svc.cluster.local.",
		"_http._tcp.hl.it.svc.cluster.local. 30 IN SRV 0 33 8080 10-10-0-4.hl.it.svc.cluster.local."},
		Extra: []string{"web-0.hl.it.svc.cluster.local. 30 IN A 10.10.0.1", "web-0.hl.it.svc.cluster.local. 30 IN AAAA fd00:10::1",
			"10-10-0-2.hl.it.svc.cluster.local. 30 IN A 10.10.0.2", "10-10-0-4.hl.it.svc.cluster.local. 30 IN A 10.10.0.4"}},
	{Qname: "1.0.10.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.0.10.10.in-addr.arpa. 30 IN PTR web-0.hl.it.svc.cluster.local."}},
	{Name: "publishNotReadyAddresses", Qname: "hl-pub.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"hl-pub.it.svc.cluster.local. 30 IN A 10.11.0.1"}},
	{Name: "no ready endpoints", Qname: "hl-none.it.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	// ExternalName.
	{Qname: "ext.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"ext.it.svc.cluster.local. 30 IN CNAME my.example.com."}},
	{Qname: "ext-in.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{
		"ext-in.it.svc.cluster.local. 30 IN CNAME web.it.svc.cluster.local.", "web.it.svc.cluster.local. 30 IN A 10.254.100.1"}},
	{Qname: "ext-ip.it.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"ext-ip.it.svc.cluster.local. 30 IN A 1.2.3.4"}},
	// Pods, schema version, apex.
	{Qname: "10-20-0-1.it.pod.cluster.local.", Qtype: dns.TypeA, Answer: []string{"10-20-0-1.it.pod.cluster.local. 30 IN A 10.20.0.1"}},
	{Qname: "fd00-20--1.it.pod.cluster.local.", Qtype: dns.TypeAAAA, Answer: []string{"fd00-20--1.it.pod.cluster.local. 30 IN AAAA fd00:20::1"}},
	{Name: "pod in a missing namespace", Qname: "10-20-0-1.nope.pod.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	{Qname: "dns-version.cluster.local.", Qtype: dns.TypeTXT, Answer: []string{`dns-version.cluster.local. 30 IN TXT "1.1.0"`}},
	{Qname: "cluster.local.", Qtype: dns.TypeNS, Answer: []string{"cluster.local. 30 IN NS ns.dns.cluster.local."},
		Extra: []string{"ns.dns.cluster.local. 30 IN A 10.254.0.2"}},
	// Negative answers and empty non-terminals.
	{Name: "namespace without services", Qname: "it-empty.svc.cluster.local.", Qtype: dns.TypeA, Ns: []string{soa}},
	{Name: "missing namespace", Qname: "nope.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	{Name: "missing service", Qname: "nope.it.svc.cluster.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	{Name: "ANY", Qname: "ext-ip.it.svc.cluster.local.", Qtype: dns.TypeANY, Answer: []string{"ext-ip.it.svc.cluster.local. 30 IN A 1.2.3.4"}},
	{Name: "wildcard namespace", Qname: "dual.*.svc.cluster.local.", Qtype: dns.TypeA, Answer: []string{"dual.*.svc.cluster.local. 30 IN A 10.254.100.2"}},
}

// TestRecordsFromAPIServer checks every record rule over real UDP and TCP,
// with kubedns reading a real API server as the kube-dns service account.
func TestRecordsFromAPIServer(t *testing.T) {
	requireCluster(t)
	createRecordFixtures(t)
	k := startKubeDNS(t)
	k.waitReady(t)
	for _, network := range []string{"udp", "tcp"} {
		for _, tc := range recordCases {
			t.Run(network+"/"+tc.String(), func(t *testing.T) {
				if err := k.check(network, withSerial(k, tc)); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// withSerial puts the current SOA serial into the case's expected SOA records.
func withSerial(k *kubeDNS, tc dnstest.Case) dnstest.Case {
	resp, err := k.query("udp", "cluster.local.", dns.TypeSOA)
	if err != nil || len(resp.Answer) != 1 {
		return tc
	}
	serial := resp.Answer[0].(*dns.SOA).Serial
	ns := make([]string, len(tc.Ns))
	for i, s := range tc.Ns {
		ns[i] = strings.Replace(s, " 0 7200 ", fmt.Sprintf(" %d 7200 ", serial), 1)
	}
	tc.Ns = ns
	return tc
}
