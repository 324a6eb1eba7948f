package kubeclient

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
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

// kinds are the full types with a slim one.
var kinds = map[string]func() runtime.Object{
	"Service":           func() runtime.Object { return &corev1.Service{} },
	"ServiceList":       func() runtime.Object { return &corev1.ServiceList{} },
	"EndpointSlice":     func() runtime.Object { return &discoveryv1.EndpointSlice{} },
	"EndpointSliceList": func() runtime.Object { return &discoveryv1.EndpointSliceList{} },
	"Endpoints":         func() runtime.Object { return &corev1.Endpoints{} },     //nolint:staticcheck // a slimmed kind
	"EndpointsList":     func() runtime.Object { return &corev1.EndpointsList{} }, //nolint:staticcheck // a slimmed kind
	"Namespace":         func() runtime.Object { return &corev1.Namespace{} },
	"NamespaceList":     func() runtime.Object { return &corev1.NamespaceList{} },
	"Pod":               func() runtime.Object { return &corev1.Pod{} },
	"PodList":           func() runtime.Object { return &corev1.PodList{} },
	"ServiceImport":     func() runtime.Object { return &mcsv1alpha1.ServiceImport{} },
	"ServiceImportList": func() runtime.Object { return &mcsv1alpha1.ServiceImportList{} },
}

// TestTransformMatchesSlim fills every field of each kind (a new field in
// a k8s.io/api release included) and requires the informers' transform,
// which shares strings between consecutive objects, to give what Slim
// gives for each object alone. Some objects repeat the namespace and
// service name of the one before, as a list's do.
func TestTransformMatchesSlim(t *testing.T) {
	for kind, newObj := range kinds {
		t.Run(kind, func(t *testing.T) {
			f := filler(int64(len(kind)) * 7919)
			transform := Transform()
			var last metav1.Object
			for i := range 100 {
				orig := newObj()
				f.Fill(orig)
				if m, ok := orig.(metav1.Object); ok && last != nil && i%3 == 0 {
					m.SetNamespace(last.GetNamespace())
					if l := last.GetLabels(); l != nil {
						m.SetLabels(map[string]string{discoveryv1.LabelServiceName: l[discoveryv1.LabelServiceName]})
					}
				}
				want, ok := Slim(orig)
				if !ok {
					t.Fatalf("Slim(%T) not ok", orig)
				}
				got, err := transform(orig)
				if err != nil {
					t.Fatalf("object %d: %v", i, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("object %d:\n got %#v\nwant %#v", i, got, want)
				}
				last, _ = orig.(metav1.Object)
			}
		})
	}
}

// TestTransformUnstructuredServiceImport: the dynamic client's
// ServiceImports (JSON, the only encoding of a custom resource, decoded
// into unstructured objects) are slimmed as the typed ones are.
func TestTransformUnstructuredServiceImport(t *testing.T) {
	f := filler(1645)
	transform := Transform()
	for i := range 100 {
		orig := &mcsv1alpha1.ServiceImport{}
		f.Fill(orig)
		orig.TypeMeta = metav1.TypeMeta{APIVersion: mcsv1alpha1.SchemeGroupVersion.String(), Kind: "ServiceImport"}
		data, err := json.Marshal(orig)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		want, _ := Slim(orig)
		got, err := transform(u)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d:\n got %#v\nwant %#v", i, got, want)
		}
	}
}

// TestTransformPassesOthers: what has no slim type is stored as it came.
func TestTransformPassesOthers(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns"}}
	for _, obj := range []any{cm, "a tombstone key"} {
		got, err := Transform()(obj)
		if err != nil || !reflect.DeepEqual(got, obj) {
			t.Errorf("Transform(%T) = %v, %v", obj, got, err)
		}
	}
}

// BenchmarkTransformService: the informers' transform of one Service with
// every field filled.
func BenchmarkTransformService(b *testing.B) {
	svc := &corev1.Service{}
	filler(1).Fill(svc)
	transform := Transform()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := transform(svc); err != nil {
			b.Fatal(err)
		}
	}
}
