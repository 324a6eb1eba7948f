package kubeclient

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"google.golang.org/protobuf/encoding/protowire"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

var listKinds = []string{"ServiceList", "EndpointSliceList", "EndpointsList", "NamespaceList", "PodList"}

// readers are the ways a body arrives: at once, a byte at a time, in short
// reads, and with io.EOF on the last data.
var readers = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{name: "whole", wrap: func(r io.Reader) io.Reader { return r }},
	{name: "one byte", wrap: iotest.OneByteReader},
	{name: "half", wrap: iotest.HalfReader},
	{name: "data err", wrap: iotest.DataErrReader},
}

// bigList returns a random list of kind with n items.
func bigList(g *gen, kind string, n int) k8sruntime.Object {
	item := strings.TrimSuffix(kind, "List")
	lm := g.listMeta()
	switch kind {
	case "ServiceList":
		l := &corev1.ServiceList{ListMeta: lm}
		for range n {
			l.Items = append(l.Items, *g.object(item).(*corev1.Service))
		}
		return l
	case "EndpointSliceList":
		l := &discoveryv1.EndpointSliceList{ListMeta: lm}
		for range n {
			l.Items = append(l.Items, *g.object(item).(*discoveryv1.EndpointSlice))
		}
		return l
	case "EndpointsList":
		l := &corev1.EndpointsList{ListMeta: lm} //nolint:staticcheck // core/v1 Endpoints is one of the decoded kinds.
		for range n {
			l.Items = append(l.Items, *g.object(item).(*corev1.Endpoints)) //nolint:staticcheck // as above
		}
		return l
	case "NamespaceList":
		l := &corev1.NamespaceList{ListMeta: lm}
		for range n {
			l.Items = append(l.Items, *g.object(item).(*corev1.Namespace))
		}
		return l
	case "PodList":
		l := &corev1.PodList{ListMeta: lm}
		for range n {
			l.Items = append(l.Items, *g.object(item).(*corev1.Pod))
		}
		return l
	}
	panic("unknown list kind " + kind)
}

// checkSame decodes data with decodeStream, through wrap, and with
// decodeBody, and requires the same error or no error and the same object.
func checkSame(t *testing.T, data []byte, wrap func(io.Reader) io.Reader) (k8sruntime.Object, error) {
	t.Helper()
	want, wantErr := decodeBody(bytes.Clone(data))
	got, err := decodeStream(wrap(bytes.NewReader(data)))
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("streamed: %v; buffered: %v", err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("streamed\n%#v\nbuffered\n%#v", got, want)
	}
	return got, err
}

// window is what decodeStream peeks at first.
func window(data []byte) []byte { return data[:min(len(data), streamBufSize)] }

// TestStreamMatchesBuffered decodes random lists of every slim list kind,
// small and much larger than the read buffer, as they arrive in various
// reads, and requires exactly what the buffered decoder gives.
func TestStreamMatchesBuffered(t *testing.T) {
	for _, kind := range listKinds {
		t.Run(kind, func(t *testing.T) {
			g := newGen(uint64(len(kind)) + 1000)
			var bodies [][]byte
			for range 40 {
				bodies = append(bodies, encode(t, k8sruntime.ContentTypeProtobuf, g.object(kind)))
			}
			for _, n := range []int{0, 1, 400} {
				bodies = append(bodies, encode(t, k8sruntime.ContentTypeProtobuf, bigList(g, kind, n)))
			}
			for i, data := range bodies {
				if h, ok := streamHeader(window(data)); !ok || kindGVK[h.kind].Kind != kind {
					t.Fatalf("body %d is not streamed as a %s: %+v", i, kind, h)
				}
				for _, r := range readers {
					got, err := checkSame(t, data, r.wrap)
					if err != nil {
						t.Fatalf("body %d, %s reads: %v", i, r.name, err)
					}
					if reflect.TypeOf(got).Elem().Name() != kind {
						t.Fatalf("body %d: got a %T", i, got)
					}
				}
			}
		})
	}
}

