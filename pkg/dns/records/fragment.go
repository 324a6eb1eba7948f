package records

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Fragment is every record one Service contributes: its forward names, the
// names of its endpoints and its reverse (PTR) records. It is immutable.
type Fragment struct {
	key        string // namespace/name
	clusterIPs []netip.Addr
	rrs        []dns.RR
	groups     []group // rrs by owner name, sorted by name
}

// group is the records of a fragment at one owner name: rrs[lo:hi] once the
// fragment is sealed.
type group struct {
	name   string
	lo, hi int32
}

// seal sorts the records by owner name (keeping their order within a name)
// and indexes the names; a fragment is immutable afterwards.
func (f *Fragment) seal() *Fragment {
	slices.SortStableFunc(f.rrs, func(a, b dns.RR) int { return strings.Compare(a.Header().Name, b.Header().Name) })
	f.rrs = slices.Clip(f.rrs)
	for i, rr := range f.rrs {
		name := rr.Header().Name
		if n := len(f.groups); n > 0 && f.groups[n-1].name == name {
			f.groups[n-1].hi = int32(i + 1)
			continue
		}
		f.groups = append(f.groups, group{name: name, lo: int32(i), hi: int32(i + 1)})
	}
	f.groups = slices.Clip(f.groups)
	return f
}

// at returns the fragment's records at name, or nil.
func (f *Fragment) at(name string) []dns.RR {
	i, ok := slices.BinarySearchFunc(f.groups, name, func(g group, n string) int { return strings.Compare(g.name, n) })
	if !ok {
		return nil
	}
	g := f.groups[i]
	return f.rrs[g.lo:g.hi:g.hi]
}

// Key returns the Service's "namespace/name".
func (f *Fragment) Key() string { return f.key }

// Len returns the number of records in the fragment.
func (f *Fragment) Len() int {
	if f == nil {
		return 0
	}
	return len(f.rrs)
}

// Equal reports whether f and g hold the same records, in any order.
func (f *Fragment) Equal(g *Fragment) bool {
	if f == nil || g == nil {
		return f == g
	}
	if f.key != g.key || len(f.rrs) != len(g.rrs) || !equalAddrs(f.clusterIPs, g.clusterIPs) {
		return false
	}
	same := true
	for i := range f.rrs {
		if !sameRR(f.rrs[i], g.rrs[i]) {
			same = false
			break
		}
	}
	if same {
		return true
	}
	count := make(map[rrKey]int, len(f.rrs))
	for _, rr := range f.rrs {
		count[keyOf(rr)]++
	}
	for _, rr := range g.rrs {
		k := keyOf(rr)
		if count[k] == 0 {
			return false
		}
		count[k]--
	}
	return true
}

// sameRR reports whether two records are equal, TTL and SRV weights included.
func sameRR(a, b dns.RR) bool {
	if keyOf(a) != keyOf(b) || a.Header().Ttl != b.Header().Ttl {
		return false
	}
	if sa, ok := a.(*dns.SRV); ok {
		sb := b.(*dns.SRV)
		return sa.Weight == sb.Weight && sa.Priority == sb.Priority
	}
	return true
}

