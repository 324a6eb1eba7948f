package server

import (
	"encoding/binary"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// The fast path answers the common query (one IN question for a name in
// the snapshot, optionally with EDNS) straight from the request bytes and the
// snapshot's encoded records: the reply is the request's header, patched,
// its question copied as sent (so the answer's owner names, pointers to it,
// echo the query's case), the encoded set, cut at a record boundary where it
// does not fit (TC set), and an OPT record when the query had one. The bytes
// are exactly those ServeDNS packs through miekg/dns for the same query
// (TestFastPathMatchesServeDNS, FuzzFastReply); it allocates nothing.
// Anything else (wildcards, CNAMEs to chase, pod names to synthesize,
// forwarding, ANY, malformed input) returns false and goes through ServeDNS.

const headerLen = 12

// fastReply writes the reply to req into out and returns it, or returns
// false to leave the query to ServeDNS. Over UDP the reply fits the
// client's buffer (and out must have room for maxUDPSize bytes); over TCP
// it fits a TCP message (and out must have room for dns.MaxMsgSize bytes).
func (h *Handler) fastReply(req, out []byte, tcp bool, start time.Time) ([]byte, bool) {
	if len(req) < headerLen+5 {
		return nil, false
	}
	// QR=0, opcode QUERY, one question, nothing but an optional OPT.
	if req[2]&0xf8 != 0 || binary.BigEndian.Uint16(req[4:]) != 1 ||
		binary.BigEndian.Uint16(req[6:]) != 0 || binary.BigEndian.Uint16(req[8:]) != 0 {
		return nil, false
	}
	arcount := binary.BigEndian.Uint16(req[10:])
	if arcount > 1 {
		return nil, false
	}
	var key [256]byte // the lower-case name in presentation form: the snapshot's key
	n, off, upper, wild := 0, headerLen, -1, false
	for {
		if off >= len(req) {
			return nil, false
		}
		l := int(req[off])
		off++
		if l == 0 {
			break
		}
		if l > 63 || off+l > len(req) || n+l+1 > 254 {
			return nil, false // compression pointers, overlong names: the general path decides
		}
		for _, c := range req[off : off+l] {
			switch {
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
				upper = n
			case c == '*' && l == 1 && h.wildcards != nil:
				wild = true
			default:
				return nil, false // escapes, odd bytes
			}
			key[n] = c
			n++
		}
		key[n] = '.'
		n++
		off += l
	}
	if n == 0 || off+4 > len(req) {
		return nil, false
	}
	qtype := binary.BigEndian.Uint16(req[off:])
	if binary.BigEndian.Uint16(req[off+2:]) != dns.ClassINET {
		return nil, false
	}
	qend := off + 4
	ednsSize := dns.MinMsgSize
	edns := arcount == 1
	if edns {
		// OPT: root name, type 41, class = UDP size, TTL = ext-rcode, version, flags; options ignored.
		o := qend
		if o+11 > len(req) || req[o] != 0 || binary.BigEndian.Uint16(req[o+1:]) != dns.TypeOPT ||
			req[o+6] != 0 || o+11+int(binary.BigEndian.Uint16(req[o+9:])) != len(req) || !optionsDecode(req[o+11:]) {
			return nil, false // not an OPT, EDNS version > 0 (BADVERS), or options for miekg/dns to judge
		}
		ednsSize = min(max(int(binary.BigEndian.Uint16(req[o+3:])), dns.MinMsgSize), maxUDPSize)
	} else if qend != len(req) {
		return nil, false
	}
	limit := ednsSize
	if tcp {
		limit = dns.MaxMsgSize
	}
	name := key[:n]
	zone, sys := h.zoneOf(name)
	if zone == "" || qtype == dns.TypeANY && !wild || qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		return nil, false
	}
	s := h.snapshot()
	if s == nil {
		return nil, false
	}
	room := min(limit, cap(out)) - qend
	if edns {
		room -= 11
	}
	if room < 0 {
		return nil, false
	}
	out = out[:qend]
	copy(out, req[:qend])
	rcode := dns.RcodeSuccess
	an, ns, ar, truncated := 0, 0, 0, false
	if wild {
		return h.fastWildcard(req, out, s, name, zone, sys, qtype, upper, room, edns, ednsSize, start)
	}
	node := s.LookupBytes(name)
	var set *records.RRSet
	if node != nil {
		set = node.Set(qtype)
	}
	switch {
	case node == nil && sys == systemReverse && h.upstream != nil:
		return nil, false // forwarded
	case node == nil && sys == systemAuth && h.underPods(name):
		return nil, false // maybe a pod name to synthesize
	case set != nil && set.An > 0:
		if int(set.CaseSafe) <= upper {
			return nil, false // miekg compresses this reply differently: the general path packs it
		}
		var wire []byte
		wire, an, ar, truncated = fit(set, room)
		out = append(out, wire...)
	case node != nil && node.Set(dns.TypeCNAME) != nil:
		return nil, false // a chase
	default:
		if node == nil {
			rcode = dns.RcodeNameError
		}
		var ok bool
		if out, ok = s.AppendNegative(out, name, upper+1, zone); !ok || len(out)-qend > room {
			return nil, false
		}
		ns = 1
	}
	return h.finishFast(req, out, sys, qtype, rcode, an, ns, ar, truncated, edns, ednsSize, start), true
}

