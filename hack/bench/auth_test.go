package main

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

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	dnsserver "github.com/kubedns-go/kube-dns/pkg/dns/server"
)

func testAuthConf() authConf {
	return authConf{dir: "/run/x", zonesDir: "/z", zones: zoneApexes, port: 25353, workers: 2, user: "bench:bench"}
}

func TestKnotConfig(t *testing.T) {
	conf := knotConfig(testAuthConf())
	for _, want := range []string{
		"    rundir: \"/run/x\"\n", "    user: bench:bench\n", "    listen: 127.0.0.1@25353\n",
		"    udp-workers: 2\n    tcp-workers: 2\n    background-workers: 1\n",
		"database:\n    storage: \"/run/x\"\n", "    storage: \"/z\"\n    file: \"%s.zone\"\n",
		"    zonefile-sync: -1\n", "    journal-content: none\n",
		"  - domain: cluster.local.\n  - domain: in-addr.arpa.\n  - domain: ip6.arpa.\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("knot.conf lacks %q:\n%s", want, conf)
		}
	}
}

func TestNSDConfig(t *testing.T) {
	conf := nsdConfig(testAuthConf())
	for _, want := range []string{
		"    ip-address: 127.0.0.1@25353\n", "    server-count: 2\n    reuseport: yes\n", "    username: \"\"\n",
		"    zonesdir: \"/run/x\"\n", "    pidfile: \"/run/x/nsd.pid\"\n", "    database: \"\"\n",
		"    xfrdfile: \"/run/x/xfrd.state\"\n", "    zonelistfile: \"/run/x/zone.list\"\n", "    rrl-ratelimit: 0\n",
		"zone:\n    name: cluster.local.\n    zonefile: \"/z/cluster.local.zone\"\n",
		"zone:\n    name: in-addr.arpa.\n    zonefile: \"/z/in-addr.arpa.zone\"\n",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("nsd.conf lacks %q:\n%s", want, conf)
		}
	}
	check, err := lookBin("nsd-checkconf")
	if err != nil {
		return
	}
	path := filepath.Join(t.TempDir(), "nsd.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(check, path).CombinedOutput(); err != nil {
		t.Errorf("nsd-checkconf: %v\n%s", err, out)
	}
}

// needServer finds an authoritative server's program; without it the test
// is skipped, or fails when BENCH_REQUIRE_AUTH=1.
func needServer(t *testing.T, bin, pkg string) {
	t.Helper()
	if _, err := lookBin(bin); err != nil {
		if os.Getenv("BENCH_REQUIRE_AUTH") == "1" {
			t.Fatalf("%v: apt-get install -y %s (BENCH_REQUIRE_AUTH=1)", err, pkg)
		}
		t.Skipf("%v (Debian package %s)", err, pkg)
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

// TestAuthServers starts knotd and nsd on zone files of the fixtures and
// checks that they answer as kube-dns's own handler does on the same
// objects: rcode, answers, authority; and Knot the additional records too
// (NSD's minimal responses leave out SRV targets' addresses), but for
// repeating one.
func TestAuthServers(t *testing.T) {
	svcs, eps := fixtures()
	zf, err := writeZoneFiles(filepath.Join(t.TempDir(), "zones"), buildZones(svcs, eps, testSerial))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &records.Config{Domain: domain, TTL: zoneTTL, Pods: records.PodsInsecure, DNSService: dnsService}
	b := records.NewBuilder(cfg)
	for i := range svcs {
		b.AddService(cfg.ServiceRecords(toRecords(&svcs[i]), toSets(&svcs[i], eps)))
		b.AddNamespace(svcs[i].Namespace)
	}
	snap := b.Finish(testSerial)
	kubedns := dnsserver.NewHandler(dnsserver.Options{Domain: domain, Snapshot: func() *records.Snapshot { return snap }})

	for _, tc := range []struct {
		name, bin, pkg string
		start          func(context.Context, *benchEnv) (*server, error)
		extra          bool
	}{
		{"knot", "knotd", "knot", startKnot, true},
		{"nsd", "nsd", "nsd", startNSD, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			needServer(t, tc.bin, tc.pkg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e := &benchEnv{cfg: &config{}, dir: filepath.Join(t.TempDir(), tc.name), zones: zf}
			if err := os.MkdirAll(e.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			s, err := tc.start(ctx, e)
			defer s.stop()
			if err != nil {
				t.Fatal(err)
			}
			if err := waitAnswer(ctx, s, e.dir, fqdn(svcName(0), namespaceOf(0)), "10.254.4.0", 20*time.Second); err != nil {
				log, _ := os.ReadFile(filepath.Join(e.dir, tc.bin+".log"))
				t.Fatalf("%v\n%s", err, log)
			}
			c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
			for _, q := range authQueries {
				req := new(dns.Msg).SetQuestion(q.name, q.qtype)
				got, _, err := c.ExchangeContext(ctx, req, s.addr)
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
				sections := []struct {
					name      string
					got, want []dns.RR
				}{{"answer", got.Answer, want.Answer}, {"authority", got.Ns, want.Ns}}
				if tc.extra {
					sections = append(sections, struct {
						name      string
						got, want []dns.RR
					}{"additional", got.Extra, want.Extra})
				}
				for _, sec := range sections {
					g, w := rrLines(sec.got), rrLines(sec.want)
					if sec.name == "additional" {
						// Knot adds a target's address once per SRV
						// record naming it, kube-dns once.
						g = slices.Compact(g)
					}
					if !slices.Equal(g, w) {
						t.Errorf("%s: %s\n\t%s\nkube-dns:\n\t%s", what, sec.name, strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
					}
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
