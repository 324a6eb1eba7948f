package fromclientset

import (
	"context"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

func slim(t *testing.T, obj runtime.Object) runtime.Object {
	t.Helper()
	s, ok := kubeclient.Slim(obj)
	if !ok {
		t.Fatalf("no slim type for %T", obj)
	}
	return s
}

func TestList(t *testing.T) {
	ready := true
	port := int32(53)
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-dns"}},
		Spec: corev1.ServiceSpec{ClusterIP: "10.0.0.10", ClusterIPs: []string{"10.0.0.10"}, Type: corev1.ServiceTypeClusterIP,
			Ports: []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: "kube-dns-x1", Namespace: "kube-system", Labels: map[string]string{discoveryv1.LabelServiceName: "kube-dns"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.1.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: &ready}}},
		Ports:       []discoveryv1.EndpointPort{{Port: &port}},
	}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns", Namespace: "kube-system"}, Data: map[string]string{"a": "b"}}
	client := New(fake.NewClientset(svc, slice, cm))

	tests := []struct {
		resource string
		want     []runtime.Object
	}{
		{resource: "services", want: []runtime.Object{slim(t, svc)}},
		{resource: "endpointslices", want: []runtime.Object{slim(t, slice)}},
		{resource: "configmaps", want: []runtime.Object{cm}},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			lw := client.ListWatch(tc.resource, "kube-system", "")
			if u, ok := lw.(interface{ IsWatchListSemanticsUnSupported() bool }); !ok || !u.IsWatchListSemanticsUnSupported() {
				t.Error("the adapter does not tell reflectors that the fake clientset cannot stream lists")
			}
			list, err := cache.ToListerWatcherWithContext(lw).ListWithContext(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			items, err := meta.ExtractList(list)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(items, tc.want) {
				t.Errorf("listed %#v\nwant %#v", items, tc.want)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, err := cache.ToListerWatcherWithContext(client.ListWatch("nodes", "", "")).ListWithContext(context.Background(), metav1.ListOptions{}); err == nil {
			t.Error("listing an unknown resource succeeded")
		}
	})
}

func TestWatch(t *testing.T) {
	cs := fake.NewClientset()
	lw := cache.ToListerWatcherWithContext(New(cs).ListWatch("services", "shop", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := lw.WatchWithContext(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: corev1.ServiceSpec{ClusterIP: "None"}}
	if _, err := cs.CoreV1().Services("shop").Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-w.ResultChan():
		got, ok := ev.Object.(*kubeclient.Service)
		if ev.Type != watch.Added || !ok {
			t.Fatalf("event %s %T, want ADDED *kubeclient.Service", ev.Type, ev.Object)
		}
		if got.Name != "web" || got.Namespace != "shop" || got.ClusterIP != "None" {
			t.Errorf("got %#v", got)
		}
	case <-ctx.Done():
		t.Fatal("no watch event after Create")
	}
}
