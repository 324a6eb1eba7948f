package records

import (
	"iter"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// The names are split by hash into nShards tables, reached through a
// two-level table of midSize-wide arrays. A change copies the top table, the
// mid arrays and the tables it touches, never the rest: its cost depends on
// the size of the change, not of the cluster (a table holds a few dozen
// names even at 50,000 Services).
const (
	shardBits = 12
	nShards   = 1 << shardBits
	midBits   = 6
	midSize   = 1 << midBits
	topSize   = nShards / midSize
)

type (
	midTable [midSize]*table
	shards   [topSize]*midTable
)

// shard returns the table of the names whose hash is h, or nil.
func (t *shards) shard(h uint64) *table {
	i := h & (nShards - 1)
	m := t[i>>midBits]
	if m == nil {
		return nil
	}
	return m[i&(midSize-1)]
}

// get returns the node of name, whose hash is h.
func (t *shards) get(h uint64, name string) *Node { return t.shard(h).get(h, name) }

// Keys of the fragments that are not Services; "\x00" sorts them first.
const (
	systemKey = "\x00system"
	podsKey   = "\x00pods"
)

// Index is the mutable side of the records: every Service's fragment, the
// namespaces, the pods, and the names they make. Changing one Service costs
// work proportional to that Service's records; Publish hands out an immutable
// Snapshot for the price of copying the shard table. An Index belongs to one
// goroutine.
type Index struct {
	cfg    Config
	frags  map[string]*Fragment // Services by "namespace/name"
	imps   map[string]*Fragment // ServiceImports by "namespace/name"
	system *Fragment            // apex NS, ns.dns addresses, dns-version
	pods   *Fragment            // verified pod names
	spaces map[string]struct{}

	names    shards
	gen      uint32          // Publish count; a table stamped with it is not shared yet
	ownedMid [topSize]uint32 // gen at which each mid array was copied
	owned    [nShards]uint32 // gen at which each map was copied
	count    int
	marks    map[string]int32       // reasons other than records for a name to exist
	below    map[string]int32       // existing names one level below a name
	shared   map[string][]*Fragment // the fragments of names several make, by key

	serial    uint32
	soa       [nZones]*dns.SOA // by zoneIndex
	negatives [nZones]*negative
	soaAnswer [nZones][]byte // the same in answer form, for the apex nodes
	soaCase   [nZones]uint8  // and its CaseSafe
}

// NewIndex returns an Index holding only the zones' own records.
func NewIndex(c *Config) *Index {
	x := &Index{
		cfg:    *c,
		frags:  map[string]*Fragment{},
		imps:   map[string]*Fragment{},
		spaces: map[string]struct{}{},
		marks:  map[string]int32{},
		below:  map[string]int32{},
		shared: map[string][]*Fragment{},
	}
	d := x.cfg.Domain
	for _, name := range []string{d, ReverseV4, ReverseV6, "svc." + d, x.cfg.NSName()} {
		x.mark(name, 1)
	}
	if x.cfg.Pods != PodsDisabled {
		x.mark("pod."+d, 1)
	}
	if mc := x.cfg.Multicluster; mc != "" {
		x.mark(mc, 1)
		x.mark("svc."+mc, 1)
	}
	x.setSystem(nil)
	return x
}

// Grow makes room for n more Services before a bulk of SetService calls
// (the first sync): the maps that grow with them are sized once rather than
// rehashed as they fill.
func (x *Index) Grow(n int) {
	if n <= 0 {
		return
	}
	frags := make(map[string]*Fragment, len(x.frags)+n)
	maps.Copy(frags, x.frags)
	x.frags = frags
	// About two names with children a Service: its own (SRV) and _tcp's.
	below := make(map[string]int32, len(x.below)+2*n)
	maps.Copy(below, x.below)
	x.below = below
}

// zones returns the apexes of the zones served, "" for one that is off.
func (x *Index) zones() [nZones]string { return x.cfg.Zones() }

// SetService stores the records of the Service key; a nil fragment deletes
// them. It reports whether anything changed.
func (x *Index) SetService(key string, f *Fragment) bool {
	if !x.store(x.frags, key, f) {
		return false
	}
	if key == x.cfg.DNSService {
		var ips []netip.Addr
		if f != nil {
			ips = f.clusterIPs()
		}
		x.setSystem(ips)
	}
	return true
}

// SetImport stores the records of the ServiceImport key (ImportRecords);
// a nil fragment deletes them. It reports whether anything changed.
func (x *Index) SetImport(key string, f *Fragment) bool { return x.store(x.imps, key, f) }

// store puts f in m[key] (nil deletes it) and rebuilds the names it and the
// fragment it replaces make; it reports whether anything changed.
func (x *Index) store(m map[string]*Fragment, key string, f *Fragment) bool {
	slot := m[key]
	if !x.swap(&slot, f) {
		return false
	}
	if f == nil {
		delete(m, key)
	} else {
		m[key] = f
	}
	return true
}

// Imports returns the keys of the ServiceImports held.
func (x *Index) Imports() iter.Seq[string] { return maps.Keys(x.imps) }

// Services returns the keys of the Services held.
func (x *Index) Services() iter.Seq[string] { return maps.Keys(x.frags) }

// Len returns the number of Services held.
func (x *Index) Len() int { return len(x.frags) }

// SetNamespaces makes <ns>.svc.<domain> (and <ns>.pod.<domain>) exist for
// exactly the given namespaces. It reports whether anything changed.
func (x *Index) SetNamespaces(names []string) bool {
	want := make(map[string]struct{}, len(names))
	for _, n := range names {
		want[dnsname.Lower(n)] = struct{}{}
	}
	changed := false
	for ns := range x.spaces {
		if _, ok := want[ns]; !ok {
			x.markNamespace(ns, -1)
			changed = true
		}
	}
	for ns := range want {
		if _, ok := x.spaces[ns]; !ok {
			x.markNamespace(ns, 1)
			changed = true
		}
	}
	x.spaces = want
	return changed
}

func (x *Index) markNamespace(ns string, d int32) {
	x.mark(ns+".svc."+x.cfg.Domain, d)
	if x.cfg.Pods != PodsDisabled {
		x.mark(ns+".pod."+x.cfg.Domain, d)
	}
}

// SetPods replaces the pod addresses; they are served only in verified mode.
// It reports whether anything changed.
func (x *Index) SetPods(pods []Pod) bool {
	var f *Fragment
	if x.cfg.Pods == PodsVerified && len(pods) > 0 {
		fb := fragmentBuilder{c: &x.cfg, key: podsKey}
		for _, p := range pods {
			fb.addr(DashedIP(p.IP)+"."+dnsname.Lower(p.Namespace)+".pod."+x.cfg.Domain, p.IP)
		}
		f = fb.seal()
	}
	return x.swap(&x.pods, f)
}

// setSystem rebuilds the zones' own records with the given ns.dns addresses.
func (x *Index) setSystem(nsIPs []netip.Addr) {
	c := &x.cfg
	b := fragmentBuilder{c: c, key: systemKey}
	for _, zone := range x.zones() {
		if zone != "" {
			b.add(rec{name: zone, typ: dns.TypeNS, target: c.NSName()})
		}
	}
	for _, ip := range nsIPs {
		b.addr(c.NSName(), ip)
	}
	version := "dns-version." + c.Domain
	b.add(rec{name: version, typ: dns.TypeTXT, target: SchemaVersion})
	if mc := c.Multicluster; mc != "" {
		b.add(rec{name: "dns-version." + mc, typ: dns.TypeTXT, target: MulticlusterSchemaVersion})
	}
	x.swap(&x.system, b.seal())
}

// swap puts cur in *slot and rebuilds the names of the fragment it replaces
// and of cur; when both hold the same records it does nothing and reports false.
func (x *Index) swap(slot **Fragment, cur *Fragment) bool {
	old := *slot
	if cur.Equal(old) {
		return false
	}
	*slot = cur
	x.replace(old, cur)
	return true
}

// Publish returns an immutable Snapshot of the Index with the given SOA serial.
func (x *Index) Publish(serial uint32) *Snapshot {
	c := &x.cfg
	x.serial = serial
	for i, zone := range x.zones() {
		if zone == "" {
			continue
		}
		neg := c.negativeTTL()
		hdr := c.hdr(zone, dns.TypeSOA)
		hdr.Ttl = neg
		x.soa[i] = &dns.SOA{
			Hdr: hdr, Ns: c.NSName(), Mbox: c.Hostmaster(),
			Serial: serial, Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: neg,
		}
		x.soaAnswer[i] = nil
		if !validSOA(x.soa[i]) {
			x.soa[i] = nil // a domain DNS cannot carry: flags validation keeps it out
		} else {
			var c compressor
			c.reset(0, headerLen+len(zone)+1+4)
			x.soaAnswer[i] = c.appendSOA(nil, []byte(zone), x.soa[i], true)
			x.soaCase[i] = uint8(c.minHit)
			x.negatives[i] = newNegative(zone, x.soa[i])
		}
		x.set(zone, x.node(zone, x.fragsAt(zone, x.get(zone))))
	}
	s := &Snapshot{cfg: x.cfg, serial: serial, names: x.names, count: x.count, soa: x.soa, negatives: x.negatives}
	x.gen++ // everything is shared with s from now on
	return s
}

func (x *Index) get(name string) *Node { return x.names.get(hashOf(name), name) }

// fragsAt returns the fragments with records at name, whose node is n.
func (x *Index) fragsAt(name string, n *Node) []*Fragment {
	if l, ok := x.shared[name]; ok {
		return l
	}
	if n != nil && n.frag != nil {
		return n.frag.self[:]
	}
	return nil
}

// replace swaps fragment old for cur (either may be nil) and rebuilds the
// names of both. Both fragments' names are sorted, so one merging walk
// visits each name once.
func (x *Index) replace(old, cur *Fragment) {
	var og, cg []Node
	if old != nil {
		og = old.groups
	}
	if cur != nil {
		cg = cur.groups
	}
	for len(og) > 0 || len(cg) > 0 {
		var name string
		inOld, inCur := false, false
		switch {
		case len(cg) == 0 || len(og) > 0 && og[0].name < cg[0].name:
			name, inOld, og = og[0].name, true, og[1:]
		case len(og) == 0 || cg[0].name < og[0].name:
			name, inCur, cg = cg[0].name, true, cg[1:]
		default:
			name, inOld, inCur, og, cg = og[0].name, true, true, og[1:], cg[1:]
		}
		sh := hashOf(name)
		prev := x.names.get(sh, name)
		l := x.fragsAt(name, prev)
		if inOld {
			l = slices.DeleteFunc(slices.Clone(l), func(f *Fragment) bool { return f == old })
		}
		if inCur {
			if len(l) == 0 {
				l = cur.self[:]
			} else {
				i, _ := slices.BinarySearchFunc(l, cur.key, func(f *Fragment, k string) int { return strings.Compare(f.key, k) })
				l = slices.Insert(slices.Clip(l), i, cur)
			}
		}
		if len(l) > 1 {
			x.shared[name] = l
		} else {
			delete(x.shared, name)
		}
		x.setAt(sh, prev, name, x.node(name, l))
	}
}

// node returns the node of name from the fragments with records there. A
// name that one fragment alone makes is served by that fragment's node;
// otherwise the sets of one type are merged: the answer records of each,
// then the additional records of each. A zone apex has the zone's SOA first.
// A reverse name that a Service names keeps no import's PTR (localPTR).
func (x *Index) node(name string, frags []*Fragment) *Node {
	if len(frags) > 1 {
		frags = localPTR(name, frags)
	}
	zones := x.zones()
	apex := -1
	if name != "" {
		apex = slices.Index(zones[:], name)
	}
	if apex < 0 && len(frags) == 1 {
		if n := frags[0].node(name); n != nil {
			return n
		}
	}
	n := &Node{name: name}
	if len(frags) == 1 {
		n.frag = frags[0]
	}
	var sets []RRSet
	if apex >= 0 && x.soaAnswer[apex] != nil {
		sets = append(sets, RRSet{Type: dns.TypeSOA, An: 1, CaseSafe: x.soaCase[apex], Wire: x.soaAnswer[apex]})
	}
	for _, f := range frags {
		for _, s := range f.at(name) {
			if i := slices.IndexFunc(sets, func(o RRSet) bool { return o.Type == s.Type }); i >= 0 {
				sets[i] = merge(name, &sets[i], &s)
			} else {
				sets = append(sets, s)
			}
		}
	}
	n.sets = slices.Clip(sets)
	return n
}

// merge returns a set holding the records of a and then b, of one type, at
// name. Their names are compressed against each other, so the merged set is
// packed anew, by miekg/dns itself: sets of several fragments are rare (an
// address two Services share). Its compression holds for a lower-case
// question only.
func merge(name string, a, b *RRSet) RRSet {
	aa, ax := a.Records(name)
	ba, bx := b.Records(name)
	m := dns.Msg{Compress: true}
	m.Question = []dns.Question{{Name: name, Qtype: a.Type, Qclass: dns.ClassINET}}
	m.Answer = append(aa, ba...)
	m.Extra = append(ax, bx...)
	msg, err := m.Pack()
	q := headerLen + len(name) + 1 + 4
	if err != nil || len(msg) < q {
		return *a
	}
	return RRSet{Type: a.Type, An: uint16(len(m.Answer)), Ar: uint16(len(m.Extra)), Wire: msg[q:]}
}

// answerEnd returns where the set's answer records end in Wire.
func (s *RRSet) answerEnd() int {
	off := 0
	for range s.An {
		_, off = recordAt(s.Wire, off)
	}
	return off
}

// set stores the node of name, or removes the name when nothing makes it
// exist any more, and keeps the parents' existence in step.
func (x *Index) set(name string, n *Node) {
	sh := hashOf(name)
	x.setAt(sh, x.names.get(sh, name), name, n)
}

// setAt is set for a name whose hash is sh and whose current node is old.
func (x *Index) setAt(sh uint64, old *Node, name string, n *Node) {
	exists := len(n.sets) > 0 || x.marks[name] > 0 || x.below[name] > 0
	switch {
	case exists && old != n:
		x.writable(sh).put(sh, n)
	case !exists && old != nil:
		x.writable(sh).del(sh, name)
	}
	switch {
	case exists && old == nil:
		x.count++
		x.child(name, 1)
	case !exists && old != nil:
		x.count--
		x.child(name, -1)
	}
}

// child counts a name appearing (d=1) or disappearing (d=-1) below its parent.
func (x *Index) child(name string, d int32) {
	zone := x.cfg.Zone(name)
	if zone == "" || name == zone {
		return
	}
	p := dnsname.Parent(name)
	if count(x.below, p, d) {
		x.settle(p)
	}
}

// mark adds or removes a reason for name to exist besides its records.
func (x *Index) mark(name string, d int32) {
	if count(x.marks, name, d) {
		x.settle(name)
	}
}

// count adds d to m[key] and reports whether the count went from zero to
// more or back: only then can the existence of the name change.
func count(m map[string]int32, key string, d int32) bool {
	before := m[key]
	after := before + d
	if after == 0 {
		delete(m, key)
	} else {
		m[key] = after
	}
	return (before == 0) != (after == 0)
}

// settle stores name as it is, after its reasons to exist changed.
func (x *Index) settle(name string) {
	n := x.get(name)
	if n == nil {
		n = &Node{name: name}
	}
	x.set(name, n)
}

// writable returns the table of the names whose hash is h, copying it (and
// its mid array) first when a published Snapshot shares it.
func (x *Index) writable(h uint64) *table {
	i := h & (nShards - 1)
	top, low := i>>midBits, i&(midSize-1)
	if x.ownedMid[top] != x.gen+1 {
		mid := new(midTable)
		if x.names[top] != nil {
			*mid = *x.names[top]
		}
		x.names[top] = mid
		x.ownedMid[top] = x.gen + 1
	}
	mid := x.names[top]
	if x.owned[i] != x.gen+1 {
		mid[low] = mid[low].clone()
		x.owned[i] = x.gen + 1
	}
	return mid[low]
}
