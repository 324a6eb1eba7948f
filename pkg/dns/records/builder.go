package records

import (
	"net/netip"
	"sort"

	"github.com/miekg/dns"
)

// SOA timers. The minimum (negative-caching TTL) is the record TTL.
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 86400
)

// Builder assembles a Snapshot from fragments, namespaces and pods. A Builder
// is used once: add everything, then call Finish.
type Builder struct {
	cfg    Config
	names  map[string]*Node
	nsIPs  []netip.Addr
	spaces []string
	pods   []Pod
}

// NewBuilder returns a Builder for the given configuration.
func NewBuilder(c *Config) *Builder {
	return &Builder{cfg: *c, names: make(map[string]*Node, 1024)}
}

// AddService adds the records of one Service.
func (b *Builder) AddService(f *Fragment) {
	if f == nil {
		return
	}
	for _, rr := range f.rrs {
		b.node(rr.Header().Name).add(rr)
	}
	if f.key == b.cfg.DNSService {
		b.nsIPs = f.clusterIPs
	}
}

// AddNamespace makes <ns>.svc.<domain> (and <ns>.pod.<domain>) exist.
func (b *Builder) AddNamespace(name string) { b.spaces = append(b.spaces, lower(name)) }

// AddPod adds a pod address; it is served only in verified pod mode.
func (b *Builder) AddPod(p Pod) { b.pods = append(b.pods, p) }

func (b *Builder) node(name string) *Node {
	n := b.names[name]
	if n == nil {
		n = &Node{name: name}
		b.names[name] = n
	}
	return n
}

// Finish adds the zone records, links every name to its parents and returns
// the immutable Snapshot. The Builder must not be used afterwards.
func (b *Builder) Finish(serial uint32) *Snapshot {
	c := &b.cfg
	d := c.Domain
	s := &Snapshot{cfg: b.cfg, serial: serial, soa: map[string]*dns.SOA{}}

	for _, zone := range [...]string{d, ReverseV4, ReverseV6} {
		soa := &dns.SOA{
			Hdr: c.hdr(zone, dns.TypeSOA), Ns: c.NSName(), Mbox: c.Hostmaster(),
			Serial: serial, Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: c.TTL,
		}
		s.soa[zone] = soa
		n := b.node(zone)
		n.add(soa)
		n.add(&dns.NS{Hdr: c.hdr(zone, dns.TypeNS), Ns: c.NSName()})
	}
	nsName := c.NSName()
	b.node(nsName)
	for _, ip := range b.nsIPs {
		ip = ip.Unmap()
		if ip.Is4() {
			b.node(nsName).add(&dns.A{Hdr: c.hdr(nsName, dns.TypeA), A: ip.AsSlice()})
		} else {
			b.node(nsName).add(&dns.AAAA{Hdr: c.hdr(nsName, dns.TypeAAAA), AAAA: ip.AsSlice()})
		}
	}
	version := "dns-version." + d
	b.node(version).add(&dns.TXT{Hdr: c.hdr(version, dns.TypeTXT), Txt: []string{SchemaVersion}})
	b.node("svc." + d)
	if c.Pods != PodsDisabled {
		b.node("pod." + d)
	}
	for _, ns := range b.spaces {
		b.node(ns + ".svc." + d)
		if c.Pods != PodsDisabled {
			b.node(ns + ".pod." + d)
		}
	}
	if c.Pods == PodsVerified {
		fb := fragmentBuilder{c: c, f: &Fragment{}, seen: map[string]struct{}{}}
		for _, p := range b.pods {
			fb.addr(DashedIP(p.IP)+"."+lower(p.Namespace)+".pod."+d, p.IP)
		}
		for _, rr := range fb.f.rrs {
			b.node(rr.Header().Name).add(rr)
		}
	}

	b.linkParents()
	b.addExtras()
	s.names = b.names
	b.names = nil
	return s
}

// linkParents creates the empty non-terminals between every name and its
// zone apex, and records children in the cluster domain.
func (b *Builder) linkParents() {
	d := b.cfg.Domain
	names := make([]string, 0, len(b.names))
	for name := range b.names {
		names = append(names, name)
	}
	children := map[string]map[string]struct{}{}
	for _, name := range names {
		zone := b.cfg.Zone(name)
		if zone == "" {
			continue
		}
		for cur := name; cur != zone && cur != ""; cur = parent(cur) {
			up := parent(cur)
			if up == "" {
				break
			}
			if zone == d {
				set := children[up]
				if set == nil {
					set = map[string]struct{}{}
					children[up] = set
				}
				set[firstLabel(cur)] = struct{}{}
			}
			if _, ok := b.names[up]; ok && zone != d {
				break // reverse zones: the rest of the chain exists already
			}
			b.node(up)
		}
	}
	for name, set := range children {
		labels := make([]string, 0, len(set))
		for l := range set {
			labels = append(labels, l)
		}
		sort.Strings(labels)
		b.names[name].children = labels
	}
}

// addExtras attaches the target addresses of SRV and NS records.
func (b *Builder) addExtras() {
	for _, n := range b.names {
		for i := range n.sets {
			set := &n.sets[i]
			var targets []string
			switch set.Type {
			case dns.TypeSRV:
				for _, rr := range set.RRs {
					targets = append(targets, rr.(*dns.SRV).Target)
				}
			case dns.TypeNS:
				for _, rr := range set.RRs {
					targets = append(targets, rr.(*dns.NS).Ns)
				}
			default:
				continue
			}
			seen := map[string]bool{}
			for _, t := range targets {
				if seen[t] {
					continue
				}
				seen[t] = true
				if tn := b.names[t]; tn != nil {
					set.Extra = append(set.Extra, tn.RRs(dns.TypeA)...)
					set.Extra = append(set.Extra, tn.RRs(dns.TypeAAAA)...)
				}
			}
		}
	}
}
