package server

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

// fastCases are queries across every kind of name; the fast path must either
// leave a query alone or answer exactly as ServeDNS does.
func fastCases() []*dns.Msg {
	names := []string{
		"my-nginx.default.svc.cluster.local.", "MY-Nginx.Default.SVC.cluster.local.",
		"kubernetes.default.svc.cluster.local.", "_https._tcp.kubernetes.default.svc.cluster.local.",
		"dual.ns1.svc.cluster.local.", "_http._tcp.dual.ns1.svc.cluster.local.", "_HTTP._Tcp.Dual.ns1.svc.cluster.local.",
		"hl.ns1.svc.cluster.local.", "_http._tcp.hl.ns1.svc.cluster.local.", "web-0.hl.ns1.svc.cluster.local.",
		"_http._tcp.HL.ns1.svc.cluster.local.", "_http._tcp.hl.NS1.svc.cluster.local.", "_http._tcp.hl.ns1.svc.cluster.LOCAL.",
		"hl-empty.ns1.svc.cluster.local.", "ext.ns1.svc.cluster.local.", "ext-in.ns1.svc.cluster.local.", "ext-ip.ns1.svc.cluster.local.",
		"nope.default.svc.cluster.local.", "default.svc.cluster.local.", "empty-ns.svc.cluster.local.", "svc.cluster.local.",
		"cluster.local.", "Cluster.Local.", "ns.dns.cluster.local.", "dns-version.cluster.local.", "_tcp.dual.ns1.svc.cluster.local.",
		"x.ns.dns.cluster.local.", "x.hostmaster.cluster.local.", "NOPE.default.svc.Cluster.local.", "nope.default.svc.cluster.Local.",
		"10-1-2-3.default.pod.cluster.local.", "*.default.svc.cluster.local.", "example.com.",
		"162.32.254.10.in-addr.arpa.", "9.9.9.9.in-addr.arpa.", "254.10.in-addr.arpa.", "in-addr.arpa.", "IN-ADDR.arpa.",
		"1.0.1.10.in-addr.arpa.", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.",
		"big.ns1.svc.cluster.local.", "_http._tcp.big.ns1.svc.cluster.local.", "_HTTP._tcp.big.ns1.svc.cluster.local.",
		// Wildcards.
		"*.*.svc.cluster.local.", "_http._tcp.*.ns1.svc.cluster.local.", "*.hl.ns1.svc.cluster.local.", "my-nginx.*.svc.cluster.local.",
		"*.svc.cluster.local.", "*.nope.svc.cluster.local.", "*.*.*.svc.cluster.local.", "*.Default.svc.cluster.local.",
		"*.big.ns1.svc.cluster.local.", "_http._tcp.*.*.svc.cluster.local.", "*.cluster.local.", "*.My-Nginx.default.svc.cluster.local.",
		"*._tcp.hl.ns1.svc.cluster.local.", "_tcp.*.ns1.svc.cluster.local.",
	}
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeSOA, dns.TypeNS, dns.TypeTXT, dns.TypeCNAME, dns.TypeMX, dns.TypeANY}
	var out []*dns.Msg
	for _, n := range names {
		for _, t := range types {
			out = append(out, query(n, t, nil))
			out = append(out, query(n, t, func(m *dns.Msg) { m.RecursionDesired = false; m.CheckingDisabled = true; m.Id = 7 }))
			out = append(out, query(n, t, func(m *dns.Msg) { m.SetEdns0(1232, true) }))
			out = append(out, query(n, t, func(m *dns.Msg) { m.SetEdns0(100, false) }))
			out = append(out, query(n, t, func(m *dns.Msg) { m.SetEdns0(65000, false) }))
		}
	}
	return out
}

// fastAndGeneral returns the fast path's reply to q over UDP or TCP (nil
// when it leaves q alone) and the general path's.
func fastAndGeneral(t testing.TB, h *Handler, q *dns.Msg, tcp bool) (fast, general []byte) {
	req, err := q.Pack()
	if err != nil {
		t.Fatal(err)
	}
	out, ok := h.fastReply(req, make([]byte, 0, dns.MaxMsgSize), tcp, time.Now())
	if !ok {
		return nil, nil
	}
	w := dnstest.NewRecorder(!tcp)
	h.serveGeneral(w, q, !tcp, time.Now())
	return out, w.Wire
}

// The fast path's replies are byte for byte those of the general path,
// which packs through miekg/dns, over UDP and over TCP: compressed alike,
// SRV targets whole, truncated alike.
func TestFastPathMatchesServeDNS(t *testing.T) {
	snap := buildSnapshot(testConfig(), bigFixture(1500))
	for _, withUpstream := range []bool{false, true} {
		for _, tcp := range []bool{false, true} {
			h := newTestHandler(snap)
			if withUpstream {
				h.upstream = nxUpstream{}
			}
			answered, truncated := 0, 0
			for _, q := range fastCases() {
				fast, general := fastAndGeneral(t, h, q, tcp)
				if fast == nil {
					continue
				}
				answered++
				if fast[2]&0x02 != 0 {
					truncated++
				}
				if string(fast) != string(general) {
					m1, m2 := new(dns.Msg), new(dns.Msg)
					_, _ = m1.Unpack(fast), m2.Unpack(general)
					t.Errorf("%s %s (upstream %v, tcp %v): fast reply (%d bytes)\n%x\n%v\ngeneral (%d bytes)\n%x\n%v", q.Question[0].Name,
						dns.TypeToString[q.Question[0].Qtype], withUpstream, tcp, len(fast), fast, m1, len(general), general, m2)
				}
			}
			if answered < 200 || truncated < 10 {
				t.Errorf("upstream %v, tcp %v: the fast path answered only %d queries, %d truncated", withUpstream, tcp, answered, truncated)
			}
		}
	}
}

