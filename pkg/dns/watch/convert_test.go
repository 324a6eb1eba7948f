package watch

import (
	"net/netip"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// slim returns what the client delivers for an API object: the tests below
// state their cases as API objects.
func slim[T any](t *testing.T, obj runtime.Object) T {
	t.Helper()
	out, ok := kubeclient.Slim(obj)
	if !ok {
		t.Fatalf("kubeclient.Slim(%T) failed", obj)
	}
	return out.(T)
}

func addrs(t *testing.T, ss ...string) []netip.Addr {
	t.Helper()
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestConvertService(t *testing.T) {
	meta := metav1.ObjectMeta{Namespace: "ns", Name: "web"}
	tests := []struct {
		name string
		spec corev1.ServiceSpec
		want records.Service
	}{{
		name: "cluster IP dual stack with ports",
		spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1", "fd00::1"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80}, {Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}},
		},
		want: records.Service{Kind: records.ClusterIP, ClusterIPs: addrs(t, "10.0.0.1", "fd00::1"),
			Ports: []records.Port{{Name: "http", Protocol: "tcp", Port: 80}, {Name: "dns", Protocol: "udp", Port: 53}}},
	}, {
		name: "clusterIP fallback when clusterIPs is empty",
		spec: corev1.ServiceSpec{ClusterIP: "10.0.0.2"},
		want: records.Service{Kind: records.ClusterIP, ClusterIPs: addrs(t, "10.0.0.2")},
	}, {
		name: "unparsable and empty cluster IPs skipped",
		spec: corev1.ServiceSpec{ClusterIP: "bogus", ClusterIPs: []string{"bogus", "", "fe80::1%eth0", "10.0.0.3"}},
		want: records.Service{Kind: records.ClusterIP, ClusterIPs: addrs(t, "10.0.0.3")},
	}, {
		name: "no cluster IP at all",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort},
		want: records.Service{Kind: records.ClusterIP},
	}, {
		name: "load balancer is a cluster IP service",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, ClusterIPs: []string{"10.0.0.4"},
			Ports: []corev1.ServicePort{{Protocol: corev1.ProtocolSCTP, Port: 9}}},
		want: records.Service{Kind: records.ClusterIP, ClusterIPs: addrs(t, "10.0.0.4"),
			Ports: []records.Port{{Protocol: "sctp", Port: 9}}},
	}, {
		name: "headless",
		spec: corev1.ServiceSpec{ClusterIP: "None", ClusterIPs: []string{"None"}, PublishNotReadyAddresses: true,
			Ports: []corev1.ServicePort{{Name: "p", Port: 1}}},
		want: records.Service{Kind: records.Headless, PublishNotReady: true,
			Ports: []records.Port{{Name: "p", Protocol: "tcp", Port: 1}}},
	}, {
		name: "headless from clusterIPs only",
		spec: corev1.ServiceSpec{ClusterIPs: []string{"None"}},
		want: records.Service{Kind: records.Headless},
	}, {
		name: "external name wins over cluster IP",
		spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "example.com", ClusterIP: "10.0.0.5"},
		want: records.Service{Kind: records.ExternalName, ExternalName: "example.com"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := convertService(slim[*kubeclient.Service](t, &corev1.Service{ObjectMeta: meta, Spec: tt.spec}))
			want := tt.want
			want.Namespace, want.Name = "ns", "web"
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("convertService:\n got %+v\nwant %+v", *got, want)
			}
		})
	}
}

