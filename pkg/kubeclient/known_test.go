package kubeclient

import (
	"bytes"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// A list decoded with Known takes the known object for an item at the same
// version, and makes a new one for an item at another version or unknown;
// the items it makes are what they would be without Known.
func TestListTakesKnownObjects(t *testing.T) {
	list := &corev1.ServiceList{ListMeta: metav1.ListMeta{ResourceVersion: "9"}}
	for _, n := range []struct{ name, rv string }{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}} {
		list.Items = append(list.Items, *service(n.name, n.rv, 80))
	}
	data := encode(t, runtime.ContentTypeProtobuf, list)
	plain, err := decodeStream(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]*Service{}
	for _, s := range plain.(*ServiceList).Items {
		held[s.Namespace+"/"+s.Name] = s.DeepCopy()
	}
	held["shop/c"].ResourceVersion = "2" // an older version: not taken
	delete(held, "shop/d")               // not held
	var asked []string
	known := func(ns, name, rv string) runtime.Object {
		asked = append(asked, ns+"/"+name+"@"+rv)
		if s, ok := held[ns+"/"+name]; ok && s.ResourceVersion == rv {
			return s
		}
		return nil
	}
	got, err := decodeStreamKnown(bytes.NewReader(data), known)
	if err != nil {
		t.Fatal(err)
	}
	items := got.(*ServiceList).Items
	if len(items) != 4 || len(asked) != 4 {
		t.Fatalf("%d items, %d asked (%v)", len(items), len(asked), asked)
	}
	for i, s := range items {
		key := s.Namespace + "/" + s.Name
		taken := s == held[key]
		if want := key == "shop/a" || key == "shop/b"; taken != want {
			t.Errorf("item %s: took the held object %v, want %v", key, taken, want)
		}
		if !taken && !reflect.DeepEqual(s, plain.(*ServiceList).Items[i]) {
			t.Errorf("item %s made with Known differs: %#v", key, s)
		}
	}
}
