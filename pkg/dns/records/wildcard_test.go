package records

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// referenceWildcard is the wildcard walk as the original (and this project
// until the wildcard view) did it, over every name of the snapshot: the
// names a pattern matches, whether any did, and those with records of
// qtype.
func referenceWildcard(s *Snapshot, children map[string][]string, labels []string, qtype uint16) (exists bool, named []string) {
	base := "svc." + s.Config().Domain
	nodes := []*Node{s.Lookup(base)}
	for i := len(labels) - 1; i >= 0 && len(nodes) > 0; i-- {
		var next []*Node
		for _, n := range nodes {
			if labels[i] != "*" {
				if c := s.Lookup(labels[i] + "." + n.Name()); c != nil {
					next = append(next, c)
				}
				continue
			}
			found := false
			for _, child := range children[n.Name()] {
				if strings.HasPrefix(child, "_") {
					continue
				}
				next = append(next, s.Lookup(child+"."+n.Name()))
				found = true
			}
			if !found && i == 0 && len(n.Sets()) > 0 {
				next = append(next, n)
			}
		}
		nodes = next
	}
	for _, n := range nodes {
		for _, set := range n.Sets() {
			if set.Type == qtype || qtype == dns.TypeANY {
				named = append(named, n.Name())
				break
			}
		}
	}
	slices.Sort(named)
	return len(nodes) > 0, slices.Compact(named)
}

// The wildcard view matches what a walk over every name matches, for
// patterns of every shape over varied clusters.
func TestWildcardsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	pool := []string{"*", "*", "*", "ns0", "ns1", "svc0", "svc3", "_http", "_p0", "_tcp", "h0", "h1", "nope"}
	for round := range 30 {
		c := &Config{Domain: "cluster.local.", TTL: 30}
		x := NewIndex(c)
		for range 30 {
			svc, sets := randomService(r)
			x.SetService(svc.Namespace+"/"+svc.Name, c.ServiceRecords(&svc, sets))
		}
		if round%3 == 0 {
			x.SetService("ns0/ext", c.ServiceRecords(&Service{Namespace: "ns0", Name: "ext", Kind: ExternalName, ExternalName: "svc0.ns1.svc.cluster.local"}, nil))
		}
		x.SetNamespaces([]string{"ns0", "ns1", "ns2", "empty"})
		s, w := x.Publish(uint32(round+1)), x.Wildcards()
		children := map[string][]string{} // the first labels of the names below each name
		s.Range(func(n *Node) {
			if p := dnsname.Parent(n.Name()); p != "" {
				children[p] = append(children[p], n.Name()[:len(n.Name())-len(p)-1])
			}
		})
		for range 200 {
			labels := make([]string, 1+r.IntN(4))
			for i := range labels {
				labels[i] = pool[r.IntN(len(pool))]
			}
			if !slices.Contains(labels, "*") {
				labels[r.IntN(len(labels))] = "*"
			}
			for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeCNAME, dns.TypeANY, dns.TypeTXT} {
				wantExists, want := referenceWildcard(s, children, labels, qtype)
				var got []string
				exists, complete := w.Match(labels, qtype, 1<<20, func(name string, _ []RRSet) bool {
					got = append(got, name)
					return true
				})
				slices.Sort(got)
				if exists != wantExists || !complete || !slices.Equal(got, want) {
					t.Fatalf("round %d, %s %s: matched %v (exists %v, complete %v), want %v (exists %v)",
						round, strings.Join(labels, "."), dns.TypeToString[qtype], got, exists, complete, want, wantExists)
				}
			}
		}
	}
}

// A fixture whose names the budget cannot all visit: Match stops, says so,
// and what it found is still right.
func TestWildcardBudget(t *testing.T) {
	c := &Config{Domain: "cluster.local.", TTL: 30}
	x := NewIndex(c)
	for i := range 200 {
		s := Service{Namespace: "ns", Name: fmt.Sprintf("s%d", i), ClusterIPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})},
			Ports: []Port{{Name: "http", Protocol: "tcp", Port: 80}}}
		x.SetService("ns/"+s.Name, c.ServiceRecords(&s, nil))
	}
	x.Publish(1)
	w := x.Wildcards()
	n := 0
	exists, complete := w.Match([]string{"_nope", "_tcp", "*", "ns"}, dns.TypeSRV, 100, func(string, []RRSet) bool { n++; return true })
	if complete || n != 0 || exists {
		t.Errorf("matched %d names, exists %v, complete %v; want none and incomplete", n, exists, complete)
	}
	exists, complete = w.Match([]string{"*", "ns"}, dns.TypeA, 50, func(string, []RRSet) bool { n++; return true })
	if complete || n == 0 || n > 50 || !exists {
		t.Errorf("matched %d names, exists %v, complete %v; want at most the budget's, and incomplete", n, exists, complete)
	}
}
