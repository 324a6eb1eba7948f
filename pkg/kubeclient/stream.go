package kubeclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// A list of the slim kinds is decoded from the response body as it arrives,
// one item at a time, instead of from the whole body read into memory: at
// 10,000 Services the body is ~6 MB, and every fresh page costs a page fault
// on the way to the first answer. Only the items' slim objects and one
// buffer the size of the largest item that does not fit the read buffer are
// allocated.
//
// The result is the one decodeBody gives for the same bytes, with two
// exceptions that no API server produces: a field of the list (ListMeta, an
// item) or a typeMeta after it over maxStreamField bytes is an error, and so
// is an envelope that carries raw again, or a typeMeta naming another kind,
// after the list (errEnvelopeRepeats): the stream has decoded the first list
// (or failed on it) by then, where decodeBody takes the last.

const (
	// streamBufSize is the size of the read buffer. The envelope up to the
	// raw field's length (magic, typeMeta, ...) must fit in it for the list
	// to be streamed; items that fit are decoded in place.
	streamBufSize = 64 << 10
	// maxStreamField bounds the ListMeta and each item of a streamed list.
	maxStreamField = 64 << 20
)

var (
	errEnvelopeRepeats = errors.New("kubeclient: protobuf envelope repeats raw, or names another kind, after the list")
	errFieldTooLarge   = fmt.Errorf("kubeclient: protobuf field over %d bytes in a streamed list", maxStreamField)
)

// decodeStream decodes a response body: a protobuf list of a slim kind
// straight from body, anything else by reading the whole body and passing it
// to decodeBody.
func decodeStream(body io.Reader) (runtime.Object, error) { return decodeStreamKnown(body, nil) }

// decodeStreamKnown is decodeStream taking the objects known gives rather
// than making them again (see Known).
func decodeStreamKnown(body io.Reader, known Known) (runtime.Object, error) {
	br := bufio.NewReaderSize(body, streamBufSize)
	window, err := br.Peek(streamBufSize)
	if err != nil && err != io.EOF {
		return nil, err
	}
	h, ok := streamHeader(window)
	if !ok {
		// Nothing is consumed yet: readAll sees the whole body.
		data, err := readAll(br)
		if err != nil {
			return nil, err
		}
		return decodeBody(data)
	}
	if _, err := br.Discard(h.size); err != nil { // within window: cannot fail
		return nil, err
	}
	obj, err := decodeListStream(h.kind, &stream{r: br, left: h.rawLen}, known)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: decoding %s: %w", kindGVK[h.kind].Kind, err)
	}
	if err := envelopeTail(&stream{r: br, untilEOF: true}, h); err != nil {
		return nil, fmt.Errorf("kubeclient: protobuf envelope after %s: %w", kindGVK[h.kind].Kind, err)
	}
	return obj, nil
}

// header is the start of a body whose list is streamed.
type header struct {
	kind             kind
	apiVersion, name string // typeMeta's apiVersion and kind
	size             int    // bytes up to the raw field's payload
	rawLen           int64  // length of the raw field
}

// streamHeader parses, from window, the start of a body up to the payload of
// the envelope's raw field, the way parseEnvelope does. It reports false
// (decode the whole body) unless the body is protobuf, everything before the
// raw field is well formed and in window, and typeMeta, read before it,
// names a slim list kind.
func streamHeader(window []byte) (header, bool) {
	if !hasMagic(window) {
		return header{}, false
	}
	var env envelope
	p := fields{buf: buf{b: window[len(protobufMagic):]}}
	for p.next() {
		switch p.num {
		case 1: // typeMeta
			if m, ok := p.bytesField(); ok {
				p.err = parseTypeMeta(m, &env)
			}
		case 2: // raw
			if p.typ != protowire.BytesType {
				return header{}, false
			}
			n, err := p.varint()
			if err != nil || n > math.MaxInt64 {
				return header{}, false
			}
			gvk := env.gvk(nil, kindNone)
			k := slimKind(gvk)
			if !isList(k) {
				return header{}, false
			}
			return header{
				kind:       k,
				apiVersion: string(env.apiVersion),
				name:       string(env.kind),
				size:       len(protobufMagic) + p.i,
				rawLen:     int64(n),
			}, true
		case 3, 4: // contentEncoding, contentType
			p.bytesField()
		}
	}
	return header{}, false
}

func isList(k kind) bool {
	switch k {
	case kindServiceList, kindEndpointSliceList, kindEndpointsList, kindNamespaceList, kindPodList:
		return true
	}
	return false
}

// envelopeTail reads the rest of the envelope after the list: contentEncoding
// and contentType are ignored, unknown fields skipped; a typeMeta must not
// change the kind and raw must not come again.
func envelopeTail(s *stream, h header) error {
	apiVersion, name := h.apiVersion, h.name
	for {
		more, err := s.more()
		if err != nil || !more {
			return err
		}
		v, num, typ, err := s.key()
		if err != nil {
			return err
		}
		if num > 4 {
			if err := s.skip(v); err != nil {
				return err
			}
			continue
		}
		if typ != protowire.BytesType {
			return wireTypeError(num, typ)
		}
		switch num {
		case 1:
			m, err := s.field()
			if err != nil {
				return err
			}
			var env envelope
			if err := parseTypeMeta(m, &env); err != nil {
				return err
			}
			if env.apiVersion != nil {
				apiVersion = string(env.apiVersion)
			}
			if env.kind != nil {
				name = string(env.kind)
			}
			if slimKind(schema.FromAPIVersionAndKind(apiVersion, name)) != h.kind {
				return errEnvelopeRepeats
			}
		case 2:
			return errEnvelopeRepeats
		default: // 3, 4
			n, err := s.varint()
			if err != nil {
				return err
			}
			if err := s.discard(n); err != nil {
				return err
			}
		}
	}
}

