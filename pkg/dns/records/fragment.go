package records

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// Fragment is every record one Service contributes: its forward names, the
// names of its endpoints and its reverse (PTR) records. It is immutable.
//
// The records are held only in wire form, as the sets a node serves: for
// each owner name (groups sorted by name) one RRSet per type, whose Wire is
// the answer records followed by the address records of their targets
// (SRV, NS) found in the same fragment. Each group is the node of its name
// as this fragment alone makes it: a name that only this fragment makes is
// served by that node as it is.
type Fragment struct {
	key    string       // namespace/name
	groups []Node       // sorted by name; each with frag this fragment
	self   [1]*Fragment // the fragment itself: the fragment list of the names it alone makes
	wild   uint32       // the types at each depth below the Service's name, for wildcards (Wildcards)
	svc    string       // the Service's name, <name>.<ns>.svc.<domain>
	more   *fragMore    // nil for most Services: 80 bytes a fragment rather than 128
}

// fragMore is what few fragments hold.
type fragMore struct {
	clusterIPs []netip.Addr // the cluster IPs of the DNS Service (Config.DNSService), for the zones' NS
	kids       []string     // the names directly below the Service's but _<proto>, sorted (endpoints)
}

// clusterIPs returns the cluster IPs of the DNS Service's fragment, or nil.
func (f *Fragment) clusterIPs() []netip.Addr {
	if f.more == nil {
		return nil
	}
	return f.more.clusterIPs
}

// kids returns the names directly below the Service's name but
// _<proto>, sorted.
func (f *Fragment) kids() []string {
	if f.more == nil {
		return nil
	}
	return f.more.kids
}

// answerHeaderLen is the size of a record in answer form before its data:
// owner pointer, type, class, TTL and data length.
const answerHeaderLen = 12

// recordAt returns the type of the answer-form record at b[off:] and where it ends.
func recordAt(b []byte, off int) (typ uint16, end int) {
	typ = binary.BigEndian.Uint16(b[off+2:])
	return typ, off + answerHeaderLen + int(binary.BigEndian.Uint16(b[off+10:]))
}

// AnswerEnd returns where the answer-form record (the owner a pointer to
// the question) at b[off:] ends: the records of a set before its
// additional ones.
func AnswerEnd(b []byte, off int) int {
	_, end := recordAt(b, off)
	return end
}

// RecordEnd returns where the full-form record (the owner a name, maybe
// compressed) at b[off:] ends: an additional record of a set.
func RecordEnd(b []byte, off int) int {
	off += nameLen(b[off:])
	return off + answerHeaderLen - 2 + int(binary.BigEndian.Uint16(b[off+8:]))
}

// at returns the fragment's sets at name, or nil.
func (f *Fragment) at(name string) []RRSet {
	if n := f.node(name); n != nil {
		return n.sets
	}
	return nil
}

// node returns the fragment's node of name, or nil.
func (f *Fragment) node(name string) *Node {
	i, ok := slices.BinarySearchFunc(f.groups, name, func(g Node, n string) int { return strings.Compare(g.name, n) })
	if !ok {
		return nil
	}
	return &f.groups[i]
}

// Key returns the Service's "namespace/name".
func (f *Fragment) Key() string { return f.key }

// Equal reports whether f and g hold the same records; the records of a set
// may be in any order.
func (f *Fragment) Equal(g *Fragment) bool {
	if f == nil || g == nil {
		return f == g
	}
	if f.key != g.key || len(f.groups) != len(g.groups) ||
		!slices.Equal(f.clusterIPs(), g.clusterIPs()) {
		return false
	}
	for i := range f.groups {
		fg, gg := &f.groups[i], &g.groups[i]
		if fg.name != gg.name || len(fg.sets) != len(gg.sets) {
			return false
		}
		for j := range fg.sets {
			if !fg.sets[j].same(&gg.sets[j]) {
				return false
			}
		}
	}
	return true
}

// same reports whether two sets hold the same records in any order.
func (s *RRSet) same(o *RRSet) bool {
	if s.Type != o.Type || s.An != o.An || s.Ar != o.Ar || len(s.Wire) != len(o.Wire) {
		return false
	}
	if bytes.Equal(s.Wire, o.Wire) {
		return true
	}
	a, b := s.split(), o.split()
	return slices.Equal(a, b)
}

// split returns the set's records, answers then additional ones, each part sorted.
func (s *RRSet) split() []string {
	out := make([]string, 0, int(s.An)+int(s.Ar))
	off := 0
	for range s.An {
		_, end := recordAt(s.Wire, off)
		out = append(out, string(s.Wire[off:end]))
		off = end
	}
	slices.Sort(out)
	for range s.Ar {
		end := RecordEnd(s.Wire, off)
		out = append(out, string(s.Wire[off:end]))
		off = end
	}
	slices.Sort(out[s.An:])
	return out
}

