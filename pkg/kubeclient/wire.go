package kubeclient

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// The readers below follow the rules of the gogo-generated Unmarshal methods
// in k8s.io/api rather than protowire's stricter Consume functions: a varint
// may run to ten bytes with the excess bits of the last one dropped, a field
// number is the low 32 bits of the key, groups skip without matching their end
// number, and map entries read keys and values whatever their wire type. So
// every message the API machinery accepts is accepted here, with the same
// meaning.

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

// field reads the payload of a length-delimited field (string, bytes or message).
func (p *buf) field(num protowire.Number, typ protowire.Type) ([]byte, error) {
	if typ != protowire.BytesType {
		return nil, wireTypeError(num, typ)
	}
	return p.bytes()
}

// uint reads a varint field.
func (p *buf) uint(num protowire.Number, typ protowire.Type) (uint64, error) {
	if typ != protowire.VarintType {
		return 0, wireTypeError(num, typ)
	}
	return p.varint()
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

// mapEntry reads one map<string,string> entry the way the generated decoders
// do: the key and value are bounded by the enclosing message, not the entry.
func (p *buf) mapEntry(num protowire.Number, typ protowire.Type) (key, value []byte, err error) {
	if typ != protowire.BytesType {
		return nil, nil, wireTypeError(num, typ)
	}
	v, err := p.varint()
	if err != nil {
		return nil, nil, err
	}
	n := int(v)
	if n < 0 {
		return nil, nil, errLength
	}
	end := p.i + n
	if end < 0 {
		return nil, nil, errLength
	}
	if end > len(p.b) {
		return nil, nil, io.ErrUnexpectedEOF
	}
	for p.i < end {
		start := p.i
		k, err := p.varint()
		if err != nil {
			return nil, nil, err
		}
		switch int32(k >> 3) {
		case 1:
			key, err = p.bytes()
		case 2:
			value, err = p.bytes()
		default:
			var n int
			n, err = skipField(p.b[start:])
			if err == nil {
				switch {
				case n < 0 || start+n < 0:
					err = errLength
				case start+n > end:
					err = io.ErrUnexpectedEOF
				}
				p.i = start + n
			}
		}
		if err != nil {
			return nil, nil, err
		}
	}
	p.i = end
	return key, value, nil
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