// decodeListStream decodes a list of kind k from s.
func decodeListStream(k kind, s *stream, known Known) (runtime.Object, error) {
	d := decoder{known: known}
	l, ok := newList(k, nil)
	if !ok {
		return nil, fmt.Errorf("kubeclient: no streaming decoder for kind %d", k)
	}
	return l.obj, streamList(&d, s, l)
}

// streamList is decodeList reading from a stream.
func streamList(d *decoder, s *stream, l listDec) error {
	for {
		more, err := s.more()
		if err != nil || !more {
			return err
		}
		v, num, typ, err := s.key()
		if err != nil {
			return err
		}
		if num != 1 && num != 2 {
			if err := s.skip(v); err != nil {
				return err
			}
			continue
		}
		if typ != protowire.BytesType {
			return wireTypeError(num, typ)
		}
		m, err := s.field()
		if err != nil {
			return err
		}
		if num == 1 {
			err = listMeta(m, l.meta)
		} else {
			err = l.add(d, m)
		}
		if err != nil {
			return err
		}
	}
}

// stream reads the fields of one protobuf message from a bufio.Reader with
// the rules of buf (wire.go), never past the message's end.
type stream struct {
	r *bufio.Reader
	// left is how many bytes of the message are not read yet, unless
	// untilEOF: then the message runs to the end of the body.
	left     int64
	untilEOF bool
	// pending is how many bytes of the last field returned still sit in r's
	// buffer; they are discarded before the next read.
	pending int
	// scratch holds a field too long for r's buffer.
	scratch []byte
}

// more reports whether the message has another field.
func (s *stream) more() (bool, error) {
	if s.pending > 0 {
		n := s.pending
		s.pending = 0
		if _, err := s.r.Discard(n); err != nil { // peeked: cannot fail
			return false, err
		}
	}
	if !s.untilEOF {
		return s.left > 0, nil
	}
	switch _, err := s.r.Peek(1); err {
	case nil:
		return true, nil
	case io.EOF:
		return false, nil
	default:
		return false, err
	}
}

// take accounts for n bytes of the message about to be read.
func (s *stream) take(n uint64) error {
	if s.untilEOF {
		return nil
	}
	if n > uint64(s.left) {
		return io.ErrUnexpectedEOF
	}
	s.left -= int64(n)
	return nil
}

func (s *stream) varint() (uint64, error) {
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if shift >= 64 {
			return 0, errOverflow
		}
		if err := s.take(1); err != nil {
			return 0, err
		}
		c, err := s.r.ReadByte()
		if err != nil {
			return 0, unexpectedEOF(err)
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, nil
		}
	}
}

// key reads a field key as buf.key does, and returns it whole for skip too.
func (s *stream) key() (uint64, protowire.Number, protowire.Type, error) {
	v, err := s.varint()
	if err != nil {
		return 0, 0, 0, err
	}
	num, typ := int32(v>>3), protowire.Type(v&7)
	if typ == protowire.EndGroupType {
		return 0, 0, 0, errEndGroup
	}
	if num <= 0 {
		return 0, 0, 0, errFieldZero
	}
	return v, protowire.Number(num), typ, nil
}

// field reads a length and returns that many bytes, valid until the next
// call on s.
func (s *stream) field() ([]byte, error) {
	v, err := s.varint()
	if err != nil {
		return nil, err
	}
	if v > math.MaxInt64 {
		return nil, errLength
	}
	if err := s.take(v); err != nil {
		return nil, err
	}
	if v > maxStreamField {
		return nil, errFieldTooLarge
	}
	n := int(v)
	if n <= s.r.Size() {
		b, err := s.r.Peek(n)
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		s.pending = n
		return b, nil
	}
	// Grow scratch as the bytes arrive, not to the length the stream
	// claims: a short body must not cost maxStreamField of memory.
	b := s.scratch[:0]
	for len(b) < n {
		if len(b) == cap(b) {
			b = slices.Grow(b, min(n-len(b), max(len(b), s.r.Size())))
		}
		end := min(n, cap(b))
		_, err := io.ReadFull(s.r, b[len(b):end])
		s.scratch = b[:0]
		if err != nil {
			return nil, unexpectedEOF(err)
		}
		b = b[:end]
	}
	return b, nil
}

// discard moves past n bytes of the message.
func (s *stream) discard(n uint64) error {
	if n > math.MaxInt {
		return errLength
	}
	if err := s.take(n); err != nil {
		return err
	}
	_, err := s.r.Discard(int(n))
	return unexpectedEOF(err)
}

// skip moves past the field whose key v has been read, as skipField does.
func (s *stream) skip(v uint64) error {
	depth := 0
	for {
		var err error
		switch protowire.Type(v & 7) {
		case protowire.VarintType:
			_, err = s.varint()
		case protowire.Fixed64Type:
			err = s.discard(8)
		case protowire.BytesType:
			var n uint64
			if n, err = s.varint(); err == nil {
				err = s.discard(n)
			}
		case protowire.StartGroupType:
			depth++
		case protowire.EndGroupType:
			if depth == 0 {
				return errEndGroup
			}
			depth--
		case protowire.Fixed32Type:
			err = s.discard(4)
		default:
			return errWireType
		}
		if err != nil {
			return err
		}
		if depth == 0 {
			return nil
		}
		more, err := s.more()
		if err != nil {
			return err
		}
		if !more {
			return io.ErrUnexpectedEOF
		}
		if v, err = s.varint(); err != nil {
			return err
		}
	}
}

// unexpectedEOF turns the end of the body inside a message into an error.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