// fastWildcard is fastReply for a wildcard name: out ends with the question.
func (h *Handler) fastWildcard(req, out []byte, s *records.Snapshot, name []byte, zone string, sys system,
	qtype uint16, upper, room int, edns bool, ednsSize int, start time.Time) ([]byte, bool) {
	if zone != s.Config().Domain {
		return nil, false
	}
	a, exists, ok := h.wildcardAnswer(s, string(name), qtype, room)
	defer a.Release()
	if !ok {
		return nil, false
	}
	qend := len(out)
	rcode, an, ns, ar, truncated := dns.RcodeSuccess, 0, 0, 0, false
	if a.Len() > 0 || a.Full() {
		out, an, ar, truncated = a.AppendTo(out, name, upper+1, room, s.Config().TTL)
		truncated = truncated || a.Full()
	} else {
		if !exists {
			rcode = dns.RcodeNameError
		}
		if out, ok = s.AppendNegative(out, name, upper+1, zone); !ok || len(out)-qend > room {
			return nil, false
		}
		ns = 1
	}
	return h.finishFast(req, out, sys, qtype, rcode, an, ns, ar, truncated, edns, ednsSize, start), true
}

// finishFast patches the header of the fast path's reply out to req, adds
// the OPT record when req has one, and counts the reply.
func (h *Handler) finishFast(req, out []byte, sys system, qtype uint16, rcode, an, ns, ar int, truncated, edns bool, ednsSize int, start time.Time) []byte {
	out[2] = 0x80 | 0x04 | req[2]&0x01 // QR, AA, RD as asked
	if truncated {
		out[2] |= 0x02 // TC
	}
	out[3] = req[3]&0x10 | byte(rcode) // CD as asked
	if h.upstream != nil {
		out[3] |= 0x80 // RA
	}
	binary.BigEndian.PutUint16(out[6:], uint16(an))
	binary.BigEndian.PutUint16(out[8:], uint16(ns))
	if edns {
		ar++
		out = append(out, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
		o := len(out) - 11
		binary.BigEndian.PutUint16(out[o+1:], dns.TypeOPT)
		binary.BigEndian.PutUint16(out[o+3:], uint16(ednsSize))
	}
	binary.BigEndian.PutUint16(out[10:], uint16(ar))
	h.metrics.observe(sys, qtype, rcode, truncated, len(out), time.Since(start))
	return out
}

// fit returns the part of set's Wire that fits in room bytes, cut where
// miekg/dns's Msg.Truncate cuts: the answers in order while they fit, then,
// only if they all did, the additional records while they fit; truncated
// when anything was left out.
func fit(set *records.RRSet, room int) (wire []byte, an, ar int, truncated bool) {
	if len(set.Wire) <= room {
		return set.Wire, int(set.An), int(set.Ar), false
	}
	end := 0
	for an < int(set.An) {
		next := records.AnswerEnd(set.Wire, end)
		if next > room {
			return set.Wire[:end], an, 0, true
		}
		end, an = next, an+1
	}
	for ar < int(set.Ar) {
		next := records.RecordEnd(set.Wire, end)
		if next > room {
			break
		}
		end, ar = next, ar+1
	}
	return set.Wire[:end], an, ar, true
}

// optionsDecode reports whether miekg/dns decodes the EDNS options in b
// whatever they hold: they fill b exactly, and none is of a kind whose
// content miekg checks (a query miekg cannot decode gets no reply, or
// FORMERR, from the general path). Cookies, padding and unknown options
// are ignored as they are there.
func optionsDecode(b []byte) bool {
	for len(b) > 0 {
		if len(b) < 4 || 4+int(binary.BigEndian.Uint16(b[2:])) > len(b) {
			return false
		}
		switch binary.BigEndian.Uint16(b) {
		case dns.EDNS0LLQ, dns.EDNS0UL, dns.EDNS0SUBNET, dns.EDNS0EXPIRE, dns.EDNS0TCPKEEPALIVE,
			dns.EDNS0EDE, dns.EDNS0REPORTING, dns.EDNS0ZONEVERSION:
			return false
		}
		b = b[4+int(binary.BigEndian.Uint16(b[2:])):]
	}
	return true
}

// zoneOf returns the zone of a lower-case name and its metrics label, or "".
func (h *Handler) zoneOf(name []byte) (string, system) {
	switch {
	case dnsname.InZone(name, h.zones.Domain):
		return h.zones.Domain, systemAuth
	case dnsname.InZone(name, records.ReverseV4):
		return records.ReverseV4, systemReverse
	case dnsname.InZone(name, records.ReverseV6):
		return records.ReverseV6, systemReverse
	case h.zones.Multicluster != "" && dnsname.InZone(name, h.zones.Multicluster):
		return h.zones.Multicluster, systemAuth
	}
	return "", systemAuth
}

// underPods reports whether name is below pod.<domain>.
func (h *Handler) underPods(name []byte) bool {
	d := h.zones.Domain
	if len(name) < len(d)+5 || string(name[len(name)-len(d):]) != d {
		return false
	}
	rest := name[:len(name)-len(d)]
	return string(rest) == "pod." || (len(rest) > 4 && string(rest[len(rest)-5:]) == ".pod.")
}
