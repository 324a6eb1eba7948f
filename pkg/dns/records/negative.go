package records

import (
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// A negative is a zone's SOA record as the authority section of a negative
// answer, encoded once per snapshot for the common question: one in the
// zone, lower case from the zone's apex on, that shares no longer suffix
// with the SOA's names. Only its compression pointers differ from one such
// question to another: those into the question's zone apex move with the
// question's length, those into the record itself with where it starts.
type negative struct {
	wire  []byte
	patch []pointerAt
	avoid []string // suffixes of the SOA's names longer than the zone: a question ending so compresses otherwise
}

// pointerAt is a compression pointer of a negative's wire: at off, to the
// question's zone apex plus rel (inApex), or to the record's start plus rel.
type pointerAt struct {
	off, rel int
	inApex   bool
}

// templateOrigin is the offset a negative is encoded at: every pointer at
// or past it points into the record, every one before into the question.
const templateOrigin = 0x2000

// newNegative encodes soa, whose names are valid, for questions in zone.
func newNegative(zone string, soa *dns.SOA) *negative {
	var c compressor
	c.reset(0, templateOrigin)
	n := &negative{wire: c.appendSOA(nil, []byte(zone), soa, false)}
	for _, name := range []string{soa.Ns, soa.Mbox} {
		for s := name; len(s) > len(zone); s = s[strings.IndexByte(s, '.')+1:] {
			if dnsname.InZone(s, zone) {
				n.avoid = append(n.avoid, s)
			}
		}
	}
	// Walk the record's names: the owner, then the two in its data.
	off := 0
	off = n.pointers(off)
	off += 10 // type, class, TTL, data length
	off = n.pointers(off)
	n.pointers(off)
	return n
}

// pointers notes the pointer that ends the name at off, if any, and returns
// where the name ends.
func (n *negative) pointers(off int) int {
	for n.wire[off] != 0 {
		if n.wire[off]&0xc0 == 0xc0 {
			p := int(n.wire[off]&0x3f)<<8 | int(n.wire[off+1])
			if p >= templateOrigin {
				n.patch = append(n.patch, pointerAt{off: off, rel: p - templateOrigin})
			} else {
				n.patch = append(n.patch, pointerAt{off: off, rel: p - headerLen, inApex: true})
			}
			return off + 2
		}
		off += int(n.wire[off]) + 1
	}
	return off + 1
}

// append appends the record to reply, which ends with the question name
// (lower case, its zone's apex at apex, no upper-case letter from qFrom on);
// false when the question is not the common one.
func (n *negative) append(reply, name []byte, apex, qFrom int) ([]byte, bool) {
	if apex < qFrom {
		return reply, false
	}
	for _, s := range n.avoid {
		if dnsname.InZone(name, s) {
			return reply, false
		}
	}
	start := len(reply)
	reply = append(reply, n.wire...)
	for _, p := range n.patch {
		to := start + p.rel
		if p.inApex {
			to = headerLen + apex + p.rel
		}
		if to > maxPointer {
			return reply[:start], false
		}
		binary.BigEndian.PutUint16(reply[start+p.off:], uint16(0xc000|to))
	}
	return reply, true
}
