package kubeclient

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FuzzDecode feeds arbitrary bytes to the slim protobuf decoder. It must
// never panic, and whenever the standard decoder accepts the bytes the slim
// decoder must accept them too and agree with Slim of the standard result.
func FuzzDecode(f *testing.F) {
	for i, kind := range allKinds {
		g := newGen(uint64(100 + i))
		for range 2 {
			f.Add(encode(f, runtime.ContentTypeProtobuf, g.object(kind)))
		}
	}
	f.Add(encode(f, runtime.ContentTypeProtobuf, &metav1.Status{Status: metav1.StatusFailure, Code: 410, Reason: metav1.StatusReasonExpired}))
	f.Add(encode(f, runtime.ContentTypeProtobuf, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns"}, Data: map[string]string{"stubDomains": "{}"}}))
	f.Add([]byte("k8s\x00"))
	f.Add([]byte{})

	std := refInfo(f, runtime.ContentTypeProtobuf).Serializer
	dec := slimInfo(f, runtime.ContentTypeProtobuf).Serializer
	f.Fuzz(func(t *testing.T, data []byte) {
		got, _, err := dec.Decode(data, nil, nil)
		full, _, stdErr := std.Decode(data, nil, nil)
		if stdErr != nil {
			return
		}
		want := full
		if slim, ok := Slim(full); ok {
			want = slim
		}
		if err != nil {
			t.Fatalf("the standard decoder accepts a %T, the slim one fails: %v", full, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoded\n%#v\nwant\n%#v", got, want)
		}
	})
}