// TestStreamLargeItems covers items larger than the read buffer, decoded
// from the reused scratch buffer, next to small ones decoded in place.
func TestStreamLargeItems(t *testing.T) {
	g := newGen(42)
	huge := func(n int) *corev1.Service {
		s := g.service()
		s.Annotations = map[string]string{"example.com/blob": strings.Repeat("x", n)}
		return s
	}
	l := &corev1.ServiceList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}}
	for _, s := range []*corev1.Service{g.service(), huge(streamBufSize), g.service(), huge(3 * streamBufSize), huge(streamBufSize + 10), g.service()} {
		l.Items = append(l.Items, *s)
	}
	e := g.endpointSlice()
	for i := range 3000 {
		e.Endpoints = append(e.Endpoints, discoveryv1.Endpoint{Addresses: []string{g.ipv4()}, Hostname: ptr("pod-" + string(rune('a'+i%26)))})
	}
	el := &discoveryv1.EndpointSliceList{Items: []discoveryv1.EndpointSlice{*e, *g.endpointSlice()}}
	for _, obj := range []k8sruntime.Object{l, el} {
		data := encode(t, k8sruntime.ContentTypeProtobuf, obj)
		want, _ := Slim(obj)
		for _, r := range readers {
			got, err := checkSame(t, data, r.wrap)
			if err != nil {
				t.Fatalf("%T, %s reads: %v", obj, r.name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%T, %s reads: not Slim of the original", obj, r.name)
			}
		}
	}
}

// TestStreamTruncated cuts list bodies short at many offsets: streaming must
// fail where the buffered decoder fails, with io.ErrUnexpectedEOF inside the
// list, and never panic. (Cut before raw or after it, the envelope is
// whole: an empty list, or one without contentType.)
func TestStreamTruncated(t *testing.T) {
	for _, kind := range listKinds {
		t.Run(kind, func(t *testing.T) {
			g := newGen(uint64(len(kind)) + 2000)
			small := encode(t, k8sruntime.ContentTypeProtobuf, bigList(g, kind, 5))
			big := encode(t, k8sruntime.ContentTypeProtobuf, bigList(g, kind, 300))
			for _, data := range [][]byte{small, big} {
				h, ok := streamHeader(window(data))
				if !ok {
					t.Fatal("not streamed")
				}
				rawEnd := h.size + int(h.rawLen)
				var cuts []int
				for cut := 0; cut < len(data); cut++ {
					if len(data) < 20000 || cut%331 == 0 || cut < 64 || cut > len(data)-64 ||
						(cut > streamBufSize-64 && cut < streamBufSize+64) || (cut > rawEnd-64 && cut < rawEnd+64) {
						cuts = append(cuts, cut)
					}
				}
				for _, cut := range cuts {
					_, err := checkSame(t, data[:cut], readers[cut%len(readers)].wrap)
					inList := cut >= h.size && cut < rawEnd
					if inList && !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Fatalf("cut at %d of %d (list %d..%d): %v, want io.ErrUnexpectedEOF", cut, len(data), h.size, rawEnd, err)
					}
				}
			}
		})
	}
}

// rawOf returns the raw field of a protobuf body's envelope.
func rawOf(t testing.TB, data []byte) []byte {
	t.Helper()
	env, err := parseEnvelope(data[len(protobufMagic):])
	if err != nil {
		t.Fatal(err)
	}
	return env.raw
}

func typeMeta(apiVersion, kind string) []byte {
	return msg(1, cat(msg(1, []byte(apiVersion)), msg(2, []byte(kind))))
}

func body(fields ...[]byte) []byte { return cat(append([][]byte{protobufMagic}, fields...)...) }

// TestStreamFallback checks the bodies that are not streamed: they are read
// whole and decoded as before.
func TestStreamFallback(t *testing.T) {
	g := newGen(77)
	svcList := g.object("ServiceList").(*corev1.ServiceList)
	for len(svcList.Items) == 0 {
		svcList = g.object("ServiceList").(*corev1.ServiceList)
	}
	raw := rawOf(t, encode(t, k8sruntime.ContentTypeProtobuf, svcList))
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{name: "typeMeta after raw", data: body(msg(2, raw), typeMeta("v1", "ServiceList"), msg(3, nil), msg(4, nil))},
		{name: "no typeMeta", data: body(msg(2, raw)), wantErr: true},
		{name: "not a list", data: encode(t, k8sruntime.ContentTypeProtobuf, g.service())},
		{name: "json list", data: encode(t, k8sruntime.ContentTypeJSON, svcList)},
		{name: "json list of pods", data: encode(t, k8sruntime.ContentTypeJSON, g.object("PodList"))},
		{name: "configmap list", data: encode(t, k8sruntime.ContentTypeProtobuf, &corev1.ConfigMapList{
			ListMeta: metav1.ListMeta{ResourceVersion: "5"},
			Items:    []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"}, Data: map[string]string{"stubDomains": "{}"}}},
		})},
		{name: "status", data: encode(t, k8sruntime.ContentTypeProtobuf, &metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired})},
		{name: "list of another group", data: body(typeMeta("apps/v1", "ServiceList"), msg(2, raw)), wantErr: true},
		{name: "envelope start beyond the buffer", data: body(typeMeta("v1", "ServiceList"), msg(9, bytes.Repeat([]byte{'x'}, streamBufSize)), msg(2, raw), msg(3, nil), msg(4, nil))},
		{name: "raw not length-delimited", data: body(typeMeta("v1", "ServiceList"), protowire.AppendTag(nil, 2, protowire.VarintType), []byte{1}), wantErr: true},
		{name: "bad typeMeta", data: body(msg(1, []byte{0x0f}), msg(2, raw)), wantErr: true},
		{name: "empty", data: nil, wantErr: true},
		{name: "magic only", data: protobufMagic, wantErr: true},
		{name: "short", data: []byte("k8"), wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if h, ok := streamHeader(window(tc.data)); ok {
				t.Fatalf("streamed as %+v", h)
			}
			for _, r := range readers {
				_, err := checkSame(t, tc.data, r.wrap)
				if (err != nil) != tc.wantErr {
					t.Fatalf("%s reads: err %v, want error %v", r.name, err, tc.wantErr)
				}
			}
		})
	}
}

