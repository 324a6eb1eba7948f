package records

import (
	"encoding/binary"
	"hash/maphash"
	"net/netip"
	"sync"

	"github.com/miekg/dns"
)

// An Answer gathers, for one question, records from the sets of several
// names: what a wildcard query is answered. Every record's owner is the
// question, as the original's wildcards answered; the additional records
// of the sets keep their owners. It decodes the sets once and writes the
// records as the fast path writes any reply, compressed exactly as
// miekg/dns packs the same records (RRs): the fast path sends the bytes,
// the general path the records.
type Answer struct {
	ans, extra []rec
	seen       map[uint64]int32 // ans by hash, once they come from more than one set
	sets       int
	max        int // answer records
	room, size int // bytes: the reply's room, and what the records take at most (uncompressed)
	full       bool
	scratch    []byte     // names being decoded
	comp       compressor // kept with the Answer for its map
}

var answerPool = sync.Pool{New: func() any { return new(Answer) }}

// NewAnswer returns an Answer holding at most max answer records, and no
// more than room bytes of records would take uncompressed: a reply cannot
// carry more (the compressed records may fit more; an Answer is full
// before). Release it when done with it.
func NewAnswer(max, room int) *Answer {
	a := answerPool.Get().(*Answer)
	a.max, a.room = max, room
	return a
}

// Release hands a's memory back for another Answer; a must not be used
// afterwards.
func (a *Answer) Release() {
	clear(a.ans)
	clear(a.extra)
	clear(a.seen)
	*a = Answer{ans: a.ans[:0], extra: a.extra[:0], seen: a.seen, scratch: a.scratch[:0], comp: compressor{index: a.comp.index}}
	clear(a.comp.index)
	answerPool.Put(a)
}

var answerSeed = maphash.MakeSeed()

// hash tells records of one answer apart (their owners are all the question).
func (r *rec) hash() uint64 {
	var h maphash.Hash
	h.SetSeed(answerSeed)
	var b [24]byte
	binary.BigEndian.PutUint16(b[0:], r.typ)
	binary.BigEndian.PutUint16(b[2:], r.port)
	binary.BigEndian.PutUint16(b[4:], r.weight)
	a := r.ip.As16()
	copy(b[6:], a[:])
	h.Write(b[:22])
	h.WriteString(r.target)
	return h.Sum64()
}

// dup reports whether r is in the answer already, and remembers it.
func (a *Answer) dup(r *rec) bool {
	h := r.hash()
	if i, ok := a.seen[h]; ok && a.ans[i] == *r {
		return true
	} else if !ok {
		a.seen[h] = int32(len(a.ans))
	}
	return false
}

// Full reports whether records were left out because the answer holds max.
func (a *Answer) Full() bool { return a.full }

// SetFull marks the answer as holding less than what matches.
func (a *Answer) SetFull() { a.full = true }

// Len returns the number of answer records.
func (a *Answer) Len() int { return len(a.ans) }

// Add adds the records of set, which is at owner (the node's name), and its
// additional records; it reports false once the answer is full. A record
// that is already in the answer is not added again.
func (a *Answer) Add(owner string, set *RRSet) bool {
	if a.full {
		return false
	}
	a.sets++
	if a.sets == 2 { // records of one set are distinct; of several, maybe not
		if a.seen == nil {
			a.seen = make(map[uint64]int32, 2*len(a.ans))
		}
		for i := range a.ans {
			if a.ans[i].mayRepeat() {
				a.seen[a.ans[i].hash()] = int32(i)
			}
		}
	}
	d := setDecoder{set: set, owner: owner, origin: headerLen + len(owner) + 1 + 4, scratch: &a.scratch}
	off := 0
	for range set.An {
		r, end, ok := d.record(off, true)
		off = end
		if !ok {
			continue
		}
		if a.sets > 1 && r.mayRepeat() && a.dup(&r) {
			continue
		}
		if a.size += r.size(true); len(a.ans) == a.max || a.size > a.room {
			a.full = true
			return false
		}
		a.ans = append(a.ans, r)
	}
	for range set.Ar {
		r, end, ok := d.record(off, false)
		off = end
		if ok {
			a.size += r.size(false)
			a.extra = append(a.extra, r)
		}
	}
	return true
}

// mayRepeat reports whether a record like r can come from several names:
// an address (an endpoint of two Services), a CNAME target; not an SRV
// record, whose target is its own Service's.
func (r *rec) mayRepeat() bool { return r.typ != dns.TypeSRV }

// size returns how many bytes r takes at most: uncompressed.
func (r *rec) size(answer bool) int {
	n := 2 + 10 // a pointer to the question, type, class, TTL, length
	if !answer {
		n += len(r.name) + 1 - 2
	}
	switch r.typ {
	case dns.TypeA:
		return n + 4
	case dns.TypeAAAA:
		return n + 16
	case dns.TypeSRV:
		return n + 6 + len(r.target) + 1
	}
	return n + len(r.target) + 1
}

