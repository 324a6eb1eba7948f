package watch

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// programmingLatency returns the count and sum of the programming latency
// histogram of each service kind.
func programmingLatency(t *testing.T, h *harness) map[string][2]float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "kubedns_dns_programming_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[labelOf(m, "service_kind")] = [2]float64{float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()}
		}
	}
	return out
}

func labelOf(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// TestProgrammingLatency: each kind of Service is measured from the change's
// time in the API: the endpoints' last-change-trigger-time, a Service's
// creation; the first sync and changes with no time are not measured.
func TestProgrammingLatency(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	initial := endpointSlice("default", "hl", "hl-1", discoveryv1.AddressTypeIPv4, "a=10.1.0.1")
	initial.Annotations = map[string]string{corev1.EndpointsLastChangeTriggerTime: old.Format(time.RFC3339Nano)}
	h := startHarness(t, Options{}, headlessService("default", "hl"), initial)
	for kind, got := range programmingLatency(t, h) {
		if got[0] != 0 {
			t.Errorf("%s: %v observed at the first sync", kind, got)
		}
	}

	// A slice changed 3 s ago (by the API's clock), a Service created 2 s
	// ago, an ExternalName created 5 s ago.
	slice := endpointSlice("default", "hl", "hl-1", discoveryv1.AddressTypeIPv4, "a=10.1.0.2")
	slice.Annotations = map[string]string{corev1.EndpointsLastChangeTriggerTime: time.Now().Add(-3 * time.Second).Format(time.RFC3339Nano)}
	h.put(slice)
	h.waitAddrs("a.hl.default.svc."+domain, "10.1.0.2")
	web := clusterIPService("default", "web", "10.0.0.1")
	web.CreationTimestamp = metav1.NewTime(time.Now().Add(-2 * time.Second))
	h.put(web)
	h.waitAddrs(webName, "10.0.0.1")
	// An update of a Service carries no time: not measured.
	web2 := clusterIPService("default", "web", "10.0.0.9")
	web2.CreationTimestamp = web.CreationTimestamp
	h.put(web2)
	h.waitAddrs(webName, "10.0.0.9")
	ext := externalService("default", "ext", "example.com")
	ext.CreationTimestamp = metav1.NewTime(time.Now().Add(-5 * time.Second))
	h.put(ext)
	// Publishes, and their observations, come one after the other: once
	// the last is counted, the others are.
	h.poll("the ExternalName measured", func() bool { return programmingLatency(t, h)["external_name"][0] >= 1 })

	got := programmingLatency(t, h)
	for kind, want := range map[string][2]float64{"headless": {1, 3}, "cluster_ip": {1, 2}, "external_name": {1, 5}} {
		g := got[kind]
		// Creation times have whole seconds: up to 1 s more.
		if g[0] != want[0] || g[1] < want[1]-0.1 || g[1] > want[1]+1.5 {
			t.Errorf("%s: %v observations summing %.3fs; want %v near %vs", kind, g[0], g[1], want[0], want[1])
		}
	}
}
