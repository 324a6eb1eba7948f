package kubeclient

import (
	"bytes"
	"reflect"
	"runtime"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

// TestDecodeMatchesSlim encodes random full objects as the API server does
// and requires the slim decoders to produce exactly Slim(original).
func TestDecodeMatchesSlim(t *testing.T) {
	for _, mediaType := range []string{k8sruntime.ContentTypeProtobuf, k8sruntime.ContentTypeJSON} {
		dec := slimInfo(t, mediaType).Serializer
		for _, kind := range allKinds {
			t.Run(mediaType+"/"+kind, func(t *testing.T) {
				g := newGen(uint64(len(kind)))
				for i := range 300 {
					orig := g.object(kind)
					want, ok := Slim(orig)
					if !ok {
						t.Fatalf("Slim(%T) not ok", orig)
					}
					data := encode(t, mediaType, orig)
					got, gvk, err := dec.Decode(data, nil, nil)
					if err != nil {
						t.Fatalf("object %d: decode: %v", i, err)
					}
					if gvk == nil || gvk.Kind != kind {
						t.Errorf("object %d: gvk = %v, want kind %s", i, gvk, kind)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("object %d:\n got %#v\nwant %#v", i, got, want)
					}
				}
			})
		}
	}
}

// TestDecodeInto covers decoding into a caller's object: a slim object of
// the right kind is reset and filled, any other slim object is ignored, and a
// full type gets the full object.
func TestDecodeInto(t *testing.T) {
	svc := newGen(7).service()
	svc.Spec.Ports = []corev1.ServicePort{{Name: "dns", Protocol: "UDP", Port: 53}}
	want, _ := Slim(svc)
	for _, mediaType := range []string{k8sruntime.ContentTypeProtobuf, k8sruntime.ContentTypeJSON} {
		dec := slimInfo(t, mediaType).Serializer
		data := encode(t, mediaType, svc)
		tests := []struct {
			name     string
			into     k8sruntime.Object
			wantSame bool
			want     k8sruntime.Object
		}{
			{name: "nil", want: want},
			{name: "same kind", into: &Service{Meta: Meta{Name: "stale"}, ClusterIPs: []string{"x"}, ExternalName: "old"}, wantSame: true, want: want},
			{name: "typed nil", into: (*Service)(nil), want: want},
			{name: "other slim kind", into: &Pod{}, want: want},
			{name: "full type", into: &corev1.Service{}, wantSame: true},
		}
		for _, tc := range tests {
			t.Run(mediaType+"/"+tc.name, func(t *testing.T) {
				got, _, err := dec.Decode(data, nil, tc.into)
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantSame && got != tc.into {
					t.Errorf("decoded into a new %T, want the given %T", got, tc.into)
				}
				if tc.want == nil {
					full, ok := got.(*corev1.Service)
					if !ok || full.Name != svc.Name || len(full.ManagedFields) != len(svc.ManagedFields) {
						t.Errorf("got %T %+v, want the full service", got, got)
					}
					return
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("got %#v\nwant %#v", got, tc.want)
				}
			})
		}
	}
}

// TestDecodeDelegates checks that kinds without a slim type decode to the
// standard objects.
func TestDecodeDelegates(t *testing.T) {
	objs := []k8sruntime.Object{
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"}, Data: map[string]string{"upstreamNameservers": `["1.1.1.1"]`}},
		&metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden, Message: "no"},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}},
	}
	for _, mediaType := range []string{k8sruntime.ContentTypeProtobuf, k8sruntime.ContentTypeJSON} {
		dec := slimInfo(t, mediaType).Serializer
		ref := refInfo(t, mediaType).Serializer
		for _, obj := range objs {
			t.Run(mediaType+"/"+reflect.TypeOf(obj).Elem().Name(), func(t *testing.T) {
				data := encode(t, mediaType, obj)
				got, _, err := dec.Decode(data, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				want, _, err := ref.Decode(data, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("got %#v\nwant %#v", got, want)
				}
			})
		}
	}
}