// TestStreamEnvelope covers what can follow the list in the envelope.
func TestStreamEnvelope(t *testing.T) {
	g := newGen(78)
	list := bigList(g, "PodList", 3)
	raw := rawOf(t, encode(t, k8sruntime.ContentTypeProtobuf, list))
	tm := typeMeta("v1", "PodList")
	tests := []struct {
		name    string
		data    []byte
		wantErr error // nil: decodes as the buffered decoder does
	}{
		{name: "content fields", data: body(tm, msg(2, raw), msg(3, []byte("gzip?")), msg(4, []byte("application/vnd.kubernetes.protobuf")))},
		{name: "nothing after raw", data: body(tm, msg(2, raw))},
		{name: "content fields first", data: body(msg(4, nil), msg(3, nil), tm, msg(2, raw))},
		{name: "unknown fields around", data: body(msg(7, []byte("x")), tm, protowire.AppendTag(nil, 8, protowire.Fixed64Type), make([]byte, 8), msg(2, raw),
			protowire.AppendTag(nil, 9, protowire.StartGroupType), msg(1, []byte("in group")), protowire.AppendTag(nil, 9, protowire.EndGroupType),
			protowire.AppendTag(nil, 10, protowire.Fixed32Type), make([]byte, 4), protowire.AppendTag(nil, 11, protowire.VarintType), []byte{0x80, 0x01})},
		{name: "same typeMeta again", data: body(tm, msg(2, raw), typeMeta("v1", "PodList"), msg(1, nil))},
		{name: "empty raw", data: body(tm, msg(2, nil))},
		{name: "raw shorter than its list", data: body(tm, msg(2, raw[:len(raw)-1]), raw[len(raw)-1:]), wantErr: io.ErrUnexpectedEOF},
		{name: "garbage after raw", data: body(tm, msg(2, raw), []byte{0x2f}), wantErr: errWireType},
		{name: "wrong wire type after raw", data: body(tm, msg(2, raw), []byte{0x18, 0x01}), wantErr: errors.New("wrong wire type")},
		{name: "content type cut", data: body(tm, msg(2, raw), []byte{0x22, 0x05, 'a'}), wantErr: io.ErrUnexpectedEOF},
		{name: "unclosed group after raw", data: body(tm, msg(2, raw), protowire.AppendTag(nil, 9, protowire.StartGroupType)), wantErr: io.ErrUnexpectedEOF},
		{name: "field zero after raw", data: body(tm, msg(2, raw), []byte{0x02, 0x00}), wantErr: errFieldZero},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range readers {
				_, err := checkSame(t, tc.data, r.wrap)
				switch {
				case tc.wantErr == nil && err != nil:
					t.Fatalf("%s reads: %v", r.name, err)
				case tc.wantErr != nil && !errors.Is(err, tc.wantErr) && (err == nil || !strings.Contains(err.Error(), tc.wantErr.Error())):
					t.Fatalf("%s reads: %v, want %v", r.name, err, tc.wantErr)
				}
			}
		})
	}

	// Where streaming cannot agree with the buffered decoder, which decodes
	// the last raw as the last typeMeta says: the list is gone by then.
	diverge := []struct {
		name string
		data []byte
	}{
		{name: "raw again", data: body(tm, msg(2, raw), msg(2, raw))},
		{name: "another kind after raw", data: body(tm, msg(2, raw), typeMeta("v1", "ServiceList"))},
		{name: "another version after raw", data: body(tm, msg(2, raw), msg(1, msg(1, []byte("v2"))))},
	}
	for _, tc := range diverge {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeStream(bytes.NewReader(tc.data)); !errors.Is(err, errEnvelopeRepeats) {
				t.Fatalf("err %v, want %v", err, errEnvelopeRepeats)
			}
		})
	}
}

