package kubeclient

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/randfill"
)

// filler fills every field of the API types with random values, as
// apimachinery's round-trip tests do, with valid values for the few types
// whose encoding rejects arbitrary ones (times, quantities, JSON field sets).
func filler(seed int64) *randfill.Filler {
	return randfill.NewWithSeed(seed).NilChance(0.2).NumElements(0, 3).Funcs(
		func(t *metav1.Time, c randfill.Continue) { *t = metav1.Unix(c.Int63n(1<<32), 0) },
		func(t *metav1.MicroTime, c randfill.Continue) {
			*t = metav1.NewMicroTime(metav1.Unix(c.Int63n(1<<32), 0).Time)
		},
		func(f *metav1.FieldsV1, c randfill.Continue) { f.Raw = []byte(`{"f:spec":{}}`) },
		func(q *resource.Quantity, c randfill.Continue) {
			*q = *resource.NewQuantity(c.Int63n(1<<20), resource.DecimalSI)
		},
		func(m *metav1.ObjectMeta, c randfill.Continue) {
			c.FillNoCustom(m)
			// Sometimes the annotations and label kubeclient keeps.
			if c.Bool() {
				if m.Annotations == nil {
					m.Annotations = map[string]string{}
				}
				v := c.String(0) // mostly not a time
				if c.Bool() {
					v = time.Unix(c.Int63n(1<<32), c.Int63n(1e9)).UTC().Format(time.RFC3339Nano)
				}
				m.Annotations[corev1.EndpointsLastChangeTriggerTime] = v
			}
			if c.Bool() {
				if m.Labels == nil {
					m.Labels = map[string]string{}
				}
				m.Labels[discoveryv1.LabelServiceName] = c.String(0)
			}
		},
	)
}

// TestRandfillMatchesSlim fills every field of each decoded kind (a new
// field in a k8s.io/api release included), encodes it as the API server
// does, and requires this package's decoders, buffered and streamed, to
// give what Slim gives for the standard decoder's result.
func TestRandfillMatchesSlim(t *testing.T) {
	ref := refInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	slim := slimInfo(t, k8sruntime.ContentTypeProtobuf).Serializer
	newObj := map[string]func() k8sruntime.Object{
		"Service":           func() k8sruntime.Object { return &corev1.Service{} },
		"ServiceList":       func() k8sruntime.Object { return &corev1.ServiceList{} },
		"EndpointSlice":     func() k8sruntime.Object { return &discoveryv1.EndpointSlice{} },
		"EndpointSliceList": func() k8sruntime.Object { return &discoveryv1.EndpointSliceList{} },
		"Endpoints":         func() k8sruntime.Object { return &corev1.Endpoints{} },     //nolint:staticcheck // a decoded kind
		"EndpointsList":     func() k8sruntime.Object { return &corev1.EndpointsList{} }, //nolint:staticcheck // a decoded kind
		"Namespace":         func() k8sruntime.Object { return &corev1.Namespace{} },
		"NamespaceList":     func() k8sruntime.Object { return &corev1.NamespaceList{} },
		"Pod":               func() k8sruntime.Object { return &corev1.Pod{} },
		"PodList":           func() k8sruntime.Object { return &corev1.PodList{} },
	}
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			f := filler(int64(len(kind)) * 7919)
			for i := range 100 {
				orig := newObj[kind]()
				f.Fill(orig)
				data := encode(t, k8sruntime.ContentTypeProtobuf, orig)
				full, _, err := ref.Decode(data, nil, nil)
				if err != nil {
					t.Fatalf("object %d: standard decoder: %v", i, err)
				}
				want, _ := Slim(full)
				got, _, err := slim.Decode(data, nil, nil)
				if err != nil {
					t.Fatalf("object %d: decode: %v", i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("object %d:\n got %#v\nwant %#v", i, got, want)
				}
				if !isList(kindOf(want)) {
					continue
				}
				streamed, err := decodeStream(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("list %d: streamed: %v", i, err)
				}
				if !reflect.DeepEqual(streamed, want) {
					t.Fatalf("list %d streamed:\n got %#v\nwant %#v", i, streamed, want)
				}
			}
		})
	}
}
