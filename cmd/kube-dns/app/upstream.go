package app

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/dns/upstream"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// resolvConf is where the upstreams come from when neither the ConfigMap nor
// --nameservers names any, as in the original.
var resolvConf = "/etc/resolv.conf"

// configSource picks where the kube-dns ConfigMap is read from: the mounted
// directory (--config-dir, what the add-on uses), the API (--config-map), or
// nowhere (defaults).
func configSource(cfg *options.KubeDNSConfig, client kubeclient.Interface, m *config.Metrics) config.Source {
	switch {
	case cfg.ConfigDir != "":
		return config.NewDirSource(cfg.ConfigDir, cfg.ConfigPeriod, m)
	case cfg.ConfigMap != "":
		return config.NewConfigMapSource(client, cfg.ConfigMapNs, cfg.ConfigMap, m)
	}
	return config.NewStatic(config.Default())
}

// followConfig applies every configuration the source delivers to the
// resolver, and re-resolves stub servers given as names every period.
func followConfig(ctx context.Context, src config.Source, r *upstream.Resolver, cfg *options.KubeDNSConfig, snapshot func() *records.Snapshot) {
	ch := make(chan *config.Config, 1)
	go func() {
		if err := src.Run(ctx, ch); err != nil && ctx.Err() == nil {
			klog.ErrorS(err, "kube-dns configuration source stopped; keeping the last configuration")
		}
	}()
	var current *config.Config
	tick := time.NewTicker(cfg.ConfigPeriod)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c := <-ch:
			current = c
			servers := upstreamServers(ctx, c, cfg, snapshot)
			klog.InfoS("Applying kube-dns configuration", "upstreams", servers.Upstreams, "stubDomains", servers.Stubs)
			r.Set(servers)
		case <-tick.C:
			if current != nil && nameservers.HasNames(current) {
				r.Set(upstreamServers(ctx, current, cfg, snapshot))
			}
		}
	}
}

// upstreamServers turns a configuration into forwarding targets:
// upstreamNameservers, else --nameservers, else /etc/resolv.conf; stub
// servers given as names are resolved now, those in the cluster domain from
// kubedns's own records.
func upstreamServers(ctx context.Context, c *config.Config, cfg *options.KubeDNSConfig, snapshot func() *records.Snapshot) upstream.Servers {
	r := &nameservers.SplitResolver{
		ClusterDomain: cfg.ClusterDomain,
		Cluster:       snapshotResolver(snapshot),
		Other:         nameservers.SystemResolver{},
	}
	resolved := nameservers.Resolve(ctx, c, r)
	s := upstream.Servers{Stubs: map[string][]string{}}
	for _, ap := range resolved.Upstreams {
		s.Upstreams = append(s.Upstreams, ap.String())
	}
	for domain, servers := range resolved.Stubs {
		for _, ap := range servers {
			s.Stubs[domain] = append(s.Stubs[domain], ap.String())
		}
	}
	if len(s.Upstreams) == 0 {
		s.Upstreams = cfg.Nameservers
	}
	if len(s.Upstreams) == 0 {
		if rc, err := dns.ClientConfigFromFile(resolvConf); err == nil {
			for _, h := range rc.Servers {
				s.Upstreams = append(s.Upstreams, net.JoinHostPort(h, rc.Port))
			}
		} else {
			klog.ErrorS(err, "No upstream nameservers: names outside the cluster domain will get SERVFAIL", "resolvConf", resolvConf)
		}
	}
	return s
}

// snapshotResolver looks names up in the snapshot of the moment.
func snapshotResolver(snapshot func() *records.Snapshot) nameservers.Resolver {
	return nameservers.ResolverFunc(func(_ context.Context, host string) ([]netip.Addr, error) {
		s := snapshot()
		if s == nil {
			return nil, errors.New("no records yet")
		}
		n := s.Lookup(dnsname.Fqdn(host))
		if n == nil {
			return nil, errors.New("no such name in the cluster domain")
		}
		// Concat copies: the snapshot's slices are shared.
		return nameservers.Addrs(slices.Concat(n.RRs(dns.TypeA), n.RRs(dns.TypeAAAA))), nil
	})
}