// TestStreamFieldLimit checks that an item over maxStreamField is refused
// before anything is allocated for it.
func TestStreamFieldLimit(t *testing.T) {
	var raw []byte
	raw = protowire.AppendTag(raw, 2, protowire.BytesType)
	raw = protowire.AppendVarint(raw, maxStreamField+1)
	data := cat(protobufMagic, typeMeta("v1", "ServiceList"), protowire.AppendTag(nil, 2, protowire.BytesType), protowire.AppendVarint(nil, maxStreamField+100), raw)
	if _, err := decodeStream(bytes.NewReader(data)); !errors.Is(err, errFieldTooLarge) {
		t.Fatalf("err %v, want %v", err, errFieldTooLarge)
	}
	// Within the limit but past the body: the body is short.
	raw = protowire.AppendVarint(protowire.AppendTag(nil, 2, protowire.BytesType), maxStreamField)
	data = cat(protobufMagic, typeMeta("v1", "ServiceList"), protowire.AppendTag(nil, 2, protowire.BytesType), protowire.AppendVarint(nil, maxStreamField+100), raw)
	if _, err := decodeStream(bytes.NewReader(data)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

// TestStreamReadError checks that a failing body fails the decode.
func TestStreamReadError(t *testing.T) {
	boom := errors.New("boom")
	data := encode(t, k8sruntime.ContentTypeProtobuf, bigList(newGen(5), "ServiceList", 300))
	for _, cut := range []int{0, 3, 100, streamBufSize + 5, len(data) - 1} {
		for _, r := range readers {
			_, err := decodeStream(io.MultiReader(r.wrap(bytes.NewReader(data[:cut])), iotest.ErrReader(boom)))
			if !errors.Is(err, boom) {
				t.Errorf("cut %d, %s reads: err %v, want %v", cut, r.name, err, boom)
			}
		}
	}
}

// envelopeRepeats reports whether a protobuf body's envelope has the key of
// raw or of typeMeta after a raw field.
func envelopeRepeats(data []byte) bool {
	if !hasMagic(data) {
		return false
	}
	p := buf{b: data[len(protobufMagic):]}
	sawRaw := false
	for p.more() {
		start := p.i
		num, _, err := p.key()
		if err != nil {
			return false
		}
		if (num == 1 || num == 2) && sawRaw {
			return true
		}
		sawRaw = sawRaw || num == 2
		if p.skip(start) != nil {
			return false
		}
	}
	return false
}

// FuzzStreamList requires decodeStream to agree with decodeBody on any
// bytes, read at once or a byte at a time, except that where the envelope
// repeats raw or typeMeta after a list the stream may fail: it has decoded,
// or failed on, the first list (errEnvelopeRepeats, or that list's error),
// while decodeBody takes the last.
func FuzzStreamList(f *testing.F) {
	for i, kind := range listKinds {
		g := newGen(uint64(300 + i))
		for range 3 {
			f.Add(encode(f, k8sruntime.ContentTypeProtobuf, g.object(kind)))
		}
	}
	raw := rawOf(f, encode(f, k8sruntime.ContentTypeProtobuf, newGen(9).object("NamespaceList")))
	f.Add(body(msg(2, raw), typeMeta("v1", "NamespaceList")))
	f.Add(body(typeMeta("v1", "NamespaceList"), msg(2, raw), msg(2, raw)))
	f.Add(encode(f, k8sruntime.ContentTypeProtobuf, newGen(10).service()))
	f.Add(encode(f, k8sruntime.ContentTypeProtobuf, &corev1.ConfigMapList{Items: []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns"}}}}))
	f.Add([]byte("k8s\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		want, wantErr := decodeBody(bytes.Clone(data))
		for _, wrap := range []func(io.Reader) io.Reader{readers[0].wrap, iotest.OneByteReader} {
			got, err := decodeStream(wrap(bytes.NewReader(data)))
			if errors.Is(err, errEnvelopeRepeats) && !envelopeRepeats(data) {
				t.Fatalf("%v, but the envelope has no field after raw that could change it", err)
			}
			if err != nil && envelopeRepeats(data) {
				// The stream decoded (or failed on) the first list; the
				// buffered decode takes the last one.
				continue
			}
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("streamed: %v; buffered: %v", err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("streamed\n%#v\nbuffered\n%#v", got, want)
			}
		}
	})
}
