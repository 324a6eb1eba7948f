package server

import (
	"net/netip"
	"strings"
	"sync"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

const (
	testDomain       = "cluster.local."
	testMulticluster = "clusterset.local."
	testSerial       = 1000
)

func ips(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, x := range s {
		out = append(out, netip.MustParseAddr(x))
	}
	return out
}

func tcp(name string, port int32) records.Port {
	return records.Port{Name: name, Protocol: "tcp", Port: port}
}

func ep(hostname string, ready bool, addrs ...string) records.Endpoint {
	return records.Endpoint{Hostname: hostname, Ready: ready, Addresses: ips(addrs...)}
}

type fixtureService struct {
	svc  records.Service
	sets []records.EndpointSet
}

// fixture is the cluster every answer test runs against: the seed's
// walkthrough plus one Service of every kind.
func fixture() []fixtureService {
	return []fixtureService{
		{svc: records.Service{Namespace: "default", Name: "kubernetes", ClusterIPs: ips("10.254.0.1"), Ports: []records.Port{tcp("https", 443)}}},
		{svc: records.Service{Namespace: "kube-system", Name: "kube-dns", ClusterIPs: ips("10.254.0.2"),
			Ports: []records.Port{{Name: "dns", Protocol: "udp", Port: 53}, tcp("dns-tcp", 53)}}},
		{svc: records.Service{Namespace: "default", Name: "my-nginx", ClusterIPs: ips("10.254.32.162"), Ports: []records.Port{tcp("", 80)}}},
		{svc: records.Service{Namespace: "ns1", Name: "dual", ClusterIPs: ips("10.0.0.10", "fd00::10"), Ports: []records.Port{tcp("http", 80)}}},
		{svc: records.Service{Namespace: "ns1", Name: "hl", Kind: records.Headless}, sets: []records.EndpointSet{
			{Ports: []records.Port{tcp("http", 8080)}, Endpoints: []records.Endpoint{
				ep("web-0", true, "10.1.0.1"), ep("", true, "10.1.0.2"), ep("web-3", false, "10.1.0.3")}},
			{Ports: []records.Port{tcp("http", 8080)}, Endpoints: []records.Endpoint{ep("web-0", true, "fd00::1:1")}},
		}},
		{svc: records.Service{Namespace: "ns1", Name: "hl-pub", Kind: records.Headless, PublishNotReady: true}, sets: []records.EndpointSet{
			{Endpoints: []records.Endpoint{ep("", false, "10.2.0.1")}}}},
		{svc: records.Service{Namespace: "ns1", Name: "hl-empty", Kind: records.Headless}, sets: []records.EndpointSet{
			{Ports: []records.Port{tcp("http", 80)}, Endpoints: []records.Endpoint{ep("", false, "10.3.0.1")}}}},
		{svc: records.Service{Namespace: "ns1", Name: "ext", Kind: records.ExternalName, ExternalName: "my.example.com"}},
		{svc: records.Service{Namespace: "ns1", Name: "ext-in", Kind: records.ExternalName, ExternalName: "dual.ns1.svc.cluster.local"}},
		{svc: records.Service{Namespace: "ns1", Name: "ext-ip", Kind: records.ExternalName, ExternalName: "1.2.3.4"}},
		{svc: records.Service{Namespace: "ns1", Name: "ext-loop", Kind: records.ExternalName, ExternalName: "ext-loop.ns1.svc.cluster.local."}},
	}
}

var fixtureNamespaces = []string{"default", "kube-system", "ns1", "empty-ns"}

type fixtureImport struct {
	imp  records.ServiceImport
	sets []records.EndpointSet
}

// fixtureImports are the ServiceImports of the multicluster zone: one of
// each type, headless with endpoints from two source clusters.
func fixtureImports() []fixtureImport {
	https := []records.Port{tcp("https", 443)}
	return []fixtureImport{
		{imp: records.ServiceImport{Namespace: "ns1", Name: "db", IPs: ips("10.9.0.1", "fd00::9:1"),
			Ports: []records.Port{tcp("mysql", 3306), tcp("", 8080)}}},
		{imp: records.ServiceImport{Namespace: "remote", Name: "api", IPs: ips("10.9.0.2"), Ports: https}},
		{imp: records.ServiceImport{Namespace: "ns1", Name: "noips", Ports: https}},
		{imp: records.ServiceImport{Namespace: "ns1", Name: "hlx", Headless: true}, sets: []records.EndpointSet{
			{Cluster: "cluster-a", Ports: https, Endpoints: []records.Endpoint{
				ep("pet-1", true, "10.8.0.1"), ep("", true, "10.8.0.2"), ep("pet-3", false, "10.8.0.3")}},
			{Cluster: "Cluster-B", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "10.8.1.1", "fd00::8:1")}},
			{Cluster: "", Ports: https, Endpoints: []records.Endpoint{ep("nocluster", true, "10.8.2.1")}},
		}},
		{imp: records.ServiceImport{Namespace: "ns1", Name: "hlx-empty", Headless: true}, sets: []records.EndpointSet{
			{Cluster: "cluster-a", Ports: https, Endpoints: []records.Endpoint{ep("", false, "10.8.3.1")}}}},
		// Cluster ids of several labels (KEP-2149: a DNS subdomain), one
		// of them a suffix of the other's endpoint names, and ids that are
		// not DNS subdomains, whose endpoints are not served.
		{imp: records.ServiceImport{Namespace: "ns1", Name: "multi", Headless: true}, sets: []records.EndpointSet{
			{Cluster: "east.reg1", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "10.8.5.1"), ep("", true, "10.8.5.2")}},
			{Cluster: "reg1", Ports: https, Endpoints: []records.Endpoint{ep("east", true, "10.8.5.3")}},
			{Cluster: "West.Reg2", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "fd00::8:5")}},
			{Cluster: "bad_id.reg1", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "10.8.6.1")}},
			{Cluster: "east..reg1", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "10.8.6.2")}},
			{Cluster: strings.Repeat("x", 64) + ".reg1", Ports: https, Endpoints: []records.Endpoint{ep("pet-1", true, "10.8.6.3")}},
		}},
		// This cluster's own backends imported back: ns1/dual's cluster IPs,
		// ns1/hl's endpoint, and ns1/hl-empty's, ready in the import only.
		{imp: records.ServiceImport{Namespace: "ns1", Name: "dual", IPs: ips("10.0.0.10", "fd00::10"), Ports: []records.Port{tcp("http", 80)}}},
		{imp: records.ServiceImport{Namespace: "ns1", Name: "hl", Headless: true}, sets: []records.EndpointSet{
			{Cluster: "here", Ports: []records.Port{tcp("http", 8080)}, Endpoints: []records.Endpoint{ep("web-0", true, "10.1.0.1")}}}},
		{imp: records.ServiceImport{Namespace: "ns1", Name: "hl-empty", Headless: true}, sets: []records.EndpointSet{
			{Cluster: "here", Ports: []records.Port{tcp("http", 80)}, Endpoints: []records.Endpoint{ep("", true, "10.3.0.1")}}}},
	}
}

