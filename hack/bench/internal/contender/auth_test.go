package contender

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	dnsserver "github.com/kubedns-go/kube-dns/pkg/dns/server"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"
)

// TestAuthConfig checks the lines of knot.conf and nsd.conf that matter,
// and nsd.conf with nsd-checkconf when it is installed.
func TestAuthConfig(t *testing.T) {
	c := authConf{dir: "/run/x", zonesDir: "/z", zones: []string{"cluster.local.", "in-addr.arpa.", "ip6.arpa."}, port: "25353", workers: 2, user: "bench:bench"}
	for _, tc := range []struct {
		conf, check string
		want        []string
	}{
		{conf: knotConfig(c), want: []string{
			"    rundir: \"/run/x\"\n", "    user: bench:bench\n", "    listen: 127.0.0.1@25353\n",
			"    udp-workers: 2\n    tcp-workers: 2\n    background-workers: 1\n",
			"database:\n    storage: \"/run/x\"\n", "    storage: \"/z\"\n    file: \"%s.zone\"\n",
			"    zonefile-sync: -1\n", "    journal-content: none\n",
			"  - domain: cluster.local.\n  - domain: in-addr.arpa.\n  - domain: ip6.arpa.\n",
		}},
		{conf: nsdConfig(c), check: "nsd-checkconf", want: []string{
			"    ip-address: 127.0.0.1@25353\n", "    server-count: 2\n    reuseport: yes\n", "    username: \"\"\n",
			"    zonesdir: \"/run/x\"\n", "    pidfile: \"/run/x/nsd.pid\"\n", "    database: \"\"\n",
			"    xfrdfile: \"/run/x/xfrd.state\"\n", "    zonelistfile: \"/run/x/zone.list\"\n", "    rrl-ratelimit: 0\n",
			"zone:\n    name: cluster.local.\n    zonefile: \"/z/cluster.local.zone\"\n",
			"zone:\n    name: in-addr.arpa.\n    zonefile: \"/z/in-addr.arpa.zone\"\n",
		}},
	} {
		for _, want := range tc.want {
			if !strings.Contains(tc.conf, want) {
				t.Errorf("configuration lacks %q:\n%s", want, tc.conf)
			}
		}
		check, err := proc.LookBin(tc.check)
		if tc.check == "" || err != nil {
			continue
		}
		path := filepath.Join(t.TempDir(), "nsd.conf")
		if err := os.WriteFile(path, []byte(tc.conf), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(check, path).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", tc.check, err, out)
		}
	}
}

