package records

import (
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// Reverse zones served besides the cluster domain.
const (
	ReverseV4 = "in-addr.arpa."
	ReverseV6 = "ip6.arpa."
)

// RRSet is the records of one type at one name, with the address records of
// their targets (for SRV and NS) for the additional section, in wire form:
// the records as an answer section whose owner names point at the question
// (offset 12), then the additional records in full. A reply is the request's
// header and question, patched, plus Wire. Records decodes it for the
// general path.
type RRSet struct {
	Type   uint16
	An, Ar uint16 // how many records, and additional records, Wire holds
	// CaseSafe is where a question's upper-case letters start to matter:
	// Wire is exactly what miekg/dns packs for a question whose upper-case
	// letters all come before this index. (Names compressed against the
	// question match it only where it is lower case, as miekg compares
	// names case-sensitively; see compressor.)
	CaseSafe uint8
	Wire     []byte
}

// Node is one name of the snapshot. A node without sets is an empty
// non-terminal: it exists because names exist below it (or it is a namespace).
type Node struct {
	name string
	sets []RRSet
	frag *Fragment // the fragment with records here when it is the only one (else Index.shared)
}

// Name returns the node's lower-case owner name.
func (n *Node) Name() string { return n.name }

// Sets returns every RRSet of the node. The caller must not modify them.
func (n *Node) Sets() []RRSet { return n.sets }

// Set returns the RRSet of type t, or nil.
func (n *Node) Set(t uint16) *RRSet {
	for i := range n.sets {
		if n.sets[i].Type == t {
			return &n.sets[i]
		}
	}
	return nil
}

// RRs returns the records of type t, decoded, or nil.
func (n *Node) RRs(t uint16) []dns.RR {
	rrs, _ := n.Set(t).Records(n.name)
	return rrs
}

// Snapshot is an immutable view of every record kubedns serves. Snapshots
// published one after another share the parts that did not change.
type Snapshot struct {
	cfg       Config
	names     shards
	count     int
	soa       [nZones]*dns.SOA
	negatives [nZones]*negative // the same, encoded for negative answers
	serial    uint32
}

// Config returns the configuration the snapshot was built with.
func (s *Snapshot) Config() *Config { return &s.cfg }

// Serial returns the SOA serial of the snapshot.
func (s *Snapshot) Serial() uint32 { return s.serial }

// Len returns the number of names, empty non-terminals included.
func (s *Snapshot) Len() int { return s.count }

// Lookup returns the node of a lower-case FQDN, or nil when the name does not exist.
func (s *Snapshot) Lookup(name string) *Node { return s.names.get(hashOf(name), name) }

// LookupBytes is Lookup for a name held in a byte slice; it does not allocate.
func (s *Snapshot) LookupBytes(name []byte) *Node {
	h := hashOfBytes(name)
	return s.names.shard(h).getBytes(h, name)
}

// each calls fn for every node, in no particular order.
func (s *Snapshot) each(fn func(*Node)) {
	for _, mid := range s.names {
		if mid == nil {
			continue
		}
		for _, t := range mid {
			t.each(fn)
		}
	}
}

// SOA returns the SOA record of a zone apex (the cluster domain or a reverse zone).
func (s *Snapshot) SOA(zone string) *dns.SOA {
	if i := s.zoneIndex(zone); i >= 0 {
		return s.soa[i]
	}
	return nil
}

// zoneIndex returns the position of a zone apex in the SOA arrays, or -1.
func (s *Snapshot) zoneIndex(zone string) int {
	if zone == "" {
		return -1
	}
	for i, z := range s.cfg.Zones() {
		if z == zone {
			return i
		}
	}
	return -1
}

// Zone returns the apex of the zone a lower-case FQDN belongs to, or "" when
// kubedns is not authoritative for it.
func (s *Snapshot) Zone(name string) string { return s.cfg.Zone(name) }

// Zone returns the apex of the zone a lower-case FQDN belongs to, or "" when
// kubedns is not authoritative for it.
func (c *Config) Zone(name string) string {
	for _, z := range c.Zones() {
		if z != "" && dnsname.InZone(name, z) {
			return z
		}
	}
	return ""
}

// nZones is how many zones kubedns can serve: the cluster domain, the two
// reverse zones and the multicluster zone.
const nZones = 4

// Zones returns the apexes of the zones served, in a fixed order: the
// cluster domain, the reverse zones, then the multicluster zone ("" when
// off).
func (c *Config) Zones() [nZones]string {
	return [nZones]string{c.Domain, ReverseV4, ReverseV6, c.Multicluster}
}

// IsReverse reports whether zone is one of the reverse zones.
func IsReverse(zone string) bool { return zone == ReverseV4 || zone == ReverseV6 }

// Range calls fn for every name in lexical order; the /cache handler uses it.
func (s *Snapshot) Range(fn func(*Node)) {
	nodes := make([]*Node, 0, s.count)
	s.each(func(n *Node) { nodes = append(nodes, n) })
	slices.SortFunc(nodes, func(a, b *Node) int { return strings.Compare(a.name, b.name) })
	for _, n := range nodes {
		fn(n)
	}
}
