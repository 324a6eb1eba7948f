package app

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// TestUpstreamServers: where the forwarding targets come from, and stub
// servers named in the cluster domain resolved from kubedns's own records.
func TestUpstreamServers(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(rc, []byte("nameserver 192.0.2.53\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := resolvConf
	resolvConf = rc
	t.Cleanup(func() { resolvConf = old })

	rcfg := &records.Config{Domain: "cluster.local.", TTL: 30}
	b := records.NewBuilder(rcfg)
	b.AddService(rcfg.ServiceRecords(&records.Service{Namespace: "kube-system", Name: "acme-dns",
		ClusterIPs: []netip.Addr{netip.MustParseAddr("10.254.7.7"), netip.MustParseAddr("fd00::7")}}, nil))
	snap := b.Finish(1)
	snapshot := func() *records.Snapshot { return snap }

	for _, tt := range []struct {
		name        string
		data        map[string]string
		nameservers []string
		upstreams   []string
		stubs       map[string][]string
	}{
		{name: "resolv.conf", upstreams: []string{"192.0.2.53:53"}},
		{name: "--nameservers", nameservers: []string{"192.0.2.1:53"}, upstreams: []string{"192.0.2.1:53"}},
		{name: "upstreamNameservers first", nameservers: []string{"192.0.2.1:53"},
			data:      map[string]string{"upstreamNameservers": `["8.8.8.8", "2001:db8::1"]`},
			upstreams: []string{"8.8.8.8:53", "[2001:db8::1]:53"}},
		{name: "stub by address and by cluster name",
			data:      map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4:5353", "acme-dns.kube-system.svc.cluster.local"]}`},
			upstreams: []string{"192.0.2.53:53"},
			stubs:     map[string][]string{"acme.local": {"1.2.3.4:5353", "10.254.7.7:53", "[fd00::7]:53"}}},
		{name: "a cluster name with no records is left out",
			data:      map[string]string{"stubDomains": `{"acme.local": ["gone.kube-system.svc.cluster.local"], "b.local": ["1.2.3.5"]}`},
			upstreams: []string{"192.0.2.53:53"},
			stubs:     map[string][]string{"b.local": {"1.2.3.5:53"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			if tt.data != nil {
				var err error
				if c, err = config.Parse(tt.data); err != nil {
					t.Fatal(err)
				}
			}
			opts := options.NewKubeDNSConfig()
			opts.Nameservers = tt.nameservers
			got := upstreamServers(context.Background(), c, opts, snapshot)
			if !slices.Equal(got.Upstreams, tt.upstreams) {
				t.Errorf("upstreams %q, want %q", got.Upstreams, tt.upstreams)
			}
			if len(got.Stubs) != len(tt.stubs) {
				t.Errorf("stubs %q, want %q", got.Stubs, tt.stubs)
			}
			for d, want := range tt.stubs {
				if !slices.Equal(got.Stubs[d], want) {
					t.Errorf("stub %s: %q, want %q", d, got.Stubs[d], want)
				}
			}
		})
	}
}
