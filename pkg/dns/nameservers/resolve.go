// Package nameservers turns the kube-dns ConfigMap's stubDomains and
// upstreamNameservers into server addresses, resolving stub servers given
// by name: names in the cluster domain from kubedns's records, others
// through the system resolver. kubedns and the dnsmasq nanny both use it,
// so that a name resolves the same way in both.
package nameservers

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// Resolver looks up the addresses of a stub domain server given by name.
type Resolver interface {
	LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error)
}

// lookupTimeout bounds the resolution of one server name; exchangeTimeout
// one query of a DNSResolver.
const (
	lookupTimeout   = 5 * time.Second
	exchangeTimeout = 2 * time.Second
)

// NewResolver returns the resolver the nanny uses: names inside
// clusterDomain go to kubedns at kubednsServer ("host:port"), every other
// name to the system resolver.
func NewResolver(kubednsServer, clusterDomain string) Resolver {
	return &SplitResolver{
		ClusterDomain: clusterDomain,
		Cluster:       &KubeDNSResolver{Server: kubednsServer},
		Other:         SystemResolver{},
	}
}

// SplitResolver sends names inside ClusterDomain to Cluster and all other
// names to Other.
type SplitResolver struct {
	// ClusterDomain is the cluster's DNS domain, e.g. "cluster.local"
	// (any case, trailing dot optional).
	ClusterDomain string
	Cluster       Resolver
	Other         Resolver
}

// LookupAddrs implements Resolver.
func (r *SplitResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if InDomain(host, r.ClusterDomain) {
		return r.Cluster.LookupAddrs(ctx, host)
	}
	return r.Other.LookupAddrs(ctx, host)
}

// InDomain reports whether name is domain or a name below it, ignoring
// case and trailing dots. No name is in the empty domain.
func InDomain(name, domain string) bool {
	if strings.Trim(domain, ".") == "" {
		return false
	}
	return dnsname.InZone(dnsname.Fqdn(name), dnsname.Fqdn(domain))
}

// KubeDNSResolver asks one DNS server (kubedns) for a name's A and then
// AAAA records.
type KubeDNSResolver struct {
	// Server is "host:port".
	Server string
	// Timeout bounds each exchange; 0 means exchangeTimeout.
	Timeout time.Duration
}

// LookupAddrs implements Resolver. It fails only when neither query gave an
// address.
func (r *KubeDNSResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	var (
		addrs []netip.Addr
		errs  []error
	)
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		got, err := r.query(ctx, dns.Fqdn(host), qtype)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", dns.TypeToString[qtype], host, err))
			continue
		}
		addrs = append(addrs, got...)
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	if len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no A or AAAA records", host))
	}
	return nil, fmt.Errorf("kubedns %s: %w", r.Server, errors.Join(errs...))
}

func (r *KubeDNSResolver) query(ctx context.Context, name string, qtype uint16) ([]netip.Addr, error) {
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = exchangeTimeout
	}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: "udp", Timeout: timeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.Server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.Server)
	}
	if err != nil {
		return nil, err
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, errors.New(dns.RcodeToString[resp.Rcode])
	}
	return Addrs(resp.Answer), nil
}

// Addrs returns the addresses of the A and AAAA records among rrs, in order.
func Addrs(rrs []dns.RR) []netip.Addr {
	var out []netip.Addr
	for _, rr := range rrs {
		var ip net.IP
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A
		case *dns.AAAA:
			ip = rr.AAAA
		default:
			continue
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap())
		}
	}
	return out
}

// SystemResolver resolves names with Go's resolver (net.DefaultResolver
// when Resolver is nil): /etc/hosts and /etc/resolv.conf.
type SystemResolver struct {
	Resolver *net.Resolver
}

// LookupAddrs implements Resolver.
func (r SystemResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	res := r.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	addrs, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	for i, a := range addrs {
		addrs[i] = a.Unmap()
	}
	return addrs, nil
}

