package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestProgrammingLatency reads kubedns's DNS programming latency after
// changes made through the real API server: a Service created (measured
// from its creationTimestamp, which the API server sets), an ExternalName
// created, and an EndpointSlice of a headless Service carrying the
// endpoints controller's last-change-trigger-time annotation (set here, as
// no controller runs). The Services in place before kubedns started are the
// first sync, not measured; the headless one is among them, so that its
// slice is the only headless change measured (a headless Service created
// later would be measured too, and its observation could be scraped before
// the slice's, which is made just after the snapshot serving it is stored).
func TestProgrammingLatency(t *testing.T) {
	requireCluster(t)
	const ns = "it-latency"
	createNamespace(t, ns)
	createService(t, clusterIPService(ns, "before", []string{"10.254.104.1"}, port("http", corev1.ProtocolTCP, 80)))
	createService(t, headlessService(ns, "hl", false))
	k := startKubeDNS(t)
	k.waitReady(t)
	series := func(kind string) string {
		return fmt.Sprintf(`kubedns_dns_programming_duration_seconds_count{service_kind=%q}`, kind)
	}
	scrape := func() string {
		body, err := httpGetBody("http://" + k.metrics + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	for _, kind := range []string{"cluster_ip", "headless", "external_name"} {
		if got := metricValue(scrape(), series(kind)); got != 0 {
			t.Errorf("%s after the first sync: %v observations, want 0", kind, got)
		}
	}

	createService(t, clusterIPService(ns, "web", []string{"10.254.104.2"}, port("http", corev1.ProtocolTCP, 80)))
	k.waitAnswer(t, "web."+ns+".svc.cluster.local.", dns.TypeA, "A 10.254.104.2")
	createService(t, externalNameService(ns, "alias", "one.example.com"))
	k.waitAnswer(t, "alias."+ns+".svc.cluster.local.", dns.TypeCNAME, "CNAME one.example.com.")
	s := slice(ns, "hl", "hl", "IPv4", nil, endpoint("", ptr.To(true), "10.30.1.1"))
	s.Annotations = map[string]string{corev1.EndpointsLastChangeTriggerTime: time.Now().Add(-2 * time.Second).Format(time.RFC3339Nano)}
	createSlice(t, s)
	k.waitAnswer(t, "hl."+ns+".svc.cluster.local.", dns.TypeA, "A 10.30.1.1")

	var body string
	if _, err := eventually(5*time.Second, func() error {
		body = scrape()
		for _, kind := range []string{"cluster_ip", "headless", "external_name"} {
			if got := metricValue(body, series(kind)); got < 1 {
				return fmt.Errorf("%s: %v observations", kind, got)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := metricValue(body, series("headless")); got != 1 {
		t.Errorf("headless: %v observations, want the slice's alone", got)
	}
	// The slice's change was 2 s before it was written; the Services'
	// creation times are whole seconds.
	if sum := metricValue(body, `kubedns_dns_programming_duration_seconds_sum{service_kind="headless"}`); sum < 2 || sum > 10 {
		t.Errorf("headless: %vs, want 2 s and a little more", sum)
	}
	for _, kind := range []string{"cluster_ip", "external_name"} {
		if sum := metricValue(body, fmt.Sprintf(`kubedns_dns_programming_duration_seconds_sum{service_kind=%q}`, kind)); sum < 0 || sum > 10 {
			t.Errorf("%s: %vs, want under a few seconds", kind, sum)
		}
	}
	t.Logf("programming latency: cluster_ip %vs, external_name %vs, headless %vs",
		metricValue(body, `kubedns_dns_programming_duration_seconds_sum{service_kind="cluster_ip"}`),
		metricValue(body, `kubedns_dns_programming_duration_seconds_sum{service_kind="external_name"}`),
		metricValue(body, `kubedns_dns_programming_duration_seconds_sum{service_kind="headless"}`))
}
