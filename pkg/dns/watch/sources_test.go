package watch

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

func newClient() *fake.Clientset { return fake.NewClientset() }

func TestEndpointsSource(t *testing.T) {
	tests := []struct {
		source        string
		want, ignored string // resources that must and must not be requested
		addr          string // address served for the Service
	}{
		{SourceEndpointSlices, "endpointslices", "endpoints", "10.1.0.1"},
		{SourceEndpoints, "endpoints", "endpointslices", "10.2.0.1"},
		{"", "endpointslices", "endpoints", "10.1.0.1"},
	}
	for _, tt := range tests {
		t.Run("source="+tt.source, func(t *testing.T) {
			h := startHarness(t, Options{EndpointsSource: tt.source},
				headlessService("default", "web"),
				endpointSlice("default", "web", "web-1", discoveryv1.AddressTypeIPv4, "10.1.0.1"),
				endpoints("default", "web", "10.2.0.1"))
			h.waitAddrs(webName, tt.addr)

			// A live change of the watched resource is served too.
			if tt.want == "endpoints" {
				h.put(endpoints("default", "web", "10.2.0.1", "h=10.2.0.2"))
				h.waitAddrs(webName, "10.2.0.1", "10.2.0.2")
				h.waitAddrs("h."+webName, "10.2.0.2")
			} else {
				h.put(endpointSlice("default", "web", "web-2", discoveryv1.AddressTypeIPv4, "h=10.1.0.2"))
				h.waitAddrs(webName, "10.1.0.1", "10.1.0.2")
				h.waitAddrs("h."+webName, "10.1.0.2")
			}
			if !h.touched(tt.want) {
				t.Errorf("%s never requested", tt.want)
			}
			if h.touched(tt.ignored) {
				t.Errorf("%s requested with source %q", tt.ignored, tt.source)
			}
		})
	}
}

func TestNamespaces(t *testing.T) {
	h := startHarness(t, Options{}, namespace("a"))
	exists := func(name string) func(*records.Snapshot) bool {
		return func(s *records.Snapshot) bool { return s.Lookup(name) != nil }
	}
	if !exists("a.svc." + domain)(h.c.Snapshot()) {
		t.Fatal("namespace a missing from the first snapshot")
	}
	h.put(namespace("b"))
	h.waitFor("namespace b", exists("b.svc."+domain))
	h.del(namespace("a"))
	h.waitFor("namespace a to go", func(s *records.Snapshot) bool { return !exists("a.svc." + domain)(s) })
	if !exists("b.svc." + domain)(h.c.Snapshot()) {
		t.Error("namespace b gone")
	}
}

func TestPods(t *testing.T) {
	const podName = "10-1-2-3.default.pod." + domain
	for _, mode := range []records.PodMode{records.PodsInsecure, records.PodsVerified, records.PodsDisabled} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg := &records.Config{Domain: domain, TTL: 30, Pods: mode}
			h := startHarness(t, Options{Records: cfg}, namespace("default"), pod("default", "p", "10.1.2.3"))
			if got := h.touched("pods"); got != (mode == records.PodsVerified) {
				t.Fatalf("pods requested = %v in %s mode", got, mode)
			}
			if mode != records.PodsVerified {
				if h.c.Snapshot().Lookup(podName) != nil {
					t.Errorf("%s has records in %s mode", podName, mode)
				}
				return
			}
			h.waitAddrs(podName, "10.1.2.3")
			h.del(pod("default", "p"))
			h.waitFor("pod name to go", func(s *records.Snapshot) bool { return s.Lookup(podName) == nil })
			h.put(pod("default", "q", "10.1.2.4", "fd00::4"))
			h.waitAddrs("10-1-2-4.default.pod."+domain, "10.1.2.4")
			h.waitAddrs("fd00--4.default.pod."+domain, "fd00::4")
		})
	}
}

// A pod update that leaves the addresses alone marks nothing.
func TestPodIPsChanged(t *testing.T) {
	p := pod("ns", "p", "10.0.0.1")
	p.ResourceVersion = "1"
	q := p.DeepCopy()
	q.ResourceVersion = "2"
	q.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	if podIPsChanged(slimObj(t, p), slimObj(t, q)) {
		t.Error("status churn counted as a change")
	}
	r := q.DeepCopy()
	r.ResourceVersion = "3"
	r.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.2"}}
	if !podIPsChanged(slimObj(t, q), slimObj(t, r)) {
		t.Error("new address not counted as a change")
	}
	done := r.DeepCopy()
	done.ResourceVersion = "4"
	done.Status.Phase = corev1.PodSucceeded
	if !podIPsChanged(slimObj(t, r), slimObj(t, done)) {
		t.Error("a pod finishing not counted as a change")
	}
}
