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

// BenchmarkDecodeServiceList decodes a list of 10,000 Services shaped like a
// real cluster's (labels, last-applied annotation, managed fields) with the
// slim decoder and with the standard decoder followed by Slim.
func BenchmarkDecodeServiceList(b *testing.B) {
	data := encode(b, runtime.ContentTypeProtobuf, realisticServices(10000))
	slimDec := slimInfo(b, runtime.ContentTypeProtobuf).Serializer
	stdDec := refInfo(b, runtime.ContentTypeProtobuf).Serializer
	decoders := []struct {
		name   string
		decode func([]byte) (runtime.Object, error)
	}{
		{name: "slim", decode: func(d []byte) (runtime.Object, error) {
			obj, _, err := slimDec.Decode(d, nil, nil)
			return obj, err
		}},
		{name: "standard+Slim", decode: func(d []byte) (runtime.Object, error) {
			obj, _, err := stdDec.Decode(d, nil, nil)
			if err != nil {
				return nil, err
			}
			slim, _ := Slim(obj)
			return slim, nil
		}},
	}
	for _, d := range decoders {
		b.Run(d.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				obj, err := d.decode(data)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(obj.(*ServiceList).Items); n != 10000 {
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