// ServiceRecords computes the records of one Service. sets are all of the
// Service's endpoint sets; only a headless Service reads them.
func (c *Config) ServiceRecords(svc *Service, sets []EndpointSet) *Fragment {
	b := fragmentBuilder{c: c, key: svc.Namespace + "/" + svc.Name}
	name := c.svcName(svc.Namespace, svc.Name)
	var clusterIPs []netip.Addr
	switch svc.Kind {
	case ClusterIP:
		clusterIPs = svc.ClusterIPs
		b.virtualIPs(name, svc.ClusterIPs, svc.Ports)
	case Headless:
		b.headless(name, sets, svc.PublishNotReady, false)
	case ExternalName:
		if svc.ExternalName == "" {
			break
		}
		if ip, err := netip.ParseAddr(svc.ExternalName); err == nil && ip.Zone() == "" {
			b.addr(name, ip)
			break
		}
		b.add(rec{name: name, typ: dns.TypeCNAME, target: dnsname.Fqdn(svc.ExternalName)})
	}
	f := b.seal()
	if b.key == c.DNSService && len(clusterIPs) > 0 {
		f.more = &fragMore{clusterIPs: clusterIPs}
	}
	f.summarize(name)
	return f
}

// rec is a record before it is encoded; with weight zero it is also the key
// that de-duplicates records.
type rec struct {
	name   string
	target string // PTR, SRV, CNAME and NS target; TXT text
	ip     netip.Addr
	typ    uint16
	port   uint16 // SRV
	weight uint16 // SRV: an equal share of 100 among the SRV records at name
}

type fragmentBuilder struct {
	c    *Config
	key  string
	recs []rec
	seen map[rec]struct{} // once there are many records
	s    *scratch         // from scratchPool, until seal
}

// scratch is a builder's working memory, reused across builders: records
// are built here and only the encoded result is allocated per fragment.
type scratch struct {
	recs  []rec
	spans []span
	wire  []byte
	q     []byte // the owner of the set being encoded: its question
	comp  compressor
}