func equalAddrs(a, b []netip.Addr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ServiceRecords computes the records of one Service. sets are all of the
// Service's endpoint sets; only a headless Service reads them.
func (c *Config) ServiceRecords(svc *Service, sets []EndpointSet) *Fragment {
	f := &Fragment{key: svc.Namespace + "/" + svc.Name}
	b := fragmentBuilder{c: c, f: f}
	name := c.svcName(svc.Namespace, svc.Name)
	switch svc.Kind {
	case ClusterIP:
		f.clusterIPs = svc.ClusterIPs
		for _, ip := range svc.ClusterIPs {
			b.addr(name, ip)
			b.ptr(ip, name)
		}
		if len(svc.ClusterIPs) > 0 {
			srv := make([]*dns.SRV, 0, len(svc.Ports))
			for _, p := range svc.Ports {
				srv = append(srv, b.srv(name, p, name))
				if p.Name != "" {
					srv = append(srv, b.srv(portName(p, name), p, name))
				}
			}
			weigh(srv)
		}
	case Headless:
		b.headless(svc, name, sets)
	case ExternalName:
		if svc.ExternalName == "" {
			break
		}
		if ip, err := netip.ParseAddr(svc.ExternalName); err == nil && ip.Zone() == "" {
			b.addr(name, ip)
			break
		}
		b.add(&dns.CNAME{Hdr: c.hdr(name, dns.TypeCNAME), Target: fqdn(svc.ExternalName)})
	}
	return f.seal()
}

type fragmentBuilder struct {
	c    *Config
	f    *Fragment
	seen map[rrKey]struct{} // de-duplicates identical records; made on first use
}

// rrKey identifies a record by owner, type and data, for the record types a
// fragment holds (A, AAAA, PTR, SRV, CNAME, NS, TXT).
type rrKey struct {
	name, target string // target: PTR, SRV, CNAME, NS, TXT data
	typ, port    uint16
	ip           netip.Addr
}

func keyOf(rr dns.RR) rrKey {
	k := rrKey{name: rr.Header().Name, typ: rr.Header().Rrtype}
	switch rr := rr.(type) {
	case *dns.A:
		k.ip, _ = netip.AddrFromSlice(rr.A)
	case *dns.AAAA:
		k.ip, _ = netip.AddrFromSlice(rr.AAAA)
	case *dns.PTR:
		k.target = rr.Ptr
	case *dns.SRV:
		k.target, k.port = rr.Target, rr.Port
	case *dns.CNAME:
		k.target = rr.Target
	case *dns.NS:
		k.target = rr.Ns
	default:
		k.target = rr.String()
	}
	return k
}

func (b *fragmentBuilder) add(rr dns.RR) bool {
	k := keyOf(rr)
	if b.seen == nil {
		b.seen = make(map[rrKey]struct{}, 8)
	}
	if _, dup := b.seen[k]; dup {
		return false
	}
	b.seen[k] = struct{}{}
	b.f.rrs = append(b.f.rrs, rr)
	return true
}

func (b *fragmentBuilder) addr(name string, ip netip.Addr) {
	ip = ip.Unmap()
	if ip.Is4() {
		b.add(&dns.A{Hdr: b.c.hdr(name, dns.TypeA), A: ip.AsSlice()})
		return
	}
	b.add(&dns.AAAA{Hdr: b.c.hdr(name, dns.TypeAAAA), AAAA: ip.AsSlice()})
}

func (b *fragmentBuilder) ptr(ip netip.Addr, target string) {
	b.add(&dns.PTR{Hdr: b.c.hdr(ReverseName(ip), dns.TypePTR), Ptr: target})
}

// srv adds an SRV record at name; the weights are set by weigh once the whole
// set at that name is known.
func (b *fragmentBuilder) srv(name string, p Port, target string) *dns.SRV {
	rr := &dns.SRV{Hdr: b.c.hdr(name, dns.TypeSRV), Port: uint16(p.Port), Target: target}
	if !b.add(rr) {
		return nil
	}
	return rr
}

// weigh gives every SRV record of one owner name an equal share of 100.
func weigh(srv []*dns.SRV) {
	count := map[string]int{}
	for _, rr := range srv {
		if rr != nil {
			count[rr.Hdr.Name]++
		}
	}
	for _, rr := range srv {
		if rr != nil {
			rr.Weight = uint16(100 / count[rr.Hdr.Name])
		}
	}
}

// portName returns _<port>._<proto>.<name>.
func portName(p Port, name string) string {
	return "_" + lower(p.Name) + "._" + lower(p.Protocol) + "." + name
}

func (b *fragmentBuilder) headless(svc *Service, name string, sets []EndpointSet) {
	var srv []*dns.SRV
	for _, set := range sets {
		for _, ep := range set.Endpoints {
			if !ep.Ready && !svc.PublishNotReady {
				continue
			}
			for _, ip := range ep.Addresses {
				label := lower(ep.Hostname)
				if label == "" {
					label = DashedIP(ip)
				}
				target := label + "." + name
				b.addr(name, ip)
				b.addr(target, ip)
				b.ptr(ip, target)
				for _, p := range set.Ports {
					srv = append(srv, b.srv(name, p, target))
					if p.Name != "" {
						srv = append(srv, b.srv(portName(p, name), p, target))
					}
				}
			}
		}
	}
	weigh(srv)
}

func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			return toLowerASCII(s)
		}
	}
	return s
}

func toLowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
