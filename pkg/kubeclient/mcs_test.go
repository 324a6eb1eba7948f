package kubeclient

import (
	"bytes"
	"reflect"
	"testing"

	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// TestServiceImportJSON fills every field of ServiceImports and their
// lists, encodes them as JSON, the only encoding of a custom resource, and
// requires the slim decoder, and the list path, to give what Slim gives.
func TestServiceImportJSON(t *testing.T) {
	dec := slimInfo(t, k8sruntime.ContentTypeJSON).Serializer
	f := filler(1645)
	for i := range 100 {
		for _, orig := range []k8sruntime.Object{&mcsv1alpha1.ServiceImport{}, &mcsv1alpha1.ServiceImportList{}} {
			f.Fill(orig)
			want, ok := Slim(orig)
			if !ok {
				t.Fatalf("Slim(%T) not ok", orig)
			}
			data := encode(t, k8sruntime.ContentTypeJSON, orig)
			got, _, err := dec.Decode(data, nil, nil)
			if err != nil {
				t.Fatalf("%d %T: decode: %v", i, orig, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%d:\n got %#v\nwant %#v", i, got, want)
			}
			listed, err := decodeStream(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%d %T: as a list response: %v", i, orig, err)
			}
			if !reflect.DeepEqual(listed, want) {
				t.Fatalf("%d as a list response:\n got %#v\nwant %#v", i, listed, want)
			}
		}
	}
}
