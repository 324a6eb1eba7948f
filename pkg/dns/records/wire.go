package records

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// questionPointer is a compression pointer to the question name, which starts
// right after the 12-byte header of every reply.
var questionPointer = [2]byte{0xc0, 12}

// appendName appends name (a presentation-form FQDN) in uncompressed wire
// form; false when it is not a valid name.
func appendName(b []byte, name string) ([]byte, bool) {
	off := len(b)
	b = slices.Grow(b, len(name)+2)
	n, err := dns.PackDomainName(name, b[:cap(b)], off, nil, false)
	if err != nil {
		return b[:off], false
	}
	return b[:n], true
}

// appendNameFrom appends name in wire form compressed against the question,
// which spells question (in any case) from offset 12: the labels of name
// before the longest suffix it shares with question, then a pointer to that
// suffix. Names with escapes, and names sharing only the root, are not
// compressed.
func appendNameFrom(b []byte, name, question string) ([]byte, bool) {
	if strings.IndexByte(name, '\\') >= 0 || strings.IndexByte(question, '\\') >= 0 {
		return appendName(b, name)
	}
	for k := 0; k < len(name)-1; {
		suffix := name[k:]
		if at := len(question) - len(suffix); at >= 0 && question[at:] == suffix && (at == 0 || question[at-1] == '.') {
			ptr := headerLen + at
			if ptr > 0x3fff {
				break
			}
			if k > 0 {
				var ok bool
				if b, ok = appendName(b, name[:k]); !ok {
					return b, false
				}
				b = b[:len(b)-1] // the labels without the root
			}
			return append(b, byte(0xc0|ptr>>8), byte(ptr)), true
		}
		k += strings.IndexByte(suffix, '.') + 1
	}
	return appendName(b, name)
}

// headerLen is the size of a DNS message header; the question follows it.
const headerLen = 12

// appendRecord appends r with the given owner (a wire-form name, or a
// pointer to the question for the answer form), then type, class IN, ttl,
// data length and data; the names in the data are compressed against
// question, the owner name of the set r belongs to. It reports false (and
// appends nothing) when r cannot be encoded.
func appendRecord(b, owner []byte, r *rec, ttl uint32, question string) ([]byte, bool) {
	start := len(b)
	b = append(b, owner...)
	rdata := len(b) + 10
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint16(b[rdata-10:], r.typ)
	binary.BigEndian.PutUint16(b[rdata-8:], dns.ClassINET)
	binary.BigEndian.PutUint32(b[rdata-6:], ttl)
	ok := true
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
		b, ok = appendNameFrom(b, r.target, question)
	case dns.TypePTR, dns.TypeCNAME, dns.TypeNS:
		b, ok = appendNameFrom(b, r.target, question)
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

// packRR encodes rr in full wire form, names uncompressed; nil when it
// cannot be encoded. Only the zones' SOA records are encoded this way.
func packRR(rr dns.RR) []byte {
	buf := make([]byte, 512)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil
	}
	return buf[:n:n]
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
	if s == nil {
		return nil, nil
	}
	msg := make([]byte, 12, 12+len(owner)+6+len(s.Wire))
	binary.BigEndian.PutUint16(msg[4:], 1)
	binary.BigEndian.PutUint16(msg[6:], s.An)
	binary.BigEndian.PutUint16(msg[10:], s.Ar)
	msg, ok := appendName(msg, owner)
	if !ok {
		return nil, nil
	}
	msg = binary.BigEndian.AppendUint16(msg, s.Type)
	msg = binary.BigEndian.AppendUint16(msg, dns.ClassINET)
	msg = append(msg, s.Wire...)
	var m dns.Msg
	if err := m.Unpack(msg); err != nil {
		return nil, nil
	}
	return m.Answer, m.Extra
}
