package records

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// questionPointer is a compression pointer to the question name, which starts
// right after the 12-byte header of every reply.
var questionPointer = [2]byte{0xc0, 12}

// headerLen is the size of a DNS message header; the question follows it.
const headerLen = 12

// appendName appends name (a presentation-form FQDN) in uncompressed wire
// form; false when it is not a valid name.
func appendName(b []byte, name string) ([]byte, bool) {
	if !validName(name) {
		return b, false
	}
	var c compressor
	c.reset(0, maxPointer) // nothing to point at, nothing remembered
	return c.appendName(b, nil, name, false), true
}

// valid reports whether r's names can be encoded (validName), as an answer
// (its owner the question) or an additional record.
func (r *rec) valid(answer bool) bool {
	if !answer && !validName(r.name) {
		return false
	}
	switch r.typ {
	case dns.TypeSRV, dns.TypePTR, dns.TypeCNAME, dns.TypeNS:
		return validName(r.target)
	}
	return true
}

// appendRecord appends r in wire form: as an answer (its owner is the
// question q, a pointer to offset 12) or as an additional record (its owner
// compressed), then type, class IN, ttl, data length and data, whose names
// c compresses as miekg/dns would (SRV targets never). It reports false
// (and appends nothing) when r cannot be encoded: r's names must be valid
// (rec.valid).
func (c *compressor) appendRecord(b, q []byte, r *rec, ttl uint32, answer bool) ([]byte, bool) {
	start := len(b)
	ok := true
	if answer {
		b = append(b, questionPointer[:]...)
	} else {
		b = c.appendName(b, q, r.name, true)
	}
	rdata := len(b) + 10
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[rdata-10:], r.typ)
	binary.BigEndian.PutUint16(b[rdata-8:], dns.ClassINET)
	binary.BigEndian.PutUint32(b[rdata-6:], ttl)
	switch r.typ {
	case dns.TypeA:
		a := r.ip.As4()
		b = append(b, a[:]...)
	case dns.TypeAAAA:
		a := r.ip.As16()
		b = append(b, a[:]...)
	case dns.TypeSRV:
		b = binary.BigEndian.AppendUint16(b, 0) // priority
		b = binary.BigEndian.AppendUint16(b, r.weight)
		b = binary.BigEndian.AppendUint16(b, r.port)
		b = c.appendName(b, q, r.target, false) // RFC 2782: not compressed
	case dns.TypePTR, dns.TypeCNAME, dns.TypeNS:
		b = c.appendName(b, q, r.target, true)
	case dns.TypeTXT:
		for s := r.target; ; {
			chunk := s[:min(len(s), 255)]
			b = append(append(b, byte(len(chunk))), chunk...)
			if s = s[len(chunk):]; s == "" {
				break
			}
		}
	default:
		ok = false
	}
	rdlen := len(b) - rdata
	if !ok || rdlen > 0xffff {
		return b[:start], false
	}
	binary.BigEndian.PutUint16(b[rdata-2:], uint16(rdlen))
	return b, true
}

// nameLen returns the length of the name at the start of b: labels ending
// with the root or with a compression pointer.
func nameLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] != 0 {
		if b[i]&0xc0 == 0xc0 {
			return i + 2
		}
		i += int(b[i]) + 1
	}
	return i + 1
}

// Records decodes the set for the general path: its records, with owner as
// their owner name, and the additional records that go with them. owner
// must be the name of the set's node, in any case: the names in Wire point
// into it.
func (s *RRSet) Records(owner string) (rrs, extra []dns.RR) {
	rrs, extra, _ = s.Head(owner, int(^uint16(0)))
	return rrs, extra
}

// Head is Records for at most max answer records: when the set holds more,
// it returns the first max of them, no additional records, and cut true.
func (s *RRSet) Head(owner string, max int) (rrs, extra []dns.RR, cut bool) {
	if s == nil {
		return nil, nil, false
	}
	an, ar, wire := s.An, s.Ar, s.Wire
	if int(an) > max {
		end := 0
		for range max {
			end = AnswerEnd(wire, end)
		}
		an, ar, wire, cut = uint16(max), 0, wire[:end], true
	}
	msg := make([]byte, 12, 12+len(owner)+6+len(wire))
	binary.BigEndian.PutUint16(msg[4:], 1)
	binary.BigEndian.PutUint16(msg[6:], an)
	binary.BigEndian.PutUint16(msg[10:], ar)
	msg, ok := appendName(msg, owner)
	if !ok {
		return nil, nil, false
	}
	msg = binary.BigEndian.AppendUint16(msg, s.Type)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
	msg = append(msg, wire...)
	var m dns.Msg
	if err := m.Unpack(msg); err != nil {
		return nil, nil, false
	}
	return m.Answer, m.Extra, cut
}