func TestFastPathLeavesOthers(t *testing.T) {
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	buf := make([]byte, maxUDPSize)
	pack := func(m *dns.Msg) []byte { b, _ := m.Pack(); return b }
	hit := query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil)
	for name, req := range map[string][]byte{
		"response":    pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.Response = true })),
		"notify":      pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify })),
		"chaos":       pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })),
		"edns1":       pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false); m.IsEdns0().SetVersion(1) })),
		"two extras":  pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false); m.Extra = append(m.Extra, m.Extra[0]) })),
		"trailing":    append(pack(hit), 0),
		"short":       pack(hit)[:20],
		"header only": pack(hit)[:12],
		"pointer":     append(pack(hit)[:12], 0xc0, 12, 0, 1, 0, 1),
		// An option that runs past the OPT record, and one whose content miekg/dns checks.
		"bad option": withOption(pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false) })), 10, 8, 4),
		"subnet": pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) {
			m.SetEdns0(4096, false)
			m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{10, 0, 0, 0}}}
		})),
	} {
		if _, ok := h.fastReply(req, buf[:0], false, time.Now()); ok {
			t.Errorf("%s: answered on the fast path", name)
		}
	}
	if _, ok := newTestHandler(nil).fastReply(pack(hit), buf[:0], false, time.Now()); ok {
		t.Error("answered before the first snapshot")
	}
	cookie := pack(query("my-nginx.default.svc.cluster.local.", dns.TypeA, func(m *dns.Msg) {
		m.SetEdns0(4096, false)
		m.IsEdns0().Option = []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0123456789abcdef"}}
	}))
	if _, ok := h.fastReply(cookie, buf[:0], false, time.Now()); !ok {
		t.Error("a query with a cookie was left to the general path")
	}
}

// withOption returns the packed query q, whose OPT record is last and has no
// options, with an option of the given code, declared length and data length.
func withOption(q []byte, code uint16, declared, data int) []byte {
	q = binary.BigEndian.AppendUint16(q, code)
	q = binary.BigEndian.AppendUint16(q, uint16(declared))
	q = append(q, make([]byte, data)...)
	binary.BigEndian.PutUint16(q[len(q)-4-data-2:], uint16(4+data)) // the OPT's data length
	return q
}

func TestFastPathDoesNotAllocate(t *testing.T) {
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	h.metrics = NewMetrics(prometheus.NewRegistry(), "skydns", "skydns")
	buf := make([]byte, maxUDPSize)
	for _, q := range []*dns.Msg{
		query("My-Nginx.default.svc.cluster.local.", dns.TypeA, nil),
		query("_http._tcp.hl.ns1.svc.cluster.local.", dns.TypeSRV, func(m *dns.Msg) { m.SetEdns0(1232, false) }),
		query("162.32.254.10.in-addr.arpa.", dns.TypePTR, nil),
		query("nope.default.svc.cluster.local.", dns.TypeA, nil),
	} {
		req, _ := q.Pack()
		if _, ok := h.fastReply(req, buf[:0], false, time.Now()); !ok {
			t.Fatalf("%s: not answered on the fast path", q.Question[0].Name)
		}
		if n := testing.AllocsPerRun(100, func() { h.fastReply(req, buf[:0], false, time.Now()) }); n != 0 {
			t.Errorf("%s: %v allocations per reply", q.Question[0].Name, n)
		}
	}
}

// FuzzFastReply feeds arbitrary packets to the fast path, over UDP and TCP:
// whatever it answers must be byte for byte what the general path sends.
func FuzzFastReply(f *testing.F) {
	for _, q := range fastCases()[:400] {
		b, _ := q.Pack()
		f.Add(b, false)
		f.Add(b, true)
	}
	h := newTestHandler(buildSnapshot(testConfig(), bigFixture(300)))
	buf := make([]byte, dns.MaxMsgSize)
	f.Fuzz(func(t *testing.T, req []byte, tcp bool) {
		out, ok := h.fastReply(req, buf[:0], tcp, time.Now())
		if !ok {
			return
		}
		if max := maxUDPSize; !tcp && len(out) > max || len(out) > dns.MaxMsgSize {
			t.Fatalf("a reply of %d bytes (tcp %v)", len(out), tcp)
		}
		q := new(dns.Msg)
		if err := q.Unpack(req); err != nil {
			t.Fatalf("answered a request that does not unpack: %v", err)
		}
		w := dnstest.NewRecorder(!tcp)
		h.serveGeneral(w, q, !tcp, time.Now())
		if string(out) != string(w.Wire) {
			t.Fatalf("fast reply\n%x\ngeneral\n%x\n%v", out, w.Wire, w.Msg)
		}
	})
}

// nxUpstream answers NXDOMAIN; the fast path only needs to know one exists.
type nxUpstream struct{}

func (nxUpstream) Forward(_ context.Context, req *dns.Msg) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetRcode(req, dns.RcodeNameError)
	return m, nil
}

func (nxUpstream) Lookup(context.Context, string, uint16) []dns.RR { return nil }