// span is one set of a fragment being sealed: wire[lo:hi] of the scratch.
type span struct {
	name        string
	typ, an, ar uint16
	caseSafe    uint8
	lo, hi      int
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (b *fragmentBuilder) scratch() *scratch {
	if b.s == nil {
		b.s = scratchPool.Get().(*scratch)
		b.recs = b.s.recs[:0]
	}
	return b.s
}

// scanBelow is how many records the builder de-duplicates by comparing
// with each; past it, a set does.
const scanBelow = 32

func (b *fragmentBuilder) add(r rec) {
	switch {
	case b.seen != nil:
		if _, dup := b.seen[r]; dup {
			return
		}
		b.seen[r] = struct{}{}
	case len(b.recs) < scanBelow:
		if slices.Contains(b.recs, r) {
			return
		}
	default:
		if slices.Contains(b.recs, r) {
			return
		}
		b.seen = make(map[rec]struct{}, 2*len(b.recs))
		for _, o := range b.recs {
			b.seen[o] = struct{}{}
		}
		b.seen[r] = struct{}{}
	}
	b.scratch()
	b.recs = append(b.recs, r)
}

func (b *fragmentBuilder) addr(name string, ip netip.Addr) {
	ip = ip.Unmap()
	if ip.Is4() {
		b.add(rec{name: name, typ: dns.TypeA, ip: ip})
		return
	}
	b.add(rec{name: name, typ: dns.TypeAAAA, ip: ip})
}

func (b *fragmentBuilder) ptr(ip netip.Addr, target string) {
	b.add(rec{name: ReverseName(ip), typ: dns.TypePTR, target: target})
}

// srv adds an SRV record at name; seal sets the weights once every SRV
// record at that name is known.
func (b *fragmentBuilder) srv(name string, p Port, target string) {
	b.add(rec{name: name, typ: dns.TypeSRV, port: uint16(p.Port), target: target})
}

// seal weighs the SRV records, sorts the records by owner name and type
// (keeping their order otherwise) and encodes them into a Fragment. A record
// that cannot be encoded (a name longer than DNS allows) is left out.
func (b *fragmentBuilder) seal() *Fragment {
	f := &Fragment{key: b.key}
	f.self[0] = f
	slices.SortStableFunc(b.recs, func(x, y rec) int {
		return cmp.Or(strings.Compare(x.name, y.name), cmp.Compare(x.typ, y.typ))
	})
	// The SRV records of one name are now side by side: each gets an equal
	// share of 100.
	for i := 0; i < len(b.recs); {
		j := i + 1
		for j < len(b.recs) && b.recs[j].typ == b.recs[i].typ && b.recs[j].name == b.recs[i].name {
			j++
		}
		if b.recs[i].typ == dns.TypeSRV {
			for k := i; k < j; k++ {
				b.recs[k].weight = uint16(100 / (j - i))
			}
		}
		i = j
	}
	// Encode into a scratch buffer, noting where each set ends, then copy
	// the bytes into one buffer of the exact size that every set slices.
	// Each set is encoded as the answer to its owner name: right after
	// the header and that question.
	sc := b.scratch()
	w, spans, c := sc.wire[:0], sc.spans[:0], &sc.comp
	for i := 0; i < len(b.recs); {
		r := &b.recs[i]
		sp := span{name: r.name, typ: r.typ, lo: len(w)}
		sc.q = append(sc.q[:0], r.name...)
		c.reset(0, headerLen+len(r.name)+1+4-len(w))
		j := i
		for ; j < len(b.recs) && b.recs[j].name == r.name && b.recs[j].typ == r.typ; j++ {
			var ok bool
			if !b.recs[j].valid(true) {
				continue
			}
			if w, ok = c.appendRecord(w, sc.q, &b.recs[j], b.c.TTL, true); ok {
				sp.an++
			}
		}
		if r.typ == dns.TypeSRV || r.typ == dns.TypeNS {
			w, sp.ar = b.appendExtra(w, c, sc.q, b.recs[i:j])
		}
		sp.caseSafe = uint8(c.minHit)
		i = j
		if sp.an == 0 {
			w = w[:sp.lo]
			continue
		}
		sp.hi = len(w)
		spans = append(spans, sp)
	}
	wire := bytes.Clone(w)
	sets := make([]RRSet, len(spans))
	names := 0
	for i, sp := range spans {
		if i == 0 || sp.name != spans[i-1].name {
			names++
		}
	}
	f.groups = make([]Node, 0, names)
	for i, sp := range spans {
		sets[i] = RRSet{Type: sp.typ, An: sp.an, Ar: sp.ar, CaseSafe: sp.caseSafe, Wire: wire[sp.lo:sp.hi:sp.hi]}
		if n := len(f.groups); n > 0 && f.groups[n-1].name == sp.name {
			g := &f.groups[n-1]
			g.sets = sets[i-len(g.sets) : i+1 : i+1]
			continue
		}
		f.groups = append(f.groups, Node{name: sp.name, sets: sets[i : i+1 : i+1], frag: f})
	}
	clear(b.recs) // the pool must not keep names alive
	clear(spans)
	sc.recs, sc.spans, sc.wire = b.recs[:0], spans[:0], w[:0]
	b.recs, b.s = nil, nil
	scratchPool.Put(sc)
	return f
}

// appendExtra appends, as additional records, the address records (A, then
// AAAA) of the distinct targets of the SRV or NS records rs that this
// fragment holds, and returns how many it appended.
func (b *fragmentBuilder) appendExtra(w []byte, c *compressor, q []byte, rs []rec) ([]byte, uint16) {
	var (
		done  []string
		count uint16
	)
	for _, r := range rs {
		t := r.target
		if slices.Contains(done, t) {
			continue
		}
		done = append(done, t)
		lo, _ := slices.BinarySearchFunc(b.recs, t, func(x rec, n string) int { return strings.Compare(x.name, n) })
		for _, want := range [...]uint16{dns.TypeA, dns.TypeAAAA} {
			for k := lo; k < len(b.recs) && b.recs[k].name == t; k++ {
				if b.recs[k].typ != want {
					continue
				}
				if !b.recs[k].valid(false) {
					continue
				}
				var ok bool
				if w, ok = c.appendRecord(w, q, &b.recs[k], b.c.TTL, false); ok {
					count++
				}
			}
		}
	}
	return w, count
}

// portName returns _<port>._<proto>.<name>.
func portName(p Port, name string) string {
	return "_" + dnsname.Lower(p.Name) + "._" + dnsname.Lower(p.Protocol) + "." + name
}

// virtualIPs adds the records of a Service's cluster IPs, or of a
// ServiceImport's ClusterSetIPs, at name: A/AAAA and PTR of each, and SRV
// for every port on the bare name and for each named one under its own.
func (b *fragmentBuilder) virtualIPs(name string, ips []netip.Addr, ports []Port) {
	for _, ip := range ips {
		b.addr(name, ip)
		b.ptr(ip, name)
	}
	if len(ips) == 0 {
		return
	}
	for _, p := range ports {
		b.srv(name, p, name)
		if p.Name != "" {
			b.srv(portName(p, name), p, name)
		}
	}
}

// headless adds the records of a headless Service or ServiceImport at name:
// the ready endpoints' addresses, each endpoint's own name and PTR, and SRV
// records per endpoint and port. An endpoint is named <hostname>.<name>, or
// for an import <hostname>.<clusterid>.<name>, where the cluster id may
// span several labels (a set whose cluster cannot name it is left out:
// clusterName).
func (b *fragmentBuilder) headless(name string, sets []EndpointSet, publishNotReady, imported bool) {
	for _, set := range sets {
		base := name
		if imported {
			var err error
			if base, err = clusterName(set.Cluster, name); err != nil {
				continue
			}
		}
		for _, ep := range set.Endpoints {
			if !ep.Ready && !publishNotReady {
				continue
			}
			for _, ip := range ep.Addresses {
				label := dnsname.Lower(ep.Hostname)
				if label == "" {
					label = DashedIP(ip)
				}
				target := label + "." + base
				b.addr(name, ip)
				b.addr(target, ip)
				b.ptr(ip, target)
				for _, p := range set.Ports {
					b.srv(name, p, target)
					if p.Name != "" {
						b.srv(portName(p, name), p, target)
					}
				}
			}
		}
	}
}
