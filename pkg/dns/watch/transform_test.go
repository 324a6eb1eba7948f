package watch

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
)

// fatMeta has everything a real object carries that DNS does not need.
func fatMeta(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Namespace: ns, Name: name, ResourceVersion: "42", UID: "uid", Generation: 3,
		Labels:          map[string]string{"app": "x", discoveryv1.LabelServiceName: "web", discoveryv1.LabelManagedBy: "m"},
		Annotations:     map[string]string{"a": "b"},
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		OwnerReferences: []metav1.OwnerReference{{Name: "owner"}},
		Finalizers:      []string{"f"},
	}
}

func slimMetaOf(ns, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: "42"}
}

func TestTransforms(t *testing.T) {
	tests := []struct {
		name string
		fn   cache.TransformFunc
		in   runtime.Object
		want runtime.Object
	}{{
		name: "service",
		fn:   transformService,
		in: &corev1.Service{
			TypeMeta:   metav1.TypeMeta{Kind: "Service", APIVersion: "v1"},
			ObjectMeta: fatMeta("ns", "web"),
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"},
				Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80,
					TargetPort: intstr.FromInt32(8080), NodePort: 30080, AppProtocol: ptr.To("http")}},
				Selector: map[string]string{"app": "x"}, ExternalName: "ex.com", PublishNotReadyAddresses: true,
				SessionAffinity: corev1.ServiceAffinityClientIP, IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			},
			Status: corev1.ServiceStatus{LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}}},
		},
		want: &corev1.Service{
			ObjectMeta: slimMetaOf("ns", "web"),
			Spec: corev1.ServiceSpec{
				Type: corev1.ServiceTypeNodePort, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"},
				Ports:        []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}},
				ExternalName: "ex.com", PublishNotReadyAddresses: true,
			},
		},
	}, {
		name: "endpointslice",
		fn:   transformEndpointSlice,
		in: &discoveryv1.EndpointSlice{
			ObjectMeta:  fatMeta("ns", "web-abc"),
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{
				Addresses: []string{"10.1.0.1"}, Hostname: ptr.To("h"), NodeName: ptr.To("node"),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true), Serving: ptr.To(true)},
				TargetRef:  &corev1.ObjectReference{Kind: "Pod", Name: "p"}, Zone: ptr.To("z"),
			}},
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP),
				Port: ptr.To[int32](8080), AppProtocol: ptr.To("http")}},
		},
		want: &discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web-abc", ResourceVersion: "42",
				Labels: map[string]string{discoveryv1.LabelServiceName: "web"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints: []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.1"}, Hostname: ptr.To("h"),
				Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports: []discoveryv1.EndpointPort{{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)}},
		},
	}, {
		name: "endpointslice without service label",
		fn:   transformEndpointSlice,
		in:   &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "x", Labels: map[string]string{"a": "b"}}},
		want: &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "x"}},
	}, {
		name: "endpoints",
		fn:   transformEndpoints,
		in: &corev1.Endpoints{
			ObjectMeta: fatMeta("ns", "web"),
			Subsets: []corev1.EndpointSubset{{
				Addresses: []corev1.EndpointAddress{{IP: "10.1.0.1", Hostname: "h", NodeName: ptr.To("n"),
					TargetRef: &corev1.ObjectReference{Name: "p"}}},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.2", TargetRef: &corev1.ObjectReference{Name: "q"}}},
				Ports:             []corev1.EndpointPort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, AppProtocol: ptr.To("x")}},
			}},
		},
		want: &corev1.Endpoints{
			ObjectMeta: slimMetaOf("ns", "web"),
			Subsets: []corev1.EndpointSubset{{
				Addresses:         []corev1.EndpointAddress{{IP: "10.1.0.1", Hostname: "h"}},
				NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.2"}},
				Ports:             []corev1.EndpointPort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}},
			}},
		},
	}, {
		name: "namespace",
		fn:   transformNamespace,
		in: &corev1.Namespace{ObjectMeta: fatMeta("", "ns"),
			Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		want: &corev1.Namespace{ObjectMeta: slimMetaOf("", "ns")},
	}, {
		name: "pod",
		fn:   transformPod,
		in: &corev1.Pod{ObjectMeta: fatMeta("ns", "p"),
			Spec: corev1.PodSpec{NodeName: "n", Containers: []corev1.Container{{Name: "c", Image: "i"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.1.0.1",
				PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}, {IP: "fd00::1"}}, HostIP: "192.168.0.1"}},
		want: &corev1.Pod{ObjectMeta: slimMetaOf("ns", "p"),
			Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}, {IP: "fd00::1"}}}},
	}, {
		name: "pod with only podIP",
		fn:   transformPod,
		in:   &corev1.Pod{ObjectMeta: fatMeta("ns", "p"), Status: corev1.PodStatus{PodIP: "10.1.0.1"}},
		want: &corev1.Pod{ObjectMeta: slimMetaOf("ns", "p"), Status: corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}}}},
	}, {
		name: "finished pod answers nothing",
		fn:   transformPod,
		in: &corev1.Pod{ObjectMeta: fatMeta("ns", "p"),
			Status: corev1.PodStatus{Phase: corev1.PodSucceeded, PodIP: "10.1.0.1", PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}}}},
		want: &corev1.Pod{ObjectMeta: slimMetaOf("ns", "p")},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.in.DeepCopyObject()
			got, err := tt.fn(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("transform:\n got %#v\nwant %#v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.in, orig) {
				t.Error("transform modified its input")
			}
			again, err := tt.fn(got)
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("transform is not idempotent: %#v", again)
			}
			tomb := cache.DeletedFinalStateUnknown{Key: "ns/x", Obj: tt.in}
			if out, err := tt.fn(tomb); err != nil || !reflect.DeepEqual(out, tomb) {
				t.Errorf("tombstone not passed through: %#v, %v", out, err)
			}
			other := &corev1.ConfigMap{}
			if out, err := tt.fn(other); err != nil || out != any(other) {
				t.Errorf("unexpected type not passed through: %#v, %v", out, err)
			}
		})
	}
}
