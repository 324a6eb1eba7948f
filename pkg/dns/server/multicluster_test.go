package server

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

var soaClusterset = dnstest.SOA("clusterset.local.", testDomain, testSerial)

// multiclusterCases covers every record of KEP-1645's DNS specification
// 1.0.0, every record it says must not exist, and the negative answers,
// against fixtureImports. answerCases run them too (TestAnswers, the UDP
// and TCP listeners, the fuzzer's seeds).
var multiclusterCases = []dnstest.Case{
	// 2.2: the schema version; the apex.
	{Qname: "dns-version.clusterset.local.", Qtype: dns.TypeTXT,
		Answer: []string{`dns-version.clusterset.local. 30 IN TXT "1.0.0"`}},
	{Qname: "clusterset.local.", Qtype: dns.TypeSOA, Answer: []string{soaClusterset}},
	{Qname: "clusterset.local.", Qtype: dns.TypeNS,
		Answer: []string{"clusterset.local. 30 IN NS ns.dns.cluster.local."},
		Extra:  []string{"ns.dns.cluster.local. 30 IN A 10.254.0.2"}},
	{Name: "apex has no A", Qname: "clusterset.local.", Qtype: dns.TypeA, Ns: []string{soaClusterset}},
	{Name: "svc is an empty non-terminal", Qname: "svc.clusterset.local.", Qtype: dns.TypeA, Ns: []string{soaClusterset}},
	{Name: "a namespace with imports is an empty non-terminal", Qname: "ns1.svc.clusterset.local.", Qtype: dns.TypeA, Ns: []string{soaClusterset}},
	{Name: "a namespace of this cluster without imports does not exist", Qname: "default.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "unknown import", Qname: "nosuch.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "a cluster Service is not an import", Qname: "my-nginx.default.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	// 2.3.1: ClusterSetIP A/AAAA.
	{Qname: "db.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Answer: []string{"db.ns1.svc.clusterset.local. 30 IN A 10.9.0.1"}},
	{Qname: "db.ns1.svc.clusterset.local.", Qtype: dns.TypeAAAA, Answer: []string{"db.ns1.svc.clusterset.local. 30 IN AAAA fd00::9:1"}},
	{Name: "upper case", Qname: "DB.ns1.SVC.clusterset.local.", Qtype: dns.TypeA, Answer: []string{"DB.ns1.SVC.clusterset.local. 30 IN A 10.9.0.1"}},
	{Name: "namespace sameness: an import of a namespace this cluster lacks", Qname: "api.remote.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"api.remote.svc.clusterset.local. 30 IN A 10.9.0.2"}},
	{Name: "no ClusterSetIP yet", Qname: "noips.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "no TXT at an import", Qname: "db.ns1.svc.clusterset.local.", Qtype: dns.TypeTXT, Ns: []string{soaClusterset}},
	// 2.3.2: SRV, named and bare.
	{Qname: "_mysql._tcp.db.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Answer: []string{"_mysql._tcp.db.ns1.svc.clusterset.local. 30 IN SRV 0 100 3306 db.ns1.svc.clusterset.local."},
		Extra:  []string{"db.ns1.svc.clusterset.local. 30 IN A 10.9.0.1", "db.ns1.svc.clusterset.local. 30 IN AAAA fd00::9:1"}},
	{Name: "bare SRV includes unnamed ports", Qname: "db.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Answer: []string{
			"db.ns1.svc.clusterset.local. 30 IN SRV 0 50 3306 db.ns1.svc.clusterset.local.",
			"db.ns1.svc.clusterset.local. 30 IN SRV 0 50 8080 db.ns1.svc.clusterset.local."},
		Extra: []string{"db.ns1.svc.clusterset.local. 30 IN A 10.9.0.1", "db.ns1.svc.clusterset.local. 30 IN AAAA fd00::9:1"}},
	{Name: "wrong protocol", Qname: "_mysql._udp.db.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	// 2.3.3: PTR of the ClusterSetIPs.
	{Qname: "1.0.9.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.0.9.10.in-addr.arpa. 30 IN PTR db.ns1.svc.clusterset.local."}},
	// 2.3.4: no record names one cluster's backends of a ClusterSetIP import.
	{Name: "MUST NOT: <clusterid>.<svc> of a ClusterSetIP import", Qname: "cluster-a.db.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	// 2.4.1: headless A/AAAA, every source cluster's ready endpoints.
	{Qname: "hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Answer: []string{
		"hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.1", "hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.2",
		"hlx.ns1.svc.clusterset.local. 30 IN A 10.8.1.1"}},
	{Qname: "hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeAAAA, Answer: []string{"hlx.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:1"}},
	{Qname: "pet-1.cluster-a.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"pet-1.cluster-a.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.1"}},
	{Name: "the same hostname in another cluster", Qname: "pet-1.cluster-b.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"pet-1.cluster-b.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.1.1"}},
	{Qname: "pet-1.cluster-b.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeAAAA,
		Answer: []string{"pet-1.cluster-b.hlx.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:1"}},
	{Name: "endpoint without hostname", Qname: "10-8-0-2.cluster-a.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"10-8-0-2.cluster-a.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.2"}},
	{Name: "not-ready endpoint", Qname: "pet-3.cluster-a.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "hostname without its cluster", Qname: "pet-1.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "a slice without a source cluster is not served", Qname: "nocluster.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "no ready endpoints", Qname: "hlx-empty.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	// 2.4.2: SRV per endpoint and port, targets naming the cluster.
	{Qname: "_https._tcp.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Answer: []string{
			"_https._tcp.hlx.ns1.svc.clusterset.local. 30 IN SRV 0 33 443 pet-1.cluster-a.hlx.ns1.svc.clusterset.local.",
			"_https._tcp.hlx.ns1.svc.clusterset.local. 30 IN SRV 0 33 443 10-8-0-2.cluster-a.hlx.ns1.svc.clusterset.local.",
			"_https._tcp.hlx.ns1.svc.clusterset.local. 30 IN SRV 0 33 443 pet-1.cluster-b.hlx.ns1.svc.clusterset.local."},
		Extra: []string{
			"pet-1.cluster-a.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.1",
			"10-8-0-2.cluster-a.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.0.2",
			"pet-1.cluster-b.hlx.ns1.svc.clusterset.local. 30 IN A 10.8.1.1",
			"pet-1.cluster-b.hlx.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:1"}},
	// 2.4.3: PTR per endpoint address.
	{Qname: "1.0.8.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.8.10.in-addr.arpa. 30 IN PTR pet-1.cluster-a.hlx.ns1.svc.clusterset.local."}},
	{Name: "no PTR for a not-ready endpoint", Qname: "3.0.8.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []string{soaV4}},
	// 2.4.4: <clusterid>.<svc> of a headless import has no record: it is an
	// empty non-terminal above the endpoint names (RFC 8020).
	{Name: "MUST NOT: <clusterid>.<svc> of a headless import", Qname: "cluster-a.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Ns: []string{soaClusterset}},
	{Name: "MUST NOT: <clusterid>.<svc> of a headless import, SRV", Qname: "cluster-a.hlx.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Ns: []string{soaClusterset}},
	// What the cluster domain has and the multicluster zone does not.
	{Name: "no wildcards", Qname: "*.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "no pod names", Qname: "10-8-0-1.ns1.pod.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "no zone transfer", Qname: "clusterset.local.", Qtype: dns.TypeAXFR, Rcode: dns.RcodeRefused, NoAA: true},
}

// clusterIDCases are the names of a headless import whose source cluster
// ids have several labels (fixture import ns1/multi): cluster east.reg1
// with endpoint pet-1, cluster reg1 with endpoint east, cluster west.reg2.
var clusterIDCases = []dnstest.Case{
	{Name: "the union has every cluster's endpoints, not those of invalid ids", Qname: "multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{
			"multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.1", "multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.2",
			"multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.3"}},
	{Qname: "multi.ns1.svc.clusterset.local.", Qtype: dns.TypeAAAA, Answer: []string{"multi.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:5"}},
	{Name: "a hostname in a cluster of two labels", Qname: "pet-1.east.reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"pet-1.east.reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.1"}},
	{Name: "a dashed address in a cluster of two labels", Qname: "10-8-5-2.East.Reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"10-8-5-2.East.Reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.2"}},
	{Name: "an id in upper case is served in lower case", Qname: "pet-1.west.reg2.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeAAAA,
		Answer: []string{"pet-1.west.reg2.multi.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:5"}},
	{Name: "hostname east in cluster reg1, above cluster east.reg1's endpoints", Qname: "east.reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"east.reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.3"}},
	{Name: "MUST NOT: <clusterid>.<svc> of a headless import, cluster reg1", Qname: "reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Ns: []string{soaClusterset}},
	{Name: "MUST NOT: <clusterid>.<svc> of a headless import, east.reg1 by its name", Qname: "east.reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Ns: []string{soaClusterset}},
	{Name: "MUST NOT: <clusterid>.<svc>, both labels of west.reg2", Qname: "west.reg2.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Ns: []string{soaClusterset}},
	{Name: "the last label of a cluster id", Qname: "reg2.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Ns: []string{soaClusterset}},
	{Name: "an id that is not a DNS subdomain", Qname: "pet-1.bad_id.reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Name: "a hostname is one label", Qname: "pet-1.reg1.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Rcode: dns.RcodeNameError, Ns: []string{soaClusterset}},
	{Qname: "_https._tcp.multi.ns1.svc.clusterset.local.", Qtype: dns.TypeSRV,
		Answer: []string{
			"_https._tcp.multi.ns1.svc.clusterset.local. 30 IN SRV 0 25 443 pet-1.east.reg1.multi.ns1.svc.clusterset.local.",
			"_https._tcp.multi.ns1.svc.clusterset.local. 30 IN SRV 0 25 443 10-8-5-2.east.reg1.multi.ns1.svc.clusterset.local.",
			"_https._tcp.multi.ns1.svc.clusterset.local. 30 IN SRV 0 25 443 east.reg1.multi.ns1.svc.clusterset.local.",
			"_https._tcp.multi.ns1.svc.clusterset.local. 30 IN SRV 0 25 443 pet-1.west.reg2.multi.ns1.svc.clusterset.local."},
		Extra: []string{
			"pet-1.east.reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.1",
			"10-8-5-2.east.reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.2",
			"east.reg1.multi.ns1.svc.clusterset.local. 30 IN A 10.8.5.3",
			"pet-1.west.reg2.multi.ns1.svc.clusterset.local. 30 IN AAAA fd00::8:5"}},
	{Qname: "1.5.8.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.5.8.10.in-addr.arpa. 30 IN PTR pet-1.east.reg1.multi.ns1.svc.clusterset.local."}},
	{Qname: "3.5.8.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"3.5.8.10.in-addr.arpa. 30 IN PTR east.reg1.multi.ns1.svc.clusterset.local."}},
	{Name: "no PTR for an endpoint of an invalid id", Qname: "1.6.8.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []string{soaV4}},
	{Name: "no PTR for an endpoint of an id with a label over 63", Qname: "3.6.8.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []string{soaV4}},
}

// importedBackCases are the addresses this cluster's Services own that
// imports publish too (fixture imports ns1/dual, ns1/hl, ns1/hl-empty):
// the cluster domain's name is their only PTR; the clusterset PTR is kept
// for an address the cluster domain does not name.
var importedBackCases = []dnstest.Case{
	{Name: "a cluster IP imported back has its cluster-local PTR only", Qname: "10.0.0.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"10.0.0.10.in-addr.arpa. 30 IN PTR dual.ns1.svc.cluster.local."}},
	{Name: "the same, IPv6", Qname: "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 30 IN PTR dual.ns1.svc.cluster.local."}},
	{Name: "an endpoint imported back has its cluster-local PTR only", Qname: "1.0.1.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.1.10.in-addr.arpa. 30 IN PTR web-0.hl.ns1.svc.cluster.local."}},
	{Name: "an address the cluster domain does not name (not ready here) keeps the clusterset PTR", Qname: "1.0.3.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []string{"1.0.3.10.in-addr.arpa. 30 IN PTR 10-3-0-1.here.hl-empty.ns1.svc.clusterset.local."}},
	{Name: "the import still answers the address", Qname: "dual.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"dual.ns1.svc.clusterset.local. 30 IN A 10.0.0.10"}},
	{Qname: "web-0.here.hl.ns1.svc.clusterset.local.", Qtype: dns.TypeA,
		Answer: []string{"web-0.here.hl.ns1.svc.clusterset.local. 30 IN A 10.1.0.1"}},
}

func init() {
	answerCases = append(answerCases, multiclusterCases...)
	answerCases = append(answerCases, clusterIDCases...)
	answerCases = append(answerCases, importedBackCases...)
}

// TestMulticlusterOff checks that without the multicluster zone its names
// are outside kubedns's zones, and the cluster domain answers as before.
func TestMulticlusterOff(t *testing.T) {
	c := testConfig()
	c.Multicluster = ""
	s := buildSnapshot(c, fixture())
	h := NewHandler(Options{Domain: testDomain, Snapshot: func() *records.Snapshot { return s }})
	for _, tc := range []dnstest.Case{
		{Qname: "db.ns1.svc.clusterset.local.", Qtype: dns.TypeA, Rcode: dns.RcodeRefused, NoAA: true},
		{Qname: "dns-version.clusterset.local.", Qtype: dns.TypeTXT, Rcode: dns.RcodeRefused, NoAA: true},
		{Qname: "my-nginx.default.svc.cluster.local.", Qtype: dns.TypeA,
			Answer: []string{"my-nginx.default.svc.cluster.local. 30 IN A 10.254.32.162"}},
	} {
		for _, udp := range []bool{true, false} {
			w := dnstest.NewRecorder(udp)
			h.ServeDNS(w, tc.Msg())
			if err := dnstest.Check(w.Msg, tc); err != nil {
				t.Errorf("%s udp=%v: %v", tc, udp, err)
			}
		}
	}
}