// Servers are forwarding targets, every name already resolved.
type Servers struct {
	// Stubs maps a stub domain (lower case, no trailing dot) to its servers,
	// in the order they are to be used.
	Stubs map[string][]netip.AddrPort
	// Upstreams answer every name outside the stub domains and the cluster
	// domain. Empty when the ConfigMap names none.
	Upstreams []netip.AddrPort
}

// Resolve turns cfg into Servers, looking up the stub servers given by name
// through r now (LookupAll: concurrently, within a bounded time). A nil cfg
// means no stubs and no upstreams. A name that does not resolve and a
// domain left without servers are logged; see Build.
func Resolve(ctx context.Context, cfg *config.Config, r Resolver) Servers {
	logger := klog.FromContext(ctx)
	var mu sync.Mutex
	addrs := map[string][]netip.Addr{}
	LookupAll(ctx, r, Names(cfg), 0, 0, func(l Lookup) {
		if l.Err != nil {
			logger.Error(l.Err, "Cannot resolve stub domain server, leaving it out", "server", l.Host)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		addrs[l.Host] = l.Addrs
	})
	s, left := Build(ctx, cfg, addrs)
	for _, d := range left {
		logger.Error(nil, "Stub domain has no usable server, leaving it out", "domain", d, "servers", cfg.StubDomains[d])
	}
	return s
}

// Build turns cfg into Servers, the stub servers given by name taking the
// addresses addrs holds for them (every address, in the order given; see
// LookupAll). It returns the stub domains left out, sorted. A nil cfg means
// no stubs and no upstreams.
//
// A name addrs lacks is left out, and the domain keeps its other servers:
// dnsmasq refuses a server it cannot parse, so writing the name would cost
// every domain, not just this one. A domain none of whose servers is usable
// is left out, and its names go upstream until one is. Entries that do not
// parse (config.Parse rejects them) are logged and left out.
func Build(ctx context.Context, cfg *config.Config, addrs map[string][]netip.Addr) (Servers, []string) {
	logger := klog.FromContext(ctx)
	var (
		s    Servers
		left []string
	)
	if cfg == nil {
		return s, nil
	}
	for _, u := range cfg.UpstreamNameservers {
		ap, err := netip.ParseAddrPort(u)
		if err != nil {
			logger.Error(err, "Ignoring upstream nameserver", "server", u)
			continue
		}
		s.Upstreams = append(s.Upstreams, unmapPort(ap))
	}
	for domain, servers := range cfg.StubDomains {
		var out []netip.AddrPort
		for _, server := range servers {
			host, port, err := config.StubServer(server)
			if err != nil {
				logger.Error(err, "Ignoring stub domain server", "domain", domain, "server", server)
				continue
			}
			if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				out = appendNew(out, netip.AddrPortFrom(a.Unmap(), uint16(port)))
				continue
			}
			for _, a := range addrs[host] {
				out = appendNew(out, netip.AddrPortFrom(a.Unmap(), uint16(port)))
			}
		}
		if len(out) == 0 {
			left = append(left, domain)
			continue
		}
		if s.Stubs == nil {
			s.Stubs = map[string][]netip.AddrPort{}
		}
		s.Stubs[domain] = out
	}
	slices.Sort(left)
	return s, left
}

func unmapPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// appendNew appends ap unless s already holds it.
func appendNew(s []netip.AddrPort, ap netip.AddrPort) []netip.AddrPort {
	if slices.Contains(s, ap) {
		return s
	}
	return append(s, ap)
}

// ResolverFunc is a function that serves as a Resolver.
type ResolverFunc func(ctx context.Context, host string) ([]netip.Addr, error)

// LookupAddrs implements Resolver.
func (f ResolverFunc) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	return f(ctx, host)
}

// HasNames reports whether some stub server of cfg is given by name, so
// that its addresses may change without the ConfigMap changing.
func HasNames(cfg *config.Config) bool { return len(Names(cfg)) > 0 }