// TestDecodeMalformed feeds broken protobuf to the slim decoder: every case
// must fail cleanly.
func TestDecodeMalformed(t *testing.T) {
	dec := slimInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	svc := encode(t, k8sruntime.ContentTypeProtobuf, newGen(3).service())
	list := encode(t, k8sruntime.ContentTypeProtobuf, newGen(4).object("EndpointSliceList"))
	envelope := func(apiVersion, kind string, raw []byte) []byte {
		u := k8sruntime.Unknown{TypeMeta: k8sruntime.TypeMeta{APIVersion: apiVersion, Kind: kind}, Raw: raw}
		b, err := u.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte("k8s\x00"), b...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{name: "empty", data: nil},
		{name: "magic only", data: []byte("k8s\x00")},
		{name: "not protobuf", data: []byte(`{"kind":"Service"}`)},
		{name: "no kind", data: envelope("v1", "", nil)},
		{name: "truncated service", data: svc[:len(svc)-3]},
		{name: "truncated list", data: list[:len(list)/2]},
		{name: "overlong varint", data: envelope("v1", "Service", bytes.Repeat([]byte{0xff}, 11))},
		{name: "length past end", data: envelope("v1", "Service", []byte{0x0a, 0x7f, 0x0a})},
		{name: "negative length", data: envelope("v1", "Service", []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
		{name: "field zero", data: envelope("v1", "Service", []byte{0x02, 0x00})},
		{name: "end group", data: envelope("v1", "Service", []byte{0x0c})},
		{name: "wire type 7", data: envelope("v1", "Service", []byte{0x0f})},
		{name: "unclosed group", data: envelope("v1", "Pod", []byte{0x4b, 0x08, 0x01})},
		{name: "wrong wire type", data: envelope("v1", "Service", []byte{0x12, 0x02, 0x18, 0x01})},
		{name: "bad label entry", data: envelope("discovery.k8s.io/v1", "EndpointSlice", []byte{0x0a, 0x04, 0x5a, 0x02, 0x0a, 0x05})},
		{name: "fixed64 past end", data: envelope("v1", "Namespace", []byte{0x19, 0x01})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj, _, err := dec.Decode(tc.data, nil, nil)
			if err == nil {
				t.Errorf("decoded %#v, want an error", obj)
			}
		})
	}
}

// TestDecodeLenient checks encodings that are odd but that the generated
// decoders accept, so the slim decoder must accept them with the same
// meaning.
func TestDecodeLenient(t *testing.T) {
	std := refInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	dec := slimInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	envelope := func(apiVersion, kind string, raw []byte) []byte {
		u := k8sruntime.Unknown{TypeMeta: k8sruntime.TypeMeta{APIVersion: apiVersion, Kind: kind}, Raw: raw}
		b, err := u.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return append([]byte("k8s\x00"), b...)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{name: "apiVersion with empty group", data: envelope("/v1", "Namespace", msg(1, msg(1, []byte("ns"))))},
		{name: "ten byte varint", data: envelope("v1", "Service",
			msg(2, msg(1, cat(protowire.AppendTag(nil, 3, protowire.VarintType), []byte{0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f}))))},
		{name: "field number wraps", data: envelope("v1", "Service",
			msg(1, cat(protowire.AppendVarint(nil, (1<<33|1)<<3|uint64(protowire.BytesType)), protowire.AppendString(nil, "a"))))},
		{name: "mismatched group", data: envelope("v1", "Service",
			msg(1, cat(protowire.AppendTag(nil, 15, protowire.StartGroupType), protowire.AppendTag(nil, 16, protowire.EndGroupType), msg(1, []byte("b")))))},
		{name: "map entry wire types ignored", data: envelope("discovery.k8s.io/v1", "EndpointSlice",
			msg(1, msg(11, cat(
				protowire.AppendTag(nil, 1, protowire.VarintType), protowire.AppendString(nil, "kubernetes.io/service-name"),
				protowire.AppendTag(nil, 2, protowire.Fixed32Type), protowire.AppendString(nil, "web")))))},
		{name: "map value runs past its entry", data: envelope("discovery.k8s.io/v1", "EndpointSlice",
			msg(1, cat(
				// the value's length, 7, takes "web" and the next field's first 4 bytes
				msg(11, cat(msg(1, []byte("kubernetes.io/service-name")), protowire.AppendTag(nil, 2, protowire.BytesType), []byte{7}, []byte("web"))),
				msg(1, []byte("slice-a")))))},
		{name: "last annotation wins", data: envelope("v1", "Pod", msg(1, cat(
			msg(12, cat(msg(1, []byte(metav1.InitialEventsAnnotationKey)), msg(2, []byte("true")))),
			msg(12, cat(msg(1, []byte(metav1.InitialEventsAnnotationKey)), msg(2, []byte("false")))))))},
		{name: "repeated message merges", data: envelope("v1", "Service", cat(
			msg(2, msg(1, []byte{0x18, 53})), msg(2, cat(msg(1, []byte{0x18, 80}), msg(3, []byte("10.0.0.1")))), msg(2, msg(4, []byte("NodePort")))))},
		{name: "pod ip from an earlier status", data: envelope("v1", "Pod", cat(
			msg(3, msg(6, []byte("10.1.2.3"))), msg(3, msg(1, []byte("Running")))))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			full, _, err := std.Decode(tc.data, nil, nil)
			if err != nil {
				t.Fatalf("standard decoder rejects the case: %v", err)
			}
			want, _ := Slim(full)
			got, _, err := dec.Decode(tc.data, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v\nwant %#v", got, want)
			}
		})
	}
}

