// Package dnstest holds helpers for DNS tests: a ResponseWriter that records
// the reply, cases whose expected records are written as zone-file lines, a
// zone served on loopback (ServeZone) and names resolved from a map (Hosts).
package dnstest

import (
	"fmt"
	"net"
	"sort"
	"strings"

	"github.com/miekg/dns"
)

// Recorder is a dns.ResponseWriter that keeps the message written to it.
type Recorder struct {
	Local, Remote net.Addr
	Msg           *dns.Msg
	Wire          []byte
}

// NewRecorder returns a Recorder that looks like a UDP (udp true) or TCP peer on loopback.
func NewRecorder(udp bool) *Recorder {
	if udp {
		return &Recorder{Local: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, Remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
	}
	return &Recorder{Local: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, Remote: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}}
}

func (r *Recorder) LocalAddr() net.Addr  { return r.Local }
func (r *Recorder) RemoteAddr() net.Addr { return r.Remote }

// WriteMsg records m.
func (r *Recorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = r.Write(b)
	return err
}

// Write records a packed message; it must unpack.
func (r *Recorder) Write(b []byte) (int, error) {
	r.Wire = append([]byte(nil), b...)
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		return 0, err
	}
	r.Msg = m
	return len(b), nil
}

func (r *Recorder) Close() error        { return nil }
func (r *Recorder) TsigStatus() error   { return nil }
func (r *Recorder) TsigTimersOnly(bool) {}
func (r *Recorder) Hijack()             {}
func (r *Recorder) Network() string     { return r.Local.Network() }

// Case is one query and the answer expected for it. Records are zone-file
// lines, e.g. "svc.ns.svc.cluster.local. 30 IN A 10.0.0.1".
type Case struct {
	Name   string // subtest name; defaults to "<qname>/<qtype>"
	Qname  string
	Qtype  uint16
	Rcode  int
	Answer []string
	Ns     []string
	Extra  []string
	// NoAA expects the AA bit clear (forwarded answers).
	NoAA bool
}

// Msg returns the query of the case.
func (c Case) Msg() *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(c.Qname, c.Qtype)
	return m
}

// String names the case.
func (c Case) String() string {
	if c.Name != "" {
		return c.Name
	}
	return c.Qname + "/" + dns.TypeToString[c.Qtype]
}

// Check compares a reply with the case, section by section, ignoring order.
// The OPT record is not compared.
func Check(resp *dns.Msg, c Case) error {
	if resp == nil {
		return fmt.Errorf("no reply")
	}
	if resp.Rcode != c.Rcode {
		return fmt.Errorf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[c.Rcode])
	}
	if resp.Authoritative == c.NoAA {
		return fmt.Errorf("authoritative %v, want %v", resp.Authoritative, !c.NoAA)
	}
	for _, s := range []struct {
		name string
		got  []dns.RR
		want []string
	}{{"answer", resp.Answer, c.Answer}, {"authority", resp.Ns, c.Ns}, {"additional", resp.Extra, c.Extra}} {
		if err := section(s.got, s.want); err != nil {
			return fmt.Errorf("%s section: %w", s.name, err)
		}
	}
	return nil
}

func section(got []dns.RR, want []string) error {
	var g, w []string
	for _, rr := range got {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		g = append(g, canonical(rr))
	}
	for _, s := range want {
		rr, err := dns.NewRR(s)
		if err != nil {
			return fmt.Errorf("bad expected record %q: %w", s, err)
		}
		w = append(w, canonical(rr))
	}
	sort.Strings(g)
	sort.Strings(w)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		return fmt.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(g, "\n\t"), strings.Join(w, "\n\t"))
	}
	return nil
}

// canonical prints a record with tabs folded, so zone-file spacing does not matter.
func canonical(rr dns.RR) string { return strings.Join(strings.Fields(rr.String()), " ") }

// SOA is the expected SOA line of a zone with the given serial, TTL 30.
func SOA(zone, domain string, serial uint32) string {
	return fmt.Sprintf("%s 30 IN SOA ns.dns.%s hostmaster.%s %d 7200 1800 86400 30", zone, domain, domain, serial)
}
