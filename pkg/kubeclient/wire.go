package kubeclient

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// The readers below take apart the envelope and the lists around the objects
// (which k8s.io/api's generated code decodes). They follow the rules of
// those gogo-generated Unmarshal methods rather than protowire's stricter
// Consume functions: a varint may run to ten bytes with the excess bits of
// the last one dropped, a field number is the low 32 bits of the key, and
// groups skip without matching their end number. So every message the API
// machinery accepts is accepted here, with the same meaning.

var (
	errOverflow  = errors.New("kubeclient: protobuf varint overflows 64 bits")
	errLength    = errors.New("kubeclient: negative protobuf length")
	errEndGroup  = errors.New("kubeclient: protobuf end group outside a group")
	errFieldZero = errors.New("kubeclient: protobuf field number is not positive")
	errWireType  = errors.New("kubeclient: illegal protobuf wire type")
)

// buf reads the fields of one protobuf message.
type buf struct {
	b []byte
	i int
}

func (p *buf) more() bool { return p.i < len(p.b) }

func (p *buf) varint() (uint64, error) {
	if p.i < len(p.b) && p.b[p.i] < 0x80 {
		v := uint64(p.b[p.i])
		p.i++
		return v, nil
	}
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, errOverflow
		}
		if p.i >= len(p.b) {
			return 0, io.ErrUnexpectedEOF
		}
		c := p.b[p.i]
		p.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
}

// key reads a field key of a message (not of a map entry).
func (p *buf) key() (protowire.Number, protowire.Type, error) {
	v, err := p.varint()
	if err != nil {
		return 0, 0, err
	}
	return splitKey(v)
}

// splitKey splits a field key into its number and wire type.
func splitKey(v uint64) (protowire.Number, protowire.Type, error) {
	num, typ := int32(v>>3), protowire.Type(v&7)
	if typ == protowire.EndGroupType {
		return 0, 0, errEndGroup
	}
	if num <= 0 {
		return 0, 0, errFieldZero
	}
	return protowire.Number(num), typ, nil
}

// bytes reads a length and that many bytes.
func (p *buf) bytes() ([]byte, error) {
	v, err := p.varint()
	if err != nil {
		return nil, err
	}
	n := int(v)
	if n < 0 {
		return nil, errLength
	}
	end := p.i + n
	if end < 0 {
		return nil, errLength
	}
	if end > len(p.b) {
		return nil, io.ErrUnexpectedEOF
	}
	b := p.b[p.i:end:end]
	p.i = end
	return b, nil
}

// fields reads the fields of a message for a decoder, whose loop is
//
//	p := fields{buf: buf{b: b}}
//	for p.next() {
//		switch p.num {
//		case 1:
//			if m, ok := p.bytesField(); ok {
//				x.Name = string(m) // or p.err = decodeSub(m, ...)
//			}
//		...
//		}
//	}
//	return p.err
//
// A field that the loop body does not read is skipped by the next call to
// next, the way skip does, and the first error ends the loop and stays in
// err. (A loop rather than a callback per field: calling a func value for
// every field made decoding a list of Services 12-17% slower.)
type fields struct {
	buf
	num protowire.Number // the current field's number and wire type
	typ protowire.Type
	// start and val are where the current field's key and value start:
	// p.i == val after the loop body means that the field was not read.
	start, val int
	err        error
}

// next moves to the next field, skipping the current one if it was not read.
// It reports false at the end of the message or on an error.
func (p *fields) next() bool {
	if p.err != nil {
		return false
	}
	if p.i == p.val && p.i > p.start {
		if err := p.skip(p.start); err != nil {
			p.err = err
			return false
		}
	}
	if p.i >= len(p.b) {
		return false
	}
	// p.key, with varint's one-byte case inline
	p.start = p.i
	var v uint64
	if c := p.b[p.i]; c < 0x80 {
		v = uint64(c)
		p.i++
	} else {
		var err error
		if v, err = p.varint(); err != nil {
			p.err = err
			return false
		}
	}
	num, typ, err := splitKey(v)
	if err != nil {
		p.err = err
		return false
	}
	p.num, p.typ, p.val = num, typ, p.i
	return true
}

// bytesField reads the payload of the current field, which must be
// length-delimited (a string, bytes or a message). It reports false on an
// error, which it keeps in err.
func (p *fields) bytesField() ([]byte, bool) {
	if p.typ != protowire.BytesType {
		p.err = wireTypeError(p.num, p.typ)
		return nil, false
	}
	m, err := p.bytes()
	if err != nil {
		p.err = err
		return nil, false
	}
	return m, true
}

// skip moves past the field whose key starts at start.
func (p *buf) skip(start int) error {
	n, err := skipField(p.b[start:])
	if err != nil {
		return err
	}
	end := start + n
	if n < 0 || end < 0 {
		return errLength
	}
	if end > len(p.b) {
		return io.ErrUnexpectedEOF
	}
	p.i = end
	return nil
}

// skipField returns the length of the field, key included, at the start of b.
func skipField(b []byte) (int, error) {
	p := buf{b: b}
	depth := 0
	for p.more() {
		v, err := p.varint()
		if err != nil {
			return 0, err
		}
		switch protowire.Type(v & 7) {
		case protowire.VarintType:
			if _, err := p.varint(); err != nil {
				return 0, err
			}
		case protowire.Fixed64Type:
			p.i += 8
		case protowire.BytesType:
			l, err := p.varint()
			if err != nil {
				return 0, err
			}
			if int(l) < 0 {
				return 0, errLength
			}
			p.i += int(l)
		case protowire.StartGroupType:
			depth++
		case protowire.EndGroupType:
			if depth == 0 {
				return 0, errEndGroup
			}
			depth--
		case protowire.Fixed32Type:
			p.i += 4
		default:
			return 0, errWireType
		}
		if p.i < 0 {
			return 0, errLength
		}
		if depth == 0 {
			return p.i, nil
		}
	}
	return 0, io.ErrUnexpectedEOF
}

// count returns how many times field num occurs in message b, stopping
// quietly at the first malformed field (decoding reports it).
func count(b []byte, num protowire.Number) int {
	p := buf{b: b}
	n := 0
	for p.more() {
		start := p.i
		f, _, err := p.key()
		if err != nil || p.skip(start) != nil {
			return n
		}
		if f == num {
			n++
		}
	}
	return n
}

func wireTypeError(num protowire.Number, typ protowire.Type) error {
	return fmt.Errorf("kubeclient: protobuf field %d has wrong wire type %d", num, typ)
}