// msg encodes a length-delimited field.
func msg(num protowire.Number, payload []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), payload)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestInterning checks that repeated short values are not allocated and that
// list items share their namespace string.
func TestInterning(t *testing.T) {
	l := &corev1.ServiceList{}
	for _, name := range []string{"a", "b"} {
		l.Items = append(l.Items, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-x"},
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"},
				Ports: []corev1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}},
			},
		})
	}
	obj, _, err := slimInfo(t, k8sruntime.ContentTypeProtobuf).Serializer.Decode(encode(t, k8sruntime.ContentTypeProtobuf, l), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	items := obj.(*ServiceList).Items
	same := func(a, b string) bool { return a == b && unsafe.StringData(a) == unsafe.StringData(b) }
	checks := []struct {
		name string
		a, b string
	}{
		{name: "namespace across items", a: items[0].Namespace, b: items[1].Namespace},
		{name: "type", a: items[0].Type, b: "ClusterIP"},
		{name: "protocol", a: items[0].Ports[0].Protocol, b: "TCP"},
		{name: "port name", a: items[0].Ports[0].Name, b: "http"},
		{name: "clusterIPs[0] and clusterIP", a: items[0].ClusterIPs[0], b: items[0].ClusterIP},
	}
	for _, c := range checks {
		if !same(c.a, c.b) {
			t.Errorf("%s: %q and %q do not share memory", c.name, c.a, c.b)
		}
	}
}

// TestServiceFootprint keeps many decoded Services alive and measures the
// heap each one holds: a ClusterIP Service with two ports must stay well
// under 400 bytes.
func TestServiceFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("measures the heap")
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "frontend-web", Namespace: "shop", ResourceVersion: "48151623"},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.142.17", ClusterIPs: []string{"10.96.142.17"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}, {Name: "https", Protocol: "TCP", Port: 443}},
		},
	}
	data := encode(t, k8sruntime.ContentTypeProtobuf, svc)
	dec := slimInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	const n = 20000
	keep := make([]k8sruntime.Object, n)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range keep {
		obj, _, err := dec.Decode(data, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		keep[i] = obj
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	runtime.KeepAlive(keep)
	t.Logf("%.0f bytes per Service", per)
	if per > 350 {
		t.Errorf("a decoded Service holds %.0f bytes, want at most 350", per)
	}
}
