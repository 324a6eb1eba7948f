package kubeclient

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// BenchmarkDecodeServiceList is the comparison the API edge was chosen on,
// kept as the benchmark make bench-go reruns: a list of 10,000 Services
// shaped like a real cluster's (labels, last-applied annotation, managed
// fields) read by this package's decoder ("hand"), and as kube-dns on
// client-go informers with SetTransform reads it: the clientset's standard
// protobuf decoder then Slim per object, the whole list at once
// ("informer-list") or one watch event's object at a time
// ("informer-watchlist", client-go's default streaming of the initial
// list). make bench measured the same choice end to end (start, memory,
// relist peak; hack/bench/history.md), and the hand client stayed.
func BenchmarkDecodeServiceList(b *testing.B) {
	list := realisticServices(10000)
	data := encode(b, runtime.ContentTypeProtobuf, list)
	events := make([][]byte, len(list.Items))
	size := 0
	for i := range list.Items {
		events[i] = encode(b, runtime.ContentTypeProtobuf, &list.Items[i])
		size += len(events[i])
	}
	slimDec := slimInfo(b, runtime.ContentTypeProtobuf).Serializer
	stdDec := refInfo(b, runtime.ContentTypeProtobuf).Serializer
	decoders := []struct {
		name   string
		bytes  int
		decode func() (int, error)
	}{
		{name: "hand", bytes: len(data), decode: func() (int, error) {
			obj, _, err := slimDec.Decode(data, nil, nil)
			if err != nil {
				return 0, err
			}
			return len(obj.(*ServiceList).Items), nil
		}},
		{name: "informer-list", bytes: len(data), decode: func() (int, error) {
			obj, _, err := stdDec.Decode(data, nil, nil)
			if err != nil {
				return 0, err
			}
			items := obj.(*corev1.ServiceList).Items
			kept := make([]runtime.Object, 0, len(items))
			for i := range items {
				slim, _ := Slim(&items[i])
				kept = append(kept, slim)
			}
			return len(kept), nil
		}},
		{name: "informer-watchlist", bytes: size, decode: func() (int, error) {
			kept := make([]runtime.Object, 0, len(events))
			for _, e := range events {
				obj, _, err := stdDec.Decode(e, nil, nil)
				if err != nil {
					return 0, err
				}
				slim, _ := Slim(obj)
				kept = append(kept, slim)
			}
			return len(kept), nil
		}},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(d.bytes))
			for b.Loop() {
				n, err := d.decode()
				if err != nil {
					b.Fatal(err)
				}
				if n != 10000 {
					b.Fatalf("%d items", n)
				}
			}
		})
	}
}

// realisticServices returns n Services over 50 namespaces in the API's order.
func realisticServices(n int) *corev1.ServiceList {
	l := &corev1.ServiceList{ListMeta: metav1.ListMeta{ResourceVersion: "987654321"}}
	ts := metav1.Now()
	for i := range n {
		ns := fmt.Sprintf("team-%02d", i*50/n)
		name := fmt.Sprintf("service-%05d", i)
		l.Items = append(l.Items, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: ns, ResourceVersion: fmt.Sprint(100000 + i),
				UID:               "6f1c2a4e-0d3b-4c5e-9f7a-1b2c3d4e5f60",
				CreationTimestamp: ts,
				Labels:            map[string]string{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "shop", "tier": "backend"},
				Annotations: map[string]string{
					"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Service","metadata":{"annotations":{},"labels":{"app.kubernetes.io/name":"` + name + `"},"name":"` + name + `","namespace":"` + ns + `"},"spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"grpc","port":9090}],"selector":{"app":"` + name + `"}}}`,
				},
				ManagedFields: []metav1.ManagedFieldsEntry{
					{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1",
						FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},"f:labels":{".":{},"f:app.kubernetes.io/name":{}}},"f:spec":{"f:internalTrafficPolicy":{},"f:ports":{".":{},"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:name":{},"f:port":{},"f:protocol":{},"f:targetPort":{}}},"f:selector":{},"f:sessionAffinity":{},"f:type":{}}}`)}},
					{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &ts, FieldsType: "FieldsV1", Subresource: "status",
						FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:status":{"f:loadBalancer":{}}}`)}},
				},
			},
			Spec: corev1.ServiceSpec{
				Type:      corev1.ServiceTypeClusterIP,
				ClusterIP: fmt.Sprintf("10.96.%d.%d", i/256%256, i%256), ClusterIPs: []string{fmt.Sprintf("10.96.%d.%d", i/256%256, i%256)},
				IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol}, IPFamilyPolicy: ptr(corev1.IPFamilyPolicySingleStack),
				Ports: []corev1.ServicePort{
					{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)},
					{Name: "grpc", Protocol: corev1.ProtocolTCP, Port: 9090, TargetPort: intstr.FromInt32(9090)},
				},
				Selector:              map[string]string{"app": name},
				SessionAffinity:       corev1.ServiceAffinityNone,
				InternalTrafficPolicy: ptr(corev1.ServiceInternalTrafficPolicyCluster),
			},
		})
	}
	return l
}

func ptr[T any](v T) *T { return &v }

// BenchmarkListServices is the decoding part of the initial sync: a list
// response of 10,000 and 50,000 Services read from a reader as list does,
// streamed item by item, and (the way list worked before) read whole with
// readAll and decoded with decodeBody.
func BenchmarkListServices(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		b.Run(fmt.Sprintf("%d", n), func(b *testing.B) { benchmarkList(b, n) })
	}
}

func benchmarkList(b *testing.B, n int) {
	data := encode(b, runtime.ContentTypeProtobuf, realisticServices(n))
	paths := []struct {
		name   string
		decode func(io.Reader) (runtime.Object, error)
	}{
		{name: "stream", decode: decodeStream},
		{name: "readAll+decodeBody", decode: func(r io.Reader) (runtime.Object, error) {
			body, err := readAll(r)
			if err != nil {
				return nil, err
			}
			return decodeBody(body)
		}},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				obj, err := p.decode(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				if got := len(obj.(*ServiceList).Items); got != n {
					b.Fatalf("%d items", got)
				}
			}
		})
	}
}
