package app

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/config"
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
			if current != nil && hasNamedStub(current) {
				r.Set(upstreamServers(ctx, current, cfg, snapshot))
			}
		}
	}
}

// upstreamServers turns a configuration into forwarding targets:
// upstreamNameservers, else --nameservers, else /etc/resolv.conf; stub
// servers given as names are resolved now.
func upstreamServers(ctx context.Context, c *config.Config, cfg *options.KubeDNSConfig, snapshot func() *records.Snapshot) upstream.Servers {
	s := upstream.Servers{Upstreams: c.UpstreamNameservers, Stubs: map[string][]string{}}
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
	for domain, servers := range c.StubDomains {
		for _, srv := range servers {
			host, port, err := config.StubServer(srv)
			if err != nil {
				continue // validated when parsed
			}
			for _, ip := range resolveHost(ctx, host, cfg.ClusterDomain, snapshot) {
				s.Stubs[domain] = append(s.Stubs[domain], net.JoinHostPort(ip.String(), strconv.Itoa(port)))
			}
		}
	}
	return s
}

// resolveHost returns the addresses of a stub server: an IP as it is; a name
// in the cluster domain from kubedns's own records; any other name through
// the system resolver. A name that does not resolve is logged and left out.
func resolveHost(ctx context.Context, host, domain string, snapshot func() *records.Snapshot) []netip.Addr {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}
	}
	name := dns.Fqdn(strings.ToLower(host))
	var out []netip.Addr
	if dns.IsSubDomain(domain, name) {
		if s := snapshot(); s != nil {
			if n := s.Lookup(name); n != nil {
				for _, rr := range append(n.RRs(dns.TypeA), n.RRs(dns.TypeAAAA)...) {
					switch rr := rr.(type) {
					case *dns.A:
						out = append(out, netip.AddrFrom4([4]byte(rr.A.To4())))
					case *dns.AAAA:
						out = append(out, netip.AddrFrom16([16]byte(rr.AAAA.To16())))
					}
				}
			}
		}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err == nil {
			out = ips
		}
	}
	if len(out) == 0 {
		klog.InfoS("Stub domain server does not resolve; leaving it out until it does", "server", host)
	}
	return out
}

func hasNamedStub(c *config.Config) bool {
	for _, servers := range c.StubDomains {
		for _, s := range servers {
			if host, _, err := config.StubServer(s); err == nil {
				if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
					return true
				}
			}
		}
	}
	return false
}
