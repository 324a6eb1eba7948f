package server

import (
	"encoding/binary"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// The fast path answers the common UDP query (one IN question for a name in
// the snapshot, optionally with EDNS) straight from the request bytes and the
// snapshot's encoded records: the reply is the request's header, patched,
// its question copied as sent (so the answer's owner names, pointers to it,
// echo the query's case), the encoded set, and an OPT record when the query
// had one. It allocates nothing. Anything else (wildcards, CNAMEs to chase,
// pod names to synthesize, forwarding, ANY, truncation, malformed input)
// returns false and goes through ServeDNS, which answers the same way.

const headerLen = 12

// fastReply writes the reply to req into out (which must have room for
// maxUDPSize bytes) and returns it, or returns false to leave the query to
// ServeDNS.
func (h *Handler) fastReply(req, out []byte, start time.Time) ([]byte, bool) {
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
	n, off := 0, headerLen
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
			default:
				return nil, false // '*' (wildcards), escapes, odd bytes
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
	limit := dns.MinMsgSize
	edns := arcount == 1
	if edns {
		// OPT: root name, type 41, class = UDP size, TTL = ext-rcode, version, flags; options ignored.
		o := qend
		if o+11 > len(req) || req[o] != 0 || binary.BigEndian.Uint16(req[o+1:]) != dns.TypeOPT ||
			req[o+6] != 0 || o+11+int(binary.BigEndian.Uint16(req[o+9:])) != len(req) {
			return nil, false // not an OPT, or EDNS version > 0 (BADVERS)
		}
		limit = min(max(int(binary.BigEndian.Uint16(req[o+3:])), dns.MinMsgSize), maxUDPSize)
	} else if qend != len(req) {
		return nil, false
	}
	name := key[:n]
	zone, sys := h.zoneOf(name)
	if zone == "" || qtype == dns.TypeANY || qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
		return nil, false
	}
	s := h.snapshot()
	if s == nil {
		return nil, false
	}
	rcode := dns.RcodeSuccess
	var wire []byte
	an, ns, ar := 0, 0, 0
	node := s.LookupBytes(name)
	switch {
	case node == nil:
		if sys == systemReverse && h.upstream != nil {
			return nil, false // forwarded
		}
		if sys == systemAuth && h.underPods(name) {
			return nil, false // maybe a pod name to synthesize
		}
		rcode, wire, ns = dns.RcodeNameError, s.SOAWire(zone), 1
	default:
		set := node.Set(qtype)
		switch {
		case set != nil && set.An > 0:
			wire, an, ar = set.Wire, int(set.An), int(set.Ar)
		case node.Set(dns.TypeCNAME) != nil:
			return nil, false // a chase
		default:
			wire, ns = s.SOAWire(zone), 1
		}
	}
	if ns == 1 && wire == nil {
		return nil, false
	}
	size := qend + len(wire)
	if edns {
		size += 11
		ar++
	}
	if size > limit || size > cap(out) {
		return nil, false // the general path truncates
	}
	out = out[:size]
	copy(out, req[:qend])
	out[2] = 0x80 | 0x04 | req[2]&0x01 // QR, AA, RD as asked
	out[3] = req[3]&0x10 | byte(rcode) // CD as asked
	if h.upstream != nil {
		out[3] |= 0x80 // RA
	}
	binary.BigEndian.PutUint16(out[6:], uint16(an))
	binary.BigEndian.PutUint16(out[8:], uint16(ns))
	binary.BigEndian.PutUint16(out[10:], uint16(ar))
	o := qend + copy(out[qend:], wire)
	if edns {
		out[o] = 0
		binary.BigEndian.PutUint16(out[o+1:], dns.TypeOPT)
		binary.BigEndian.PutUint16(out[o+3:], uint16(limit))
		clear(out[o+5 : o+11]) // TTL (ext-rcode, version, flags) and RDLENGTH
	}
	h.metrics.observe(sys, qtype, rcode, false, size, time.Since(start))
	return out, true
}

// zoneOf returns the zone of a lower-case name and its metrics label, or "".
func (h *Handler) zoneOf(name []byte) (string, system) {
	switch {
	case records.InZone(name, h.zones.Domain):
		return h.zones.Domain, systemAuth
	case records.InZone(name, records.ReverseV4):
		return records.ReverseV4, systemReverse
	case records.InZone(name, records.ReverseV6):
		return records.ReverseV6, systemReverse
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
