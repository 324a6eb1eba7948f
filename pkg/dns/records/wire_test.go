package records

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

// packed returns what miekg/dns packs for a reply to question (qtype t)
// holding answers and extra, after the header and the question: what a
// set's Wire must be.
func packed(t *testing.T, question string, qtype uint16, answers, extra []dns.RR) []byte {
	t.Helper()
	m := dns.Msg{Compress: true}
	m.Question = []dns.Question{{Name: question, Qtype: qtype, Qclass: dns.ClassINET}}
	m.Answer, m.Extra = answers, extra
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("packing the reply to %s: %v", question, err)
	}
	return b[headerLen+len(question)+1+4:]
}

// withCase returns name with its letters before index upTo in upper case.
func withCase(name string, upTo int) string {
	b := []byte(name)
	for i := range min(upTo, len(b)) {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// checkWire checks every set of s against miekg/dns: its Wire must be the
// bytes miekg packs for the decoded records, for the lower-case question
// and for questions in upper case up to CaseSafe.
func checkWire(t *testing.T, s *Snapshot) {
	t.Helper()
	s.Range(func(n *Node) {
		for _, set := range n.Sets() {
			for _, upTo := range []int{0, int(set.CaseSafe)} {
				q := withCase(n.Name(), upTo)
				rrs, extra := set.Records(q)
				if got, want := set.Wire, packed(t, q, set.Type, rrs, extra); string(got) != string(want) {
					t.Errorf("%s %s (CaseSafe %d):\n got  %x\n want %x", q, dns.TypeToString[set.Type], set.CaseSafe, got, want)
				}
			}
		}
	})
}

// An SRV target is written whole (RFC 2782: no compression), in lower case
// whatever the case of the question; the additional record's owner points
// at it, and the owners of the answers point at the question.
func TestSRVTargetsAreNotCompressed(t *testing.T) {
	c := &Config{Domain: "cluster.local.", TTL: 30}
	ip := netip.MustParseAddr("10.1.0.1")
	f := c.ServiceRecords(&Service{Namespace: "ns", Name: "hl", Kind: Headless}, []EndpointSet{{
		Ports:     []Port{{Name: "http", Protocol: "tcp", Port: 80}},
		Endpoints: []Endpoint{{Addresses: []netip.Addr{ip}, Hostname: "web-0", Ready: true}},
	}})
	b := NewBuilder(c)
	b.AddService(f)
	s := b.Finish(1)
	n := s.Lookup("_http._tcp.hl.ns.svc.cluster.local.")
	set := n.Set(dns.TypeSRV)
	if set == nil || set.An != 1 || set.Ar != 1 {
		t.Fatalf("SRV set = %+v", set)
	}
	rrs, extra := set.Records("_HTTP._tcp.HL.ns.svc.cluster.local.")
	if len(rrs) != 1 || len(extra) != 1 {
		t.Fatalf("decoded %v, %v", rrs, extra)
	}
	srv := rrs[0].(*dns.SRV)
	if want := "web-0.hl.ns.svc.cluster.local."; srv.Target != want || srv.Port != 80 || srv.Weight != 100 {
		t.Errorf("SRV = %v, want target %s", srv, want)
	}
	if a, ok := extra[0].(*dns.A); !ok || a.Hdr.Name != srv.Target || !a.A.Equal(ip.AsSlice()) {
		t.Errorf("additional = %v, want the A record of %s", extra[0], srv.Target)
	}
	// A pointer to the question, 10 bytes of record header, 6 of SRV data
	// and the target whole (31 bytes); then the A record: a pointer to the
	// target, 10 bytes of header, 4 of address.
	target := 12 + 6
	if want := 2 + 10 + 6 + 31 + 2 + 10 + 4; len(set.Wire) != want {
		t.Errorf("len(Wire) = %d, want %d", len(set.Wire), want)
	}
	if got := set.Wire[target : target+6]; string(got) != "\x05web-0" {
		t.Errorf("the target starts with %q, want it written out", got)
	}
	// The target's "hl.ns…" is the question's from index 11: a question with
	// upper-case letters there or after is packed differently by miekg.
	if set.CaseSafe != 11 {
		t.Errorf("CaseSafe = %d, want 11", set.CaseSafe)
	}
	checkWire(t, s)
}

// Every set of a varied cluster is exactly what miekg/dns packs.
func TestWireMatchesMiekg(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		c := &Config{Domain: "cluster.local.", TTL: 30, Pods: PodsVerified}
		x := NewIndex(c)
		for range 40 {
			svc, sets := randomService(r)
			x.SetService(svc.Namespace+"/"+svc.Name, c.ServiceRecords(&svc, sets))
		}
		x.SetNamespaces([]string{"ns0", "ns1", "ns2"})
		x.SetPods([]Pod{{Namespace: "ns0", IP: netip.MustParseAddr("10.9.0.1")}})
		t.Run(fmt.Sprint(round), func(t *testing.T) { checkWire(t, x.Publish(uint32(round+1))) })
	}
}

// A headless Service large enough that its names are written past the
// offsets a compression pointer can reach, and its SRV set indexes the
// suffixes it remembers in a map.
func TestWireMatchesMiekgPastPointerRange(t *testing.T) {
	c := &Config{Domain: "cluster.local.", TTL: 30}
	set := EndpointSet{Ports: []Port{{Name: "http", Protocol: "tcp", Port: 80}}}
	for i := range 1500 {
		set.Endpoints = append(set.Endpoints, Endpoint{
			Addresses: []netip.Addr{netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})}, Ready: true,
			Hostname: fmt.Sprintf("host-%d", i%700), // some hostnames shared: several addresses per name
		})
	}
	x := NewIndex(c)
	x.SetService("ns/big", c.ServiceRecords(&Service{Namespace: "ns", Name: "big", Kind: Headless}, []EndpointSet{set}))
	s := x.Publish(1)
	if w := len(s.Lookup("big.ns.svc.cluster.local.").Set(dns.TypeSRV).Wire); w <= maxPointer {
		t.Fatalf("the SRV set is %d bytes: too small for the test", w)
	}
	checkWire(t, s)
}

// A negative answer's SOA from the template is byte for byte what the
// compressor writes for the same question, whenever the template takes it.
func TestNegativeTemplate(t *testing.T) {
	x := NewIndex(&Config{Domain: "cluster.local.", TTL: 30})
	s := x.Publish(7)
	names := []string{"nope.svc.cluster.local.", "a.b.c.d.e.f.cluster.local.", "x.ns.dns.cluster.local.", "dns.cluster.local.",
		"x.hostmaster.cluster.local.", "hostmaster.cluster.local.x.cluster.local.", "9.9.9.9.in-addr.arpa.",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", "cluster.local."}
	taken := 0
	for _, name := range names {
		zone := s.Zone(name)
		for qend := range []int{0, 300} { // the question after some other bytes: pointers into the record move
			reply := append(make([]byte, headerLen+qend*100), name...)
			i := s.zoneIndex(zone)
			viaTemplate, ok := s.negatives[i].append(reply, []byte(name), len(name)-len(zone), 0)
			if !ok {
				continue
			}
			taken++
			var c compressor
			c.reset(0, 0)
			if want := c.appendSOA(append([]byte(nil), reply...), []byte(name), s.soa[i], false); string(viaTemplate) != string(want) {
				t.Errorf("%s: template\n%x\ncompressor\n%x", name, viaTemplate[len(reply):], want[len(reply):])
			}
		}
	}
	if taken < 10 {
		t.Errorf("the template took only %d of the questions", taken)
	}
}
