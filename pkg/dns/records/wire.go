package records

import "github.com/miekg/dns"

// questionPointer is a compression pointer to the question name, which starts
// right after the 12-byte header of every reply.
var questionPointer = [2]byte{0xc0, 12}

// encoder packs records into wire form with a reusable scratch buffer.
type encoder struct{ scratch, out []byte }

// encodeSet fills set.Wire: the records of the set as an answer section whose
// owner names point at the question, then the additional records in full. A
// reply is then the request's header and question, patched, plus these bytes.
// When a record cannot be encoded, Wire stays nil and the set is only
// answered through the general path.
func (e *encoder) encodeSet(set *RRSet) {
	e.out = e.out[:0]
	for _, rr := range set.RRs {
		b := e.pack(rr)
		if b == nil {
			return
		}
		e.out = append(append(e.out, questionPointer[:]...), b[nameLen(b):]...)
	}
	for _, rr := range set.Extra {
		b := e.pack(rr)
		if b == nil {
			return
		}
		e.out = append(e.out, b...)
	}
	set.Wire = append([]byte(nil), e.out...)
}

// encodeRR returns one record in wire form, names uncompressed, or nil.
func (e *encoder) encodeRR(rr dns.RR) []byte {
	if b := e.pack(rr); b != nil {
		return append([]byte(nil), b...)
	}
	return nil
}

// pack encodes rr into the scratch buffer, names uncompressed; nil when it
// cannot be encoded. The result is valid until the next call.
func (e *encoder) pack(rr dns.RR) []byte {
	if len(e.scratch) < 512 {
		e.scratch = make([]byte, 512)
	}
	for {
		n, err := dns.PackRR(rr, e.scratch, 0, nil, false)
		if err == nil {
			return e.scratch[:n]
		}
		if len(e.scratch) >= 1<<16 {
			return nil
		}
		e.scratch = make([]byte, 2*len(e.scratch))
	}
}

// nameLen returns the length of the uncompressed name at the start of b.
func nameLen(b []byte) int {
	i := 0
	for i < len(b) && b[i] != 0 {
		i += int(b[i]) + 1
	}
	return i + 1
}
