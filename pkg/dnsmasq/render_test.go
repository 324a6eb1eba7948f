package dnsmasq

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
)

func mustParse(t *testing.T, data map[string]string) *config.Config {
	t.Helper()
	c, err := config.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRenderConfig(t *testing.T) {
	base := []string{"-k", "--cache-size=1000"}
	resolver := dnstest.Hosts{
		"dns.my.corp":                      {"192.0.2.7"},
		"multi.my.corp":                    {"fd00::2", "192.0.2.9", "192.0.2.8", "::ffff:192.0.2.10"},
		"ns.kube-system.svc.cluster.local": {"10.0.0.53"},
	}
	for _, tt := range []struct {
		name string
		data map[string]string // nil: no configuration at all
		want []string          // after base
	}{
		{name: "no config"},
		{name: "empty config", data: map[string]string{}},
		{
			name: "IPv4 stub, default port",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4"]}`},
			want: []string{"--server=/acme.local/1.2.3.4#53"},
		},
		{
			name: "ports and server order kept",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.5:5353", "1.2.3.4"]}`},
			want: []string{"--server=/acme.local/1.2.3.5#5353", "--server=/acme.local/1.2.3.4#53"},
		},
		{
			name: "IPv6 without brackets",
			data: map[string]string{"stubDomains": `{"v6.local": ["fd00::1", "[fd00::2]:5353"]}`},
			want: []string{"--server=/v6.local/fd00::1#53", "--server=/v6.local/fd00::2#5353"},
		},
		{
			name: "domains sorted",
			data: map[string]string{"stubDomains": `{"zz.local": ["1.1.1.1"], "aa.local": ["2.2.2.2"], "mm.local": ["3.3.3.3"]}`},
			want: []string{"--server=/aa.local/2.2.2.2#53", "--server=/mm.local/3.3.3.3#53", "--server=/zz.local/1.1.1.1#53"},
		},
		{
			name: "names resolved",
			data: map[string]string{"stubDomains": `{"acme.local": ["dns.my.corp:5353", "ns.kube-system.svc.cluster.local"]}`},
			want: []string{"--server=/acme.local/192.0.2.7#5353", "--server=/acme.local/10.0.0.53#53"},
		},
		{
			name: "every address of a name, sorted, IPv4 first",
			data: map[string]string{"stubDomains": `{"acme.local": ["multi.my.corp"]}`},
			want: []string{
				"--server=/acme.local/192.0.2.8#53", "--server=/acme.local/192.0.2.9#53",
				"--server=/acme.local/192.0.2.10#53", "--server=/acme.local/fd00::2#53",
			},
		},
		{
			name: "unresolved name left out, others kept",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4", "gone.my.corp", "dns.my.corp"]}`},
			want: []string{"--server=/acme.local/1.2.3.4#53", "--server=/acme.local/192.0.2.7#53"},
		},
		{
			name: "domain without a usable server left out",
			data: map[string]string{"stubDomains": `{"acme.local": ["gone.my.corp"], "b.local": ["1.2.3.4"]}`},
			want: []string{"--server=/b.local/1.2.3.4#53"},
		},
		{
			name: "duplicate servers once",
			data: map[string]string{"stubDomains": `{"acme.local": ["192.0.2.7", "dns.my.corp"]}`},
			want: []string{"--server=/acme.local/192.0.2.7#53"},
		},
		{
			name: "upstreams and --no-resolv",
			data: map[string]string{"upstreamNameservers": `["8.8.8.8", "8.8.4.4:5353", "2001:4860:4860::8888"]`},
			want: []string{"--server=8.8.8.8#53", "--server=8.8.4.4#5353", "--server=2001:4860:4860::8888#53", "--no-resolv"},
		},
		{
			name: "stubs before upstreams",
			data: map[string]string{
				"stubDomains":         `{"acme.local": ["1.2.3.4"]}`,
				"upstreamNameservers": `["8.8.8.8"]`,
			},
			want: []string{"--server=/acme.local/1.2.3.4#53", "--server=8.8.8.8#53", "--no-resolv"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var cfg *config.Config
			if tt.data != nil {
				cfg = mustParse(t, tt.data)
			}
			want := append(slices.Clone(base), tt.want...)
			for range 3 { // the same input gives the same output
				got := Render(base, nameservers.Resolve(context.Background(), cfg, resolver))
				if !slices.Equal(got, want) {
					t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

func TestRenderDoesNotAlias(t *testing.T) {
	base := make([]string, 1, 10)
	base[0] = "-k"
	a := Render(base, nameservers.Servers{Upstreams: []netip.AddrPort{netip.MustParseAddrPort("1.1.1.1:53")}})
	b := Render(base, nameservers.Servers{Upstreams: []netip.AddrPort{netip.MustParseAddrPort("2.2.2.2:53")}})
	if a[1] != "--server=1.1.1.1#53" || b[1] != "--server=2.2.2.2#53" || len(base) != 1 {
		t.Errorf("renders share memory: %q %q", a, b)
	}
}

func TestWithForeground(t *testing.T) {
	for _, tt := range []struct {
		args, want []string
	}{
		{args: nil, want: []string{"--keep-in-foreground"}},
		{args: []string{"--cache-size=10"}, want: []string{"--keep-in-foreground", "--cache-size=10"}},
		{args: []string{"--cache-size=10", "-k"}, want: []string{"--cache-size=10", "-k"}},
		{args: []string{"--keep-in-foreground"}, want: []string{"--keep-in-foreground"}},
		{args: []string{"-d"}, want: []string{"-d"}},
		{args: []string{"--no-daemon"}, want: []string{"--no-daemon"}},
		{args: []string{"--server=/-k/1.1.1.1"}, want: []string{"--keep-in-foreground", "--server=/-k/1.1.1.1"}},
	} {
		if got := withForeground(tt.args); !slices.Equal(got, tt.want) {
			t.Errorf("withForeground(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}
