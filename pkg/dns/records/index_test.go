package records

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// dump renders every name of a snapshot with its records and additional
// records, in order, for comparing snapshots.
func dump(s *Snapshot) string {
	var b strings.Builder
	s.Range(func(n *Node) {
		fmt.Fprintf(&b, "%s\n", n.Name())
		for _, set := range n.Sets() {
			rrs, extra := set.Records(n.Name())
			for _, rr := range rrs {
				fmt.Fprintf(&b, "  %s\n", rr)
			}
			for _, rr := range extra {
				fmt.Fprintf(&b, "  + %s\n", rr)
			}
		}
	})
	fmt.Fprintf(&b, "len %d\n", s.Len())
	return b.String()
}

// randomService returns a Service of any kind; names and addresses come from
// small pools so that Services collide on PTR names and namespaces empty out.
func randomService(r *rand.Rand) (Service, []EndpointSet) {
	s := Service{Namespace: fmt.Sprintf("ns%d", r.IntN(3)), Name: fmt.Sprintf("svc%d", r.IntN(8))}
	addr := func() netip.Addr {
		if r.IntN(4) == 0 {
			return netip.AddrFrom16([16]byte{0xfd, 15: byte(r.IntN(6))})
		}
		return netip.AddrFrom4([4]byte{10, 0, byte(r.IntN(2)), byte(r.IntN(6))})
	}
	switch r.IntN(3) {
	case 0:
		s.ClusterIPs = []netip.Addr{addr()}
		for i := range r.IntN(3) {
			s.Ports = append(s.Ports, Port{Name: fmt.Sprintf("p%d", i), Protocol: "tcp", Port: int32(80 + i)})
		}
		return s, nil
	case 1:
		s.Kind = Headless
		set := EndpointSet{Ports: []Port{{Name: "http", Protocol: "tcp", Port: 80}}}
		for i := range r.IntN(4) {
			host := ""
			if r.IntN(2) == 0 {
				host = fmt.Sprintf("h%d", i)
			}
			set.Endpoints = append(set.Endpoints, Endpoint{Addresses: []netip.Addr{addr()}, Hostname: host, Ready: r.IntN(4) > 0})
		}
		return s, []EndpointSet{set}
	default:
		s.Kind = ExternalName
		s.ExternalName = fmt.Sprintf("svc%d.ns%d.svc.cluster.local", r.IntN(8), r.IntN(3))
		return s, nil
	}
}

// TestIndexMatchesFullBuild applies random changes to one Index and checks
// after each publish that the snapshot equals one built from scratch from the
// same state, and that snapshots published earlier did not change.
func TestIndexMatchesFullBuild(t *testing.T) {
	for _, mode := range []PodMode{PodsInsecure, PodsVerified, PodsDisabled} {
		t.Run(mode.String(), func(t *testing.T) {
			c := &Config{Domain: "cluster.local.", TTL: 30, DNSService: "ns0/svc0", Pods: mode}
			r := rand.New(rand.NewPCG(1, uint64(mode)))
			x := NewIndex(c)
			state := map[string]*Fragment{}
			var spaces []string
			var pods []Pod
			type published struct {
				s    *Snapshot
				want string
			}
			var history []published
			for step := range 400 {
				switch k := r.IntN(10); {
				case k < 6:
					svc, sets := randomService(r)
					f := c.ServiceRecords(&svc, sets)
					state[f.Key()] = f
					x.SetService(f.Key(), f)
				case k < 8:
					key := fmt.Sprintf("ns%d/svc%d", r.IntN(3), r.IntN(8))
					delete(state, key)
					x.SetService(key, nil)
				case k < 9:
					spaces = nil
					for i := range 3 {
						if r.IntN(2) == 0 {
							spaces = append(spaces, fmt.Sprintf("NS%d", i))
						}
					}
					x.SetNamespaces(spaces)
				default:
					pods = nil
					for i := range r.IntN(3) {
						pods = append(pods, Pod{Namespace: fmt.Sprintf("ns%d", i), IP: netip.AddrFrom4([4]byte{10, 9, 0, byte(r.IntN(3))})})
					}
					x.SetPods(pods)
				}
				if r.IntN(3) > 0 {
					continue
				}
				serial := uint32(step + 1)
				got := x.Publish(serial)
				b := NewBuilder(c)
				for _, key := range slices.Sorted(func(yield func(string) bool) {
					for k := range state {
						if !yield(k) {
							return
						}
					}
				}) {
					b.AddService(state[key])
				}
				for _, ns := range spaces {
					b.AddNamespace(ns)
				}
				for _, p := range pods {
					b.AddPod(p)
				}
				want := dump(b.Finish(serial))
				if g := dump(got); g != want {
					t.Fatalf("step %d: incremental snapshot differs from a full build\n--- incremental\n%s\n--- full\n%s", step, g, want)
				}
				history = append(history, published{got, want})
			}
			for i, h := range history {
				if g := dump(h.s); g != h.want {
					t.Fatalf("snapshot %d changed after it was published", i)
				}
			}
			if len(history) < 50 {
				t.Fatalf("only %d snapshots compared", len(history))
			}
		})
	}
}

// TestIndexEmptiesOut checks that removing everything leaves only the zone
// records, with no empty non-terminal left behind.
func TestIndexEmptiesOut(t *testing.T) {
	c := benchConfig()
	fresh := NewIndex(c)
	empty := dump(fresh.Publish(1))
	x := NewIndex(c)
	svcs, sets := clusterOf(200)
	for i := range svcs {
		f := c.ServiceRecords(&svcs[i], sets[i])
		x.SetService(f.Key(), f)
	}
	x.SetNamespaces([]string{"ns1", "ns2"})
	if s := x.Publish(1); s.Len() < 1000 {
		t.Fatalf("200 services make only %d names", s.Len())
	}
	for i := range svcs {
		if !x.SetService(svcs[i].Namespace+"/"+svcs[i].Name, nil) {
			t.Fatalf("deleting %s changed nothing", svcs[i].Name)
		}
	}
	x.SetNamespaces(nil)
	if got := dump(x.Publish(1)); got != empty {
		t.Errorf("after deleting everything:\n%s\nwant:\n%s", got, empty)
	}
	if !maps.Equal(x.below, fresh.below) || !maps.Equal(x.marks, fresh.marks) {
		t.Errorf("bookkeeping left: below %v marks %v", x.below, x.marks)
	}
}

func TestIndexUnchangedService(t *testing.T) {
	c := benchConfig()
	x := NewIndex(c)
	svc := Service{Namespace: "a", Name: "b", ClusterIPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}}
	if !x.SetService("a/b", c.ServiceRecords(&svc, nil)) {
		t.Fatal("a new Service changed nothing")
	}
	if x.SetService("a/b", c.ServiceRecords(&svc, nil)) {
		t.Error("the same records again counted as a change")
	}
	s := x.Publish(1)
	if n := s.Lookup("b.a.svc.cluster.local."); n == nil || len(n.RRs(dns.TypeA)) != 1 {
		t.Fatalf("b.a.svc.cluster.local. = %v", n)
	}
	if s.Lookup("a.svc.cluster.local.") == nil {
		t.Error("the namespace of a Service is not an empty non-terminal")
	}
}
