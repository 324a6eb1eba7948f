package records

import (
	"encoding/binary"
	"strings"

	"github.com/miekg/dns"
)

// maxPointer is the largest offset a compression pointer can hold: names
// written further into a message are never pointed at.
const maxPointer = 0x3fff

// compressor writes the names of one reply the way miekg/dns packs them
// (msg.go, packDomainName), so that the bytes the fast path sends are
// exactly those the general path's dns.Msg.Pack would: every suffix of a
// name written, label by label, is remembered with its offset the first
// time it appears below offset 0x3fff; a compressible name is cut at its
// first remembered suffix by a pointer to it. SRV targets are never
// compressed (RFC 2782) but are remembered like any name.
//
// The question q, at offset 12, is remembered first; it is passed to each
// call rather than kept, so that a question on the fast path's stack stays
// there. Its suffixes count only from qFrom on: a question sent in mixed
// case holds its upper-case suffixes under other keys than the lower-case
// names the records have (miekg compares case-sensitively). minHit notes
// the lowest question index a name matched, so that bytes computed for the
// lower-case question can be reused for any question whose upper-case
// letters all come before it.
type compressor struct {
	qFrom   int
	origin  int // the message offset of the start of the buffer written into
	minHit  int
	n       int            // suffixes in buf
	buf     [16]suffix     // the first suffixes remembered: short replies allocate nothing
	index   map[string]int // all of them, once buf is full (kept for reuse)
	indexed bool           // whether index, not buf, holds them
}

// suffix is a name written, from one of its labels on, and where that label starts.
type suffix struct {
	name string
	off  int
}

// reset prepares c for a new message whose buffer starts at message offset
// origin and whose question counts from qFrom.
func (c *compressor) reset(qFrom, origin int) {
	c.qFrom, c.origin, c.minHit = qFrom, origin, 0xff
	clear(c.buf[:c.n])
	c.n = 0
	if c.indexed {
		clear(c.index)
		c.indexed = false
	}
}

// find returns the offset at which the suffix s was first written.
func (c *compressor) find(q []byte, s string) (int, bool) {
	if i := len(q) - len(s); i >= c.qFrom && string(q[i:]) == s && (i == 0 || q[i-1] == '.') {
		c.minHit = min(c.minHit, i)
		return headerLen + i, true
	}
	if c.indexed {
		off, ok := c.index[s]
		return off, ok
	}
	for _, e := range c.buf[:c.n] {
		if e.name == s {
			return e.off, true
		}
	}
	return 0, false
}

func (c *compressor) remember(s string, off int) {
	switch {
	case c.indexed:
		c.index[s] = off
	case c.n < len(c.buf):
		c.buf[c.n] = suffix{name: s, off: off}
		c.n++
	default:
		if c.index == nil {
			c.index = make(map[string]int, 4*len(c.buf))
		}
		for _, e := range c.buf {
			c.index[e.name] = e.off
		}
		c.index[s] = off
		c.indexed = true
	}
}

// validName reports whether name is a presentation-form FQDN that DNS can
// carry: labels of 1 to 63 bytes, 255 bytes in wire form at most.
func validName(name string) bool {
	if len(name) == 0 || name[len(name)-1] != '.' || len(name) > 254 {
		return false
	}
	if name == "." {
		return true
	}
	label := 0
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			label++
			continue
		}
		if label == 0 || label > 63 {
			return false
		}
		label = 0
	}
	return true
}

// appendName appends name, a valid name (validName) whose labels hold no
// escapes (every byte but '.' is the byte itself), at the end of b.
//
// Once a suffix is found, every shorter one was remembered with it (or
// could not be, past maxPointer, which this name is past too): a name
// written whole is only searched up to its first known suffix.
func (c *compressor) appendName(b, q []byte, name string, compress bool) []byte {
	if name == "." {
		return append(b, 0)
	}
	known := false
	for begin := 0; begin < len(name); {
		end := begin + strings.IndexByte(name[begin:], '.')
		if !known {
			off := c.origin + len(b)
			if p, ok := c.find(q, name[begin:]); ok {
				if compress {
					return append(b, byte(0xc0|p>>8), byte(p))
				}
				known = true
			} else if off < maxPointer {
				c.remember(name[begin:], off)
			}
		}
		b = append(append(b, byte(end-begin)), name[begin:end]...)
		begin = end + 1
	}
	return append(b, 0)
}

// validSOA reports whether soa's names can be encoded (validName).
func validSOA(soa *dns.SOA) bool {
	return validName(soa.Hdr.Name) && validName(soa.Ns) && validName(soa.Mbox)
}

// appendSOA appends soa's record, whose names must be valid (validSOA), at
// the end of b: as the answer at a zone's apex (its owner is the question,
// a pointer to offset 12) or in the authority section (its owner
// compressed). Its names are compressed.
func (c *compressor) appendSOA(b, q []byte, soa *dns.SOA, answer bool) []byte {
	if answer {
		b = append(b, questionPointer[:]...)
	} else {
		b = c.appendName(b, q, soa.Hdr.Name, true)
	}
	b = binary.BigEndian.AppendUint16(b, dns.TypeSOA)
	b = binary.BigEndian.AppendUint16(b, dns.ClassINET)
	b = binary.BigEndian.AppendUint32(b, soa.Hdr.Ttl)
	rdlen := len(b)
	b = append(b, 0, 0)
	b = c.appendName(b, q, soa.Ns, true)
	b = c.appendName(b, q, soa.Mbox, true)
	for _, v := range [...]uint32{soa.Serial, soa.Refresh, soa.Retry, soa.Expire, soa.Minttl} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	binary.BigEndian.PutUint16(b[rdlen:], uint16(len(b)-rdlen-2))
	return b
}

// AppendNegative appends the authority section of a negative answer, the
// zone's SOA record, to reply, whose question is name (lower case; its
// upper-case letters, as sent, all before index qFrom) and which ends
// with the question. It reports false for a name outside the snapshot's zones.
func (s *Snapshot) AppendNegative(reply, name []byte, qFrom int, zone string) ([]byte, bool) {
	i := s.zoneIndex(zone)
	if i < 0 || s.soa[i] == nil {
		return reply, false
	}
	if out, ok := s.negatives[i].append(reply, name, len(name)-len(zone), qFrom); ok {
		return out, true
	}
	var c compressor
	c.reset(qFrom, 0)
	return c.appendSOA(reply, name, s.soa[i], false), true
}