func testConfig() *records.Config {
	return &records.Config{Domain: testDomain, TTL: 30, Pods: records.PodsInsecure, DNSService: "kube-system/kube-dns",
		Multicluster: testMulticluster}
}

func buildSnapshot(c *records.Config, svcs []fixtureService, pods ...records.Pod) *records.Snapshot {
	b := records.NewBuilder(c)
	for _, f := range svcs {
		b.AddService(c.ServiceRecords(&f.svc, f.sets))
	}
	for _, f := range fixtureImports() {
		b.AddImport(c.ImportRecords(&f.imp, f.sets))
	}
	for _, ns := range fixtureNamespaces {
		b.AddNamespace(ns)
	}
	for _, p := range pods {
		b.AddPod(p)
	}
	s := b.Finish(testSerial)
	testWildcards.Store(s, b.Wildcards())
	return s
}

// testWildcards holds the wildcard view of every snapshot buildSnapshot made.
var testWildcards sync.Map // *records.Snapshot → *records.Wildcards

func newTestHandler(s *records.Snapshot) *Handler {
	return NewHandler(Options{Domain: testDomain, Multicluster: testMulticluster, Snapshot: func() *records.Snapshot { return s },
		Wildcards: func() *records.Wildcards {
			w, _ := testWildcards.Load(s)
			v, _ := w.(*records.Wildcards)
			return v
		}})
}
