package kubeclient

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
)

func TestMetaAccessors(t *testing.T) {
	tests := []struct {
		name    string
		obj     runtime.Object
		wantKey string
	}{
		{name: "service", obj: &Service{Meta: Meta{Name: "web", Namespace: "shop", ResourceVersion: "7"}}, wantKey: "shop/web"},
		{name: "endpointslice", obj: &EndpointSlice{Meta: Meta{Name: "web-x1", Namespace: "shop", ResourceVersion: "7"}}, wantKey: "shop/web-x1"},
		{name: "endpoints", obj: &Endpoints{Meta: Meta{Name: "web", Namespace: "shop", ResourceVersion: "7"}}, wantKey: "shop/web"},
		{name: "namespace", obj: &Namespace{Meta: Meta{Name: "shop", ResourceVersion: "7"}}, wantKey: "shop"},
		{name: "pod", obj: &Pod{Meta: Meta{Name: "web-0", Namespace: "shop", ResourceVersion: "7"}}, wantKey: "shop/web-0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			acc, err := meta.Accessor(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if acc.GetResourceVersion() != "7" {
				t.Errorf("resource version = %q", acc.GetResourceVersion())
			}
			key, err := cache.MetaNamespaceKeyFunc(tc.obj)
			if err != nil || key != tc.wantKey {
				t.Errorf("key = %q, %v; want %q", key, err, tc.wantKey)
			}
			acc.SetName("renamed")
			acc.SetNamespace("elsewhere")
			acc.SetResourceVersion("8")
			acc.SetLabels(map[string]string{"a": "b"})
			acc.SetUID("u")
			acc.SetFinalizers([]string{"f"})
			if acc.GetName() != "renamed" || acc.GetNamespace() != "elsewhere" || acc.GetResourceVersion() != "8" {
				t.Errorf("setters lost: %q %q %q", acc.GetName(), acc.GetNamespace(), acc.GetResourceVersion())
			}
			if acc.GetLabels() != nil || acc.GetUID() != "" || acc.GetFinalizers() != nil || acc.GetAnnotations() != nil {
				t.Errorf("a field other than identity was kept")
			}
			if cp := tc.obj.DeepCopyObject(); !reflect.DeepEqual(cp, tc.obj) {
				t.Errorf("DeepCopyObject = %#v, want %#v", cp, tc.obj)
			}
		})
	}
}

func TestBookmarkAnnotation(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  map[string]string
	}{
		{name: "true", value: "true", want: map[string]string{metav1.InitialEventsAnnotationKey: "true"}},
		{name: "false", value: "false"},
		{name: "other case", value: "True"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s Service
			s.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: tc.value, "other": "x"})
			if got := s.GetAnnotations(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("after SetAnnotations: %v, want %v", got, tc.want)
			}

			// What a watch-list bookmark looks like on the wire.
			bookmark := &corev1.Service{ObjectMeta: metav1.ObjectMeta{
				ResourceVersion: "42",
				Annotations:     map[string]string{metav1.InitialEventsAnnotationKey: tc.value},
			}}
			obj, _, err := slimInfo(t, runtime.ContentTypeProtobuf).Serializer.Decode(encode(t, runtime.ContentTypeProtobuf, bookmark), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := meta.Accessor(obj)
			if err != nil {
				t.Fatal(err)
			}
			if got := acc.GetAnnotations(); !reflect.DeepEqual(got, tc.want) || acc.GetResourceVersion() != "42" {
				t.Errorf("decoded bookmark: annotations %v rv %q, want %v rv 42", got, acc.GetResourceVersion(), tc.want)
			}
		})
	}
}

func TestListAccessors(t *testing.T) {
	remaining := int64(3)
	lm := metav1.ListMeta{ResourceVersion: "99", Continue: "next", RemainingItemCount: &remaining}
	tests := []struct {
		name  string
		list  runtime.Object
		names []string
	}{
		{name: "services", list: &ServiceList{ListMeta: lm, Items: []*Service{{Meta: Meta{Name: "a"}}, {Meta: Meta{Name: "b"}}}}, names: []string{"a", "b"}},
		{name: "endpointslices", list: &EndpointSliceList{ListMeta: lm, Items: []*EndpointSlice{{Meta: Meta{Name: "a"}}}}, names: []string{"a"}},
		{name: "endpoints", list: &EndpointsList{ListMeta: lm, Items: []*Endpoints{{Meta: Meta{Name: "a"}}}}, names: []string{"a"}},
		{name: "namespaces", list: &NamespaceList{ListMeta: lm, Items: []*Namespace{{Meta: Meta{Name: "a"}}}}, names: []string{"a"}},
		{name: "pods", list: &PodList{ListMeta: lm, Items: []*Pod{{Meta: Meta{Name: "a"}}, {Meta: Meta{Name: "b"}}}}, names: []string{"a", "b"}},
		{name: "empty", list: &PodList{ListMeta: lm}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			la, err := meta.ListAccessor(tc.list)
			if err != nil {
				t.Fatal(err)
			}
			if la.GetResourceVersion() != "99" || la.GetContinue() != "next" || *la.GetRemainingItemCount() != 3 {
				t.Errorf("list meta = %q %q %v", la.GetResourceVersion(), la.GetContinue(), la.GetRemainingItemCount())
			}
			for _, extract := range []func(runtime.Object) ([]runtime.Object, error){meta.ExtractList, meta.ExtractListWithAlloc} {
				items, err := extract(tc.list)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, it := range items {
					acc, err := meta.Accessor(it)
					if err != nil {
						t.Fatalf("item %T: %v", it, err)
					}
					names = append(names, acc.GetName())
				}
				if !reflect.DeepEqual(names, tc.names) {
					t.Errorf("items %v, want %v", names, tc.names)
				}
			}
			cp := tc.list.DeepCopyObject()
			if !reflect.DeepEqual(cp, tc.list) {
				t.Errorf("DeepCopyObject = %#v", cp)
			}
		})
	}
}

// TestDeepCopyShares checks that a deep copy shares no mutable memory.
func TestDeepCopyShares(t *testing.T) {
	g := newGen(11)
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			for range 50 {
				obj, _ := Slim(g.object(kind))
				cp := obj.DeepCopyObject()
				if !reflect.DeepEqual(cp, obj) {
					t.Fatalf("copy differs: %#v", cp)
				}
				if sharesMemory(reflect.ValueOf(obj), reflect.ValueOf(cp)) {
					t.Fatalf("copy of %T shares a slice or pointer", obj)
				}
			}
		})
	}
}

// sharesMemory reports whether a and b hold the same non-nil pointer or
// slice array anywhere (strings are immutable and may be shared).
func sharesMemory(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return false
		}
		return a.Pointer() == b.Pointer() || sharesMemory(a.Elem(), b.Elem())
	case reflect.Slice:
		if a.Len() == 0 || b.Len() == 0 {
			return false
		}
		if a.Pointer() == b.Pointer() {
			return true
		}
		for i := range a.Len() {
			if sharesMemory(a.Index(i), b.Index(i)) {
				return true
			}
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if sharesMemory(a.Field(i), b.Field(i)) {
				return true
			}
		}
	}
	return false
}