// AppendTo appends the records to reply, which ends with the question: q is
// its name in lower case, whose upper-case letters as sent all come before
// qFrom. It appends what fits in room bytes, cut where Msg.Truncate cuts
// (answers while they fit, then additional records while they fit), and
// returns the reply, how many answer and additional records it holds, and
// whether any were cut.
func (a *Answer) AppendTo(reply, q []byte, qFrom, room int, ttl uint32) (out []byte, an, ar int, cut bool) {
	c := &a.comp
	c.reset(qFrom, 0)
	limit := len(reply) + room
	for i := range a.ans {
		next, ok := c.appendRecord(reply, q, &a.ans[i], ttl, true)
		if !ok {
			continue
		}
		if len(next) > limit {
			return reply, an, 0, true
		}
		reply, an = next, an+1
	}
	for i := range a.extra {
		next, ok := c.appendRecord(reply, q, &a.extra[i], ttl, false)
		if !ok {
			continue
		}
		if len(next) > limit {
			return reply, an, ar, true
		}
		reply, ar = next, ar+1
	}
	return reply, an, ar, false
}

// RRs returns the records as miekg/dns records, the answers owned by qname.
func (a *Answer) RRs(qname string, ttl uint32) (ans, extra []dns.RR) {
	for i := range a.ans {
		if rr := a.ans[i].rr(qname, ttl); rr != nil {
			ans = append(ans, rr)
		}
	}
	for i := range a.extra {
		if rr := a.extra[i].rr(a.extra[i].name, ttl); rr != nil {
			extra = append(extra, rr)
		}
	}
	return ans, extra
}

// rr returns r as a miekg/dns record owned by owner.
func (r *rec) rr(owner string, ttl uint32) dns.RR {
	hdr := dns.RR_Header{Name: owner, Rrtype: r.typ, Class: dns.ClassINET, Ttl: ttl}
	switch r.typ {
	case dns.TypeA:
		return &dns.A{Hdr: hdr, A: r.ip.AsSlice()}
	case dns.TypeAAAA:
		return &dns.AAAA{Hdr: hdr, AAAA: r.ip.AsSlice()}
	case dns.TypeSRV:
		return &dns.SRV{Hdr: hdr, Weight: r.weight, Port: r.port, Target: r.target}
	case dns.TypeCNAME:
		return &dns.CNAME{Hdr: hdr, Target: r.target}
	case dns.TypePTR:
		return &dns.PTR{Hdr: hdr, Ptr: r.target}
	case dns.TypeNS:
		return &dns.NS{Hdr: hdr, Ns: r.target}
	}
	return nil
}

// setDecoder reads the records of one set back: its names point into the
// question (the set's owner, right after the header) or into the set.
type setDecoder struct {
	set     *RRSet
	owner   string
	origin  int     // the message offset of the set's first byte
	scratch *[]byte // where names are spelled out
}

// record decodes the record at off: an answer (owner the question) or an
// additional record; it returns where the record ends, and false for a
// type records are not made of.
func (d *setDecoder) record(off int, answer bool) (r rec, end int, ok bool) {
	w := d.set.Wire
	if answer {
		r.name = d.owner
		off += 2
	} else {
		var n int
		if r.name, n, ok = d.name(off); !ok {
			return r, RecordEnd(w, off), false
		}
		off += n
	}
	r.typ = binary.BigEndian.Uint16(w[off:])
	rdata := off + 10
	end = rdata + int(binary.BigEndian.Uint16(w[off+8:]))
	switch r.typ {
	case dns.TypeA, dns.TypeAAAA:
		r.ip, ok = netip.AddrFromSlice(w[rdata:end])
	case dns.TypeSRV:
		r.weight = binary.BigEndian.Uint16(w[rdata+2:])
		r.port = binary.BigEndian.Uint16(w[rdata+4:])
		r.target, _, ok = d.name(rdata + 6)
	case dns.TypeCNAME, dns.TypePTR, dns.TypeNS:
		r.target, _, ok = d.name(rdata)
	default:
		ok = false // TXT, SOA: not below svc.<domain>, where wildcards read
	}
	return r, end, ok
}

// name decodes the name at at in the set's wire, following pointers into
// the question or the set; it returns the name and how many bytes it takes
// at at. A name that ends the owner's (SRV targets and their address
// records' owners, often) is a slice of it, not a new string.
func (d *setDecoder) name(at int) (string, int, bool) {
	w := d.set.Wire
	b := (*d.scratch)[:0]
	defer func() { *d.scratch = b[:0] }()
	off, size := at, -1
	for range 128 { // labels and pointers: a loop of pointers ends here
		if off < 0 || off >= len(w) {
			return "", 0, false
		}
		l := int(w[off])
		switch {
		case l == 0:
			if size < 0 {
				size = off + 1 - at
			}
			return d.intern(b), size, true
		case l&0xc0 == 0xc0:
			if off+1 >= len(w) {
				return "", 0, false
			}
			p := (l&0x3f)<<8 | int(w[off+1])
			if size < 0 {
				size = off + 2 - at
			}
			if p < d.origin { // into the question: a suffix of the owner
				i := p - headerLen
				if i < 0 || i >= len(d.owner) {
					return "", 0, false
				}
				b = append(b, d.owner[i:]...)
				return d.intern(b), size, true
			}
			off = p - d.origin
		default:
			if off+1+l > len(w) {
				return "", 0, false
			}
			b = append(append(b, w[off+1:off+1+l]...), '.')
			off += 1 + l
		}
	}
	return "", 0, false
}

// intern returns the name spelled in b: the end of the owner when it is one.
func (d *setDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return "."
	}
	if i := len(d.owner) - len(b); i >= 0 && d.owner[i:] == string(b) && (i == 0 || d.owner[i-1] == '.') {
		return d.owner[i:]
	}
	return string(b)
}
