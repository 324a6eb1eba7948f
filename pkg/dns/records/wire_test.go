package records

import (
	"net/netip"
	"testing"

	"github.com/miekg/dns"
)

func TestAppendNameFrom(t *testing.T) {
	for _, tc := range []struct {
		name, question string
		want           []byte
	}{
		// The question itself: a pointer to offset 12.
		{"web.ns.svc.cluster.local.", "web.ns.svc.cluster.local.", []byte{0xc0, 12}},
		// A suffix of the question: a pointer into it.
		{"web.ns.svc.cluster.local.", "_http._tcp.web.ns.svc.cluster.local.", []byte{0xc0, 12 + 11}},
		// The question below the name: the extra labels, then a pointer.
		{"ep-0.web.ns.svc.cluster.local.", "web.ns.svc.cluster.local.", []byte{4, 'e', 'p', '-', '0', 0xc0, 12}},
		// A shared suffix that is not the whole of either.
		{"ep-0.web.ns.svc.cluster.local.", "_http._tcp.web.ns.svc.cluster.local.", []byte{4, 'e', 'p', '-', '0', 0xc0, 12 + 11}},
		// Only whole labels are shared: "eb.ns…" is not a suffix of "web.ns…".
		{"b.ns.", "web.ns.", []byte{1, 'b', 0xc0, 12 + 4}},
		// Nothing but the root in common: not compressed.
		{"a.example.", "1.0.0.10.in-addr.arpa.", []byte{1, 'a', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0}},
	} {
		got, ok := appendNameFrom(nil, tc.name, tc.question)
		if !ok || string(got) != string(tc.want) {
			t.Errorf("appendNameFrom(%q, %q) = %v, %v; want %v", tc.name, tc.question, got, ok, tc.want)
		}
	}
}

// The names inside a set point into the question, so they decode to the
// right names whatever case the question was asked in, and the set is
// smaller than uncompressed.
func TestSetNamesPointIntoTheQuestion(t *testing.T) {
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
	if want := "web-0.HL.ns.svc.cluster.local."; srv.Target != want || srv.Port != 80 || srv.Weight != 100 {
		t.Errorf("SRV = %v, want target %s", srv, want)
	}
	if a, ok := extra[0].(*dns.A); !ok || a.Hdr.Name != srv.Target || !a.A.Equal(ip.AsSlice()) {
		t.Errorf("additional = %v, want the A record of %s", extra[0], srv.Target)
	}
	// 12 bytes of record header + 6 of SRV data + "web-0" and a pointer,
	// then the A record: "web-0", a pointer, 10 bytes of header, 4 of address.
	if want := 12 + 6 + 6 + 2 + 6 + 2 + 10 + 4; len(set.Wire) != want {
		t.Errorf("len(Wire) = %d, want %d", len(set.Wire), want)
	}
}
