package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

const testSerial = 1764700000

// fixtures are Services and EndpointSlices as the bench cluster holds them
// (createService, createSlice), and the cases around them: the API's own
// Service, the DNS Service, a dual-stack one, ports that make the same bare
// SRV record, hostnames, a not-ready endpoint, an FQDN slice.
func fixtures() ([]corev1.Service, []discoveryv1.EndpointSlice) {
	svc := func(ns, name string, spec corev1.ServiceSpec) corev1.Service {
		return corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}
	}
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	svcs := []corev1.Service{
		svc("default", "kubernetes", corev1.ServiceSpec{ClusterIP: "10.254.0.1", ClusterIPs: []string{"10.254.0.1"},
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: tcp}}}),
		svc("kube-system", "kube-dns", corev1.ServiceSpec{ClusterIP: "10.254.0.10",
			Ports: []corev1.ServicePort{{Name: "dns", Port: 53, Protocol: udp}, {Name: "dns-tcp", Port: 53, Protocol: tcp}}}),
		svc(namespaceOf(0), svcName(0), corev1.ServiceSpec{ClusterIP: "10.254.4.0", ClusterIPs: []string{"10.254.4.0"}, Ports: servicePorts()}),
		svc(namespaceOf(8), svcName(8), corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: servicePorts()}),
		svc(namespaceOf(9), svcName(9), corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "svc-00000.bench-0.svc.cluster.local"}),
		svc("bench-1", "ext-ip", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "10.1.2.3"}),
		svc("bench-1", "dual", corev1.ServiceSpec{ClusterIP: "10.254.9.9", ClusterIPs: []string{"10.254.9.9", "fd00::9"},
			Ports: []corev1.ServicePort{{Port: 8080}}}),
		svc("bench-1", "pending", corev1.ServiceSpec{Ports: servicePorts()}), // no cluster IP yet: no records
		svc("bench-1", "hosts", corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}),
	}
	ready, notReady := true, false
	slice := func(ns, svc, name string, at discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) discoveryv1.EndpointSlice {
		return discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
			AddressType: at, Ports: ports, Endpoints: eps,
		}
	}
	httpPorts := []discoveryv1.EndpointPort{
		{Name: ptr("http"), Port: ptr(int32(80)), Protocol: &tcp},
		{Name: ptr("https"), Port: ptr(int32(443)), Protocol: &tcp},
	}
	var bench []discoveryv1.Endpoint
	for j := range 3 {
		bench = append(bench, discoveryv1.Endpoint{Addresses: []string{endpointIP(8, j)}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	eps := []discoveryv1.EndpointSlice{
		slice(namespaceOf(8), svcName(8), svcName(8)+"-bench", discoveryv1.AddressTypeIPv4, httpPorts, bench...),
		slice("bench-1", "hosts", "hosts-b", discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{{Name: ptr("metrics"), Port: ptr(int32(9090)), Protocol: &udp}, {Name: ptr("noport")}},
			discoveryv1.Endpoint{Addresses: []string{"10.9.0.1"}, Hostname: ptr("web-0")},
			discoveryv1.Endpoint{Addresses: []string{"10.9.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}}),
		slice("bench-1", "hosts", "hosts-a", discoveryv1.AddressTypeIPv6, nil,
			discoveryv1.Endpoint{Addresses: []string{"fd00::1:2"}}),
		slice("bench-1", "hosts", "hosts-f", discoveryv1.AddressTypeFQDN, httpPorts,
			discoveryv1.Endpoint{Addresses: []string{"example.com"}}),
	}
	return svcs, eps
}

// zoneLines are every record of the zones, as lines.
func zoneLines(zones []zone) map[string]bool {
	out := map[string]bool{}
	for _, z := range zones {
		for _, rr := range z.rrs {
			out[rr.String()] = true
		}
	}
	return out
}

func TestBuildZones(t *testing.T) {
	svcs, eps := fixtures()
	zones := buildZones(svcs, eps, testSerial)
	if len(zones) != 3 || zones[0].apex != "cluster.local." || zones[1].apex != "in-addr.arpa." || zones[2].apex != "ip6.arpa." {
		t.Fatalf("zones %v", zones)
	}
	for _, z := range zones {
		soa, ok := z.rrs[0].(*dns.SOA)
		if !ok || soa.Hdr.Name != z.apex {
			t.Fatalf("%s: first record %v, want its SOA", z.apex, z.rrs[0])
		}
	}
	got := zoneLines(zones)
	svc0, svc8 := "svc-00000.bench-0.svc.cluster.local.", "svc-00008.bench-0.svc.cluster.local."
	want := []string{
		"cluster.local.\t30\tIN\tSOA\tns.dns.cluster.local. hostmaster.cluster.local. 1764700000 7200 1800 86400 30",
		"in-addr.arpa.\t30\tIN\tNS\tns.dns.cluster.local.",
		"dns-version.cluster.local.\t30\tIN\tTXT\t\"1.1.0\"",
		"ns.dns.cluster.local.\t30\tIN\tA\t10.254.0.10",
		svc0 + "\t30\tIN\tA\t10.254.4.0",
		svc0 + "\t30\tIN\tSRV\t0 50 80 " + svc0,
		svc0 + "\t30\tIN\tSRV\t0 50 443 " + svc0,
		"_http._tcp." + svc0 + "\t30\tIN\tSRV\t0 100 80 " + svc0,
		"0.4.254.10.in-addr.arpa.\t30\tIN\tPTR\t" + svc0,
		// the two ports 53 make one bare SRV record
		"kube-dns.kube-system.svc.cluster.local.\t30\tIN\tSRV\t0 100 53 kube-dns.kube-system.svc.cluster.local.",
		"_dns._udp.kube-dns.kube-system.svc.cluster.local.\t30\tIN\tSRV\t0 100 53 kube-dns.kube-system.svc.cluster.local.",
		svc8 + "\t30\tIN\tA\t10.201.0.8",
		"10-201-0-8." + svc8 + "\t30\tIN\tA\t10.201.0.8",
		"8.0.201.10.in-addr.arpa.\t30\tIN\tPTR\t10-201-0-8." + svc8,
		svc8 + "\t30\tIN\tSRV\t0 16 443 10-202-0-8." + svc8, // 3 endpoints × 2 ports
		"_http._tcp." + svc8 + "\t30\tIN\tSRV\t0 33 80 10-200-0-8." + svc8,
		"svc-00009.bench-0.svc.cluster.local.\t30\tIN\tCNAME\t" + svc0,
		"ext-ip.bench-1.svc.cluster.local.\t30\tIN\tA\t10.1.2.3",
		"dual.bench-1.svc.cluster.local.\t30\tIN\tAAAA\tfd00::9",
		"dual.bench-1.svc.cluster.local.\t30\tIN\tSRV\t0 100 8080 dual.bench-1.svc.cluster.local.",
		"9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.\t30\tIN\tPTR\tdual.bench-1.svc.cluster.local.",
		"web-0.hosts.bench-1.svc.cluster.local.\t30\tIN\tA\t10.9.0.1",
		"_metrics._udp.hosts.bench-1.svc.cluster.local.\t30\tIN\tSRV\t0 100 9090 web-0.hosts.bench-1.svc.cluster.local.",
		"fd00--1-2.hosts.bench-1.svc.cluster.local.\t30\tIN\tAAAA\tfd00::1:2",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing %q", w)
		}
	}
	for line := range got {
		for _, bad := range []string{"pending.", "10.9.0.2", "example.com", "_dual.", "_noport."} {
			if strings.Contains(line, bad) {
				t.Errorf("unexpected %q", line)
			}
		}
	}
	// The text parses back into the same records.
	for _, z := range zones {
		zp := dns.NewZoneParser(strings.NewReader(z.text()), z.apex, z.file())
		n := 0
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			if rr.String() != z.rrs[n].String() {
				t.Errorf("%s: record %d parsed as %q, written %q", z.apex, n, rr, z.rrs[n])
			}
			n++
		}
		if err := zp.Err(); err != nil || n != len(z.rrs) {
			t.Errorf("%s: parsed %d of %d records: %v", z.apex, n, len(z.rrs), err)
		}
	}
}

// TestZonesAreKubeDNSRecords builds the same objects with pkg/dns/records,
// what kube-dns serves from, and compares every name and type.
func TestZonesAreKubeDNSRecords(t *testing.T) {
	svcs, eps := fixtures()
	cfg := &records.Config{Domain: domain, TTL: zoneTTL, Pods: records.PodsInsecure, DNSService: dnsService}
	b := records.NewBuilder(cfg)
	for i := range svcs {
		s := &svcs[i]
		b.AddService(cfg.ServiceRecords(toRecords(s), toSets(s, eps)))
		b.AddNamespace(s.Namespace)
	}
	snap := b.Finish(testSerial)
	want := map[string][]string{} // "name type" -> records
	snap.Range(func(n *records.Node) {
		for _, set := range n.Sets() {
			for _, rr := range n.RRs(set.Type) {
				k := n.Name() + " " + dns.TypeToString[set.Type]
				want[k] = append(want[k], rr.String())
			}
		}
	})
	got := map[string][]string{}
	for _, z := range buildZones(svcs, eps, testSerial) {
		for _, rr := range z.rrs {
			k := rr.Header().Name + " " + dns.TypeToString[rr.Header().Rrtype]
			got[k] = append(got[k], rr.String())
		}
	}
	for k, w := range want {
		g := got[k]
		slices.Sort(w)
		slices.Sort(g)
		if !slices.Equal(g, w) {
			t.Errorf("%s: zone has\n\t%s\nkube-dns serves\n\t%s", k, strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: in the zone, not served by kube-dns: %v", k, got[k])
		}
	}
	if len(want) < 30 {
		t.Errorf("only %d name/type pairs compared", len(want))
	}
}

// toRecords and toSets convert as pkg/dns/watch does (convert.go).
func toRecords(s *corev1.Service) *records.Service {
	out := &records.Service{Namespace: s.Namespace, Name: s.Name, PublishNotReady: s.Spec.PublishNotReadyAddresses}
	switch {
	case s.Spec.Type == corev1.ServiceTypeExternalName:
		out.Kind, out.ExternalName = records.ExternalName, s.Spec.ExternalName
	case isHeadless(s):
		out.Kind = records.Headless
	default:
		out.Kind, out.ClusterIPs = records.ClusterIP, clusterIPs(s)
	}
	for _, p := range s.Spec.Ports {
		out.Ports = append(out.Ports, records.Port{Name: p.Name, Protocol: protoName(string(p.Protocol)), Port: p.Port})
	}
	return out
}

func toSets(s *corev1.Service, eps []discoveryv1.EndpointSlice) []records.EndpointSet {
	var mine []discoveryv1.EndpointSlice
	for _, e := range eps {
		if e.Namespace == s.Namespace && e.Labels[discoveryv1.LabelServiceName] == s.Name {
			mine = append(mine, e)
		}
	}
	slices.SortFunc(mine, func(a, b discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	var out []records.EndpointSet
	for _, e := range mine {
		if e.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		var set records.EndpointSet
		for _, p := range e.Ports {
			if p.Port == nil {
				continue
			}
			port := records.Port{Port: *p.Port, Protocol: "tcp"}
			if p.Name != nil {
				port.Name = *p.Name
			}
			if p.Protocol != nil {
				port.Protocol = protoName(string(*p.Protocol))
			}
			set.Ports = append(set.Ports, port)
		}
		for _, ep := range e.Endpoints {
			r := records.Endpoint{Ready: ep.Conditions.Ready == nil || *ep.Conditions.Ready}
			if ep.Hostname != nil {
				r.Hostname = *ep.Hostname
			}
			for _, a := range ep.Addresses {
				if ip, err := netip.ParseAddr(a); err == nil {
					r.Addresses = append(r.Addresses, ip)
				}
			}
			set.Endpoints = append(set.Endpoints, r)
		}
		out = append(out, set)
	}
	return out
}