// authQueries are asked of the servers and of kube-dns's handler alike.
var authQueries = []struct {
	name  string
	qtype uint16
}{
	{"svc-00000.bench-0.svc.cluster.local.", dns.TypeA},
	{"svc-00000.bench-0.svc.cluster.local.", dns.TypeSRV},
	{"_http._tcp.svc-00000.bench-0.svc.cluster.local.", dns.TypeSRV},
	{"0.4.254.10.in-addr.arpa.", dns.TypePTR},
	{"svc-00008.bench-0.svc.cluster.local.", dns.TypeA},
	{"svc-00008.bench-0.svc.cluster.local.", dns.TypeSRV},
	{"10-200-0-8.svc-00008.bench-0.svc.cluster.local.", dns.TypeA},
	{"8.0.200.10.in-addr.arpa.", dns.TypePTR},
	{"hosts.bench-1.svc.cluster.local.", dns.TypeAAAA},
	{"dual.bench-1.svc.cluster.local.", dns.TypeAAAA},
	{"dns-version.cluster.local.", dns.TypeTXT},
	{"svc-00000.bench-0.svc.cluster.local.", dns.TypeAAAA}, // no data
	{"nosuch-00001.bench-0.svc.cluster.local.", dns.TypeA}, // NXDOMAIN
	{"9.9.9.10.in-addr.arpa.", dns.TypePTR},                // NXDOMAIN in the reverse zone
	{"svc-00009.bench-0.svc.cluster.local.", dns.TypeA},    // ExternalName: CNAME, and its target's address
	{"svc.cluster.local.", dns.TypeA},                      // empty non-terminals
	{"bench-0.svc.cluster.local.", dns.TypeA},
	{"cluster.local.", dns.TypeNS},
	{"cluster.local.", dns.TypeSOA},
}

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
		svc(cluster.NamespaceOf(0), cluster.ServiceName(0), corev1.ServiceSpec{ClusterIP: "10.254.4.0", ClusterIPs: []string{"10.254.4.0"}, Ports: cluster.ServicePorts()}),
		svc(cluster.NamespaceOf(8), cluster.ServiceName(8), corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: cluster.ServicePorts()}),
		svc(cluster.NamespaceOf(9), cluster.ServiceName(9), corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "svc-00000.bench-0.svc.cluster.local"}),
		svc("bench-1", "ext-ip", corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "10.1.2.3"}),
		svc("bench-1", "dual", corev1.ServiceSpec{ClusterIP: "10.254.9.9", ClusterIPs: []string{"10.254.9.9", "fd00::9"},
			Ports: []corev1.ServicePort{{Port: 8080}}}),
		svc("bench-1", "pending", corev1.ServiceSpec{Ports: cluster.ServicePorts()}), // no cluster IP yet: no records
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
		{Name: cluster.Ptr("http"), Port: cluster.Ptr(int32(80)), Protocol: &tcp},
		{Name: cluster.Ptr("https"), Port: cluster.Ptr(int32(443)), Protocol: &tcp},
	}
	var bench []discoveryv1.Endpoint
	for j := range 3 {
		bench = append(bench, discoveryv1.Endpoint{Addresses: []string{cluster.EndpointIP(8, j)}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}})
	}
	eps := []discoveryv1.EndpointSlice{
		slice(cluster.NamespaceOf(8), cluster.ServiceName(8), cluster.ServiceName(8)+"-bench", discoveryv1.AddressTypeIPv4, httpPorts, bench...),
		slice("bench-1", "hosts", "hosts-b", discoveryv1.AddressTypeIPv4,
			[]discoveryv1.EndpointPort{{Name: cluster.Ptr("metrics"), Port: cluster.Ptr(int32(9090)), Protocol: &udp}, {Name: cluster.Ptr("noport")}},
			discoveryv1.Endpoint{Addresses: []string{"10.9.0.1"}, Hostname: cluster.Ptr("web-0")},
			discoveryv1.Endpoint{Addresses: []string{"10.9.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: &notReady}}),
		slice("bench-1", "hosts", "hosts-a", discoveryv1.AddressTypeIPv6, nil,
			discoveryv1.Endpoint{Addresses: []string{"fd00::1:2"}}),
		slice("bench-1", "hosts", "hosts-f", discoveryv1.AddressTypeFQDN, httpPorts,
			discoveryv1.Endpoint{Addresses: []string{"example.com"}}),
	}
	return svcs, eps
}

// fixtureZones reads the fixtures through kube-dns's client and watch, as
// the harness reads the API server, and writes their zone files.
func fixtureZones(t *testing.T) (*records.Snapshot, *cluster.ZoneFiles) {
	t.Helper()
	svcs, eps := fixtures()
	var objs []runtime.Object
	for i := range svcs {
		objs = append(objs, &svcs[i])
	}
	for i := range eps {
		objs = append(objs, &eps[i])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	snap, err := cluster.SnapshotOf(ctx, fakeapi.New(t, fake.NewClientset(objs...)))
	if err != nil {
		t.Fatal(err)
	}
	zf, err := cluster.WriteZones(snap, filepath.Join(t.TempDir(), "zones"))
	if err != nil {
		t.Fatal(err)
	}
	return snap, zf
}

// TestZones checks records of every kind in the zone files of the fixtures.
func TestZones(t *testing.T) {
	_, zf := fixtureZones(t)
	got := map[string]bool{}
	for _, apex := range zf.Apexes {
		b, err := os.ReadFile(filepath.Join(zf.Dir, cluster.ZoneFile(apex)))
		if err != nil {
			t.Fatal(err)
		}
		zp := dns.NewZoneParser(strings.NewReader(string(b)), apex, "")
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			got[rr.String()] = true
		}
		if err := zp.Err(); err != nil {
			t.Fatal(err)
		}
	}
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
		if !got[w] && !strings.Contains(w, "\tSOA\t") {
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
}

// TestAuthServers starts knotd and nsd on the zone files of the fixtures
// and checks that they answer as kube-dns's own handler does on the same
// snapshot: rcode, answers, authority; and Knot the additional records too
// (NSD's minimal responses leave out SRV targets' addresses), but for
// repeating one.
func TestAuthServers(t *testing.T) {
	snap, zf := fixtureZones(t)
	kubedns := dnsserver.NewHandler(dnsserver.Options{Domain: cluster.Domain, Snapshot: func() *records.Snapshot { return snap }})

	for _, tc := range []struct {
		name, bin, pkg string
		start          func(*Env) (*Server, error)
		extra          bool
	}{
		{"knot", "knotd", "knot", startKnot, true},
		{"nsd", "nsd", "nsd", startNSD, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := proc.LookBin(tc.bin); err != nil {
				t.Skipf("%v (Debian package %s)", err, tc.pkg)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e := &Env{Dir: filepath.Join(t.TempDir(), tc.name), Zones: zf}
			if err := os.MkdirAll(e.Dir, 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := tc.start(e)
			defer s.Stop()
			if err != nil {
				t.Fatal(err)
			}
			if err := WaitAnswer(ctx, s, e.Dir, cluster.Fqdn(cluster.ServiceName(0), cluster.NamespaceOf(0)), "10.254.4.0", 20*time.Second); err != nil {
				log, _ := os.ReadFile(filepath.Join(e.Dir, tc.bin+".log"))
				t.Fatalf("%v\n%s", err, log)
			}
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for _, q := range authQueries {
				req := new(dns.Msg).SetQuestion(q.name, q.qtype)
				got, _, err := c.ExchangeContext(ctx, req, s.Addr)
				if err != nil {
					t.Errorf("%s %s: %v", q.name, dns.TypeToString[q.qtype], err)
					continue
				}
				rec := dnstest.NewRecorder(true)
				kubedns.ServeDNS(rec, req.Copy())
				want := rec.Msg
				what := q.name + " " + dns.TypeToString[q.qtype]
				if got.Rcode != want.Rcode || !got.Authoritative {
					t.Errorf("%s: rcode %s aa=%v, kube-dns %s", what, dns.RcodeToString[got.Rcode], got.Authoritative, dns.RcodeToString[want.Rcode])
				}
				section := func(name string, g, w []string) {
					if !slices.Equal(g, w) {
						t.Errorf("%s: %s\n\t%s\nkube-dns:\n\t%s", what, name, strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
					}
				}
				section("answer", rrLines(got.Answer), rrLines(want.Answer))
				section("authority", rrLines(got.Ns), rrLines(want.Ns))
				if tc.extra { // Knot adds a target's address once per SRV record naming it, kube-dns once
					section("additional", slices.Compact(rrLines(got.Extra)), rrLines(want.Extra))
				}
			}
		})
	}
}

// rrLines are the records as sorted lines, OPT left out.
func rrLines(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr.String())
		}
	}
	slices.Sort(out)
	return out
}