func TestConvertSlices(t *testing.T) {
	slice := func(at discoveryv1.AddressType, eps []discoveryv1.Endpoint, ports ...discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
		return &discoveryv1.EndpointSlice{AddressType: at, Endpoints: eps, Ports: ports}
	}
	tests := []struct {
		name string
		in   []*discoveryv1.EndpointSlice
		want []records.EndpointSet
	}{{
		name: "none",
	}, {
		name: "readiness",
		in: []*discoveryv1.EndpointSlice{slice(discoveryv1.AddressTypeIPv4, []discoveryv1.Endpoint{
			{Addresses: []string{"10.1.0.1"}},
			{Addresses: []string{"10.1.0.2"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}},
			{Addresses: []string{"10.1.0.3"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(false)}},
		})},
		want: []records.EndpointSet{{Endpoints: []records.Endpoint{
			{Addresses: addrs(t, "10.1.0.1"), Ready: true},
			{Addresses: addrs(t, "10.1.0.2"), Ready: true},
			{Addresses: addrs(t, "10.1.0.3"), Ready: false},
		}}},
	}, {
		name: "ports",
		in: []*discoveryv1.EndpointSlice{slice(discoveryv1.AddressTypeIPv6, nil,
			discoveryv1.EndpointPort{Port: ptr.To[int32](80)},
			discoveryv1.EndpointPort{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
			discoveryv1.EndpointPort{Name: ptr.To("nonumber")},
		)},
		want: []records.EndpointSet{{Ports: []records.Port{
			{Protocol: "tcp", Port: 80}, {Name: "dns", Protocol: "udp", Port: 53},
		}}},
	}, {
		name: "hostname, bad addresses, FQDN slice skipped, several slices",
		in: []*discoveryv1.EndpointSlice{
			slice(discoveryv1.AddressTypeIPv4, []discoveryv1.Endpoint{
				{Addresses: []string{"10.1.0.1", "nope"}, Hostname: ptr.To("db-0")},
				{Addresses: []string{"bad"}},
			}),
			slice(discoveryv1.AddressTypeFQDN, []discoveryv1.Endpoint{{Addresses: []string{"example.com"}}}),
			slice(discoveryv1.AddressTypeIPv6, []discoveryv1.Endpoint{{Addresses: []string{"fd00::2"}}}),
		},
		want: []records.EndpointSet{
			{Endpoints: []records.Endpoint{{Addresses: addrs(t, "10.1.0.1"), Hostname: "db-0", Ready: true}}},
			{Endpoints: []records.Endpoint{{Addresses: addrs(t, "fd00::2"), Ready: true}}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []*kubeclient.EndpointSlice
			for _, s := range tt.in {
				in = append(in, slim[*kubeclient.EndpointSlice](t, s))
			}
			if got := convertSlices(in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convertSlices:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConvertEndpoints(t *testing.T) {
	tests := []struct {
		name string
		in   *corev1.Endpoints
		want []records.EndpointSet
	}{{
		name: "nil",
	}, {
		name: "subsets",
		in: &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
			Addresses:         []corev1.EndpointAddress{{IP: "10.1.0.1", Hostname: "a"}, {IP: "junk"}},
			NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.1.0.2"}},
			Ports:             []corev1.EndpointPort{{Name: "http", Port: 80}, {Port: 53, Protocol: corev1.ProtocolUDP}},
		}, {
			Addresses: []corev1.EndpointAddress{{IP: "fd00::1"}},
		}}},
		want: []records.EndpointSet{{
			Ports: []records.Port{{Name: "http", Protocol: "tcp", Port: 80}, {Protocol: "udp", Port: 53}},
			Endpoints: []records.Endpoint{
				{Addresses: addrs(t, "10.1.0.1"), Hostname: "a", Ready: true},
				{Addresses: addrs(t, "10.1.0.2"), Ready: false},
			},
		}, {
			Endpoints: []records.Endpoint{{Addresses: addrs(t, "fd00::1"), Ready: true}},
		}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in *kubeclient.Endpoints
			if tt.in != nil {
				in = slim[*kubeclient.Endpoints](t, tt.in)
			}
			if got := convertEndpoints(in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("convertEndpoints:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestConvertPods(t *testing.T) {
	pod := func(ns string, ips ...string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns}}
		for _, ip := range ips {
			p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
		}
		return p
	}
	finished := func(p *corev1.Pod, phase corev1.PodPhase) *corev1.Pod {
		p.Status.Phase = phase
		return p
	}
	oldAPI := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "d"}, Status: corev1.PodStatus{PodIP: "10.0.0.4"}}
	var in []any
	for _, p := range []*corev1.Pod{
		pod("b", "10.0.0.2"),
		pod("a", "10.0.0.9", "fd00::9"),
		pod("a", "10.0.0.1", "bad"),
		pod("a", "10.0.0.1"), // host-network pods share an address
		pod("c"),
		oldAPI, // only status.podIP set
		// A finished pod's address may already be another pod's: it answers nothing.
		finished(pod("e", "10.0.0.5"), corev1.PodSucceeded),
		finished(pod("e", "10.0.0.6"), corev1.PodFailed),
		finished(pod("e", "10.0.0.7"), corev1.PodRunning),
	} {
		in = append(in, slim[*kubeclient.Pod](t, p))
	}
	got := convertPods(in)
	want := []records.Pod{
		{Namespace: "a", IP: netip.MustParseAddr("10.0.0.1")},
		{Namespace: "a", IP: netip.MustParseAddr("10.0.0.9")},
		{Namespace: "a", IP: netip.MustParseAddr("fd00::9")},
		{Namespace: "b", IP: netip.MustParseAddr("10.0.0.2")},
		{Namespace: "d", IP: netip.MustParseAddr("10.0.0.4")},
		{Namespace: "e", IP: netip.MustParseAddr("10.0.0.7")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("convertPods:\n got %v\nwant %v", got, want)
	}
}
