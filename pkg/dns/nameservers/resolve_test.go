package nameservers

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

func TestInDomain(t *testing.T) {
	for _, tt := range []struct {
		name, domain string
		want         bool
	}{
		{"ns.kube-system.svc.cluster.local", "cluster.local", true},
		{"NS.Kube-System.SVC.Cluster.Local.", "cluster.local.", true},
		{"cluster.local", "cluster.local", true},
		{"notcluster.local", "cluster.local", false},
		{"dns.my.corp", "cluster.local", false},
		{"cluster.local.evil.com", "cluster.local", false},
		{"x.example.org", "example.org", true},
		{"anything", "", false},
	} {
		if got := InDomain(tt.name, tt.domain); got != tt.want {
			t.Errorf("InDomain(%q, %q) = %v, want %v", tt.name, tt.domain, got, tt.want)
		}
	}
}

func TestSplitResolver(t *testing.T) {
	r := &SplitResolver{
		ClusterDomain: "cluster.local",
		Cluster:       dnstest.Hosts(map[string][]string{"ns.default.svc.cluster.local": {"10.0.0.1"}}),
		Other:         dnstest.Hosts(map[string][]string{"dns.my.corp": {"192.0.2.1"}, "ns.default.svc.cluster.local": {"192.0.2.99"}}),
	}
	for host, want := range map[string]string{
		"ns.default.svc.cluster.local": "10.0.0.1",
		"dns.my.corp":                  "192.0.2.1",
	} {
		got, err := r.LookupAddrs(context.Background(), host)
		if err != nil || len(got) != 1 || got[0].String() != want {
			t.Errorf("LookupAddrs(%q) = %v, %v; want %s", host, got, err, want)
		}
	}
}

var testZone = map[string][]string{
	"both.ns.svc.cluster.local.": {
		"both.ns.svc.cluster.local. 30 IN A 10.0.0.2",
		"both.ns.svc.cluster.local. 30 IN A 10.0.0.1",
		"both.ns.svc.cluster.local. 30 IN AAAA fd00::1",
	},
	"v4.ns.svc.cluster.local.":    {"v4.ns.svc.cluster.local. 30 IN A 10.0.0.4"},
	"v6.ns.svc.cluster.local.":    {"v6.ns.svc.cluster.local. 30 IN AAAA fd00::6"},
	"empty.ns.svc.cluster.local.": {},
}

func TestKubeDNSResolver(t *testing.T) {
	addr := dnstest.ServeZone(t, testZone)
	r := &KubeDNSResolver{Server: addr, Timeout: time.Second}
	for _, tt := range []struct {
		host    string
		want    []string
		wantErr string
	}{
		{host: "both.ns.svc.cluster.local", want: []string{"10.0.0.2", "10.0.0.1", "fd00::1"}},
		{host: "v4.ns.svc.cluster.local.", want: []string{"10.0.0.4"}},
		{host: "v6.ns.svc.cluster.local", want: []string{"fd00::6"}},
		{host: "empty.ns.svc.cluster.local", wantErr: "no A or AAAA"},
		{host: "missing.ns.svc.cluster.local", wantErr: "NXDOMAIN"},
	} {
		t.Run(tt.host, func(t *testing.T) {
			got, err := r.LookupAddrs(context.Background(), tt.host)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LookupAddrs = %v, %v; want an error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := addrStrings(got); !slices.Equal(s, tt.want) {
				t.Errorf("LookupAddrs = %q, want %q", s, tt.want)
			}
		})
	}
}

func TestKubeDNSResolverUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0") // never answers
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	r := &KubeDNSResolver{Server: pc.LocalAddr().String(), Timeout: 50 * time.Millisecond}
	if got, err := r.LookupAddrs(context.Background(), "v4.ns.svc.cluster.local"); err == nil {
		t.Errorf("LookupAddrs = %v, want a timeout", got)
	}
}

func TestSystemResolver(t *testing.T) {
	addr := dnstest.ServeZone(t, testZone)
	r := SystemResolver{Resolver: &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
	got, err := r.LookupAddrs(context.Background(), "v4.ns.svc.cluster.local")
	if err != nil {
		t.Fatal(err)
	}
	if s := addrStrings(got); !slices.Equal(s, []string{"10.0.0.4"}) {
		t.Errorf("LookupAddrs = %q", s)
	}
	if _, err := r.LookupAddrs(context.Background(), "missing.ns.svc.cluster.local"); err == nil {
		t.Error("missing name resolved")
	}
}

func addrStrings(addrs []netip.Addr) []string {
	var out []string
	for _, a := range addrs {
		out = append(out, a.String())
	}
	return out
}
