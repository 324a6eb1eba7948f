package watch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"
)

const webName = "web.default.svc." + domain

func TestNewValidation(t *testing.T) {
	cfg := &records.Config{Domain: domain}
	tests := []struct {
		name string
		opts Options
		ok   bool
	}{
		{"default source", Options{Records: cfg}, true},
		{"endpointslices", Options{Records: cfg, EndpointsSource: SourceEndpointSlices}, true},
		{"endpoints", Options{Records: cfg, EndpointsSource: SourceEndpoints}, true},
		{"unknown source", Options{Records: cfg, EndpointsSource: "pods"}, false},
		{"no records config", Options{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(fakeapi.New(t, newClient()), tt.opts)
			if (err == nil) != tt.ok {
				t.Fatalf("New: err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "watch: ") {
				t.Errorf("error %q lacks the watch: prefix", err)
			}
		})
	}
	t.Run("metrics registered twice", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		if _, err := New(fakeapi.New(t, newClient()), Options{Records: cfg, Registerer: reg}); err != nil {
			t.Fatal(err)
		}
		if _, err := New(fakeapi.New(t, newClient()), Options{Records: cfg, Registerer: reg}); err == nil {
			t.Fatal("second registration on one registry succeeded")
		}
	})
}

func TestClusterIPServiceLifecycle(t *testing.T) {
	h := startHarness(t, Options{})
	if addrsOf(h.c.Snapshot(), webName) != nil {
		t.Fatal("records before the Service exists")
	}
	svc := clusterIPService("default", "web", "10.0.0.1")
	h.put(svc)
	h.waitAddrs(webName, "10.0.0.1")
	if srv := h.c.Snapshot().Lookup("_http._tcp." + webName); srv == nil || len(srv.RRs(dns.TypeSRV)) != 1 {
		t.Errorf("no SRV record for the named port: %v", srv)
	}

	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.0.0.2", []string{"10.0.0.2", "fd00::2"}
	h.put(svc)
	h.waitAddrs(webName, "10.0.0.2", "fd00::2")

	h.del(svc)
	h.waitFor("the Service's name to go", func(s *records.Snapshot) bool { return s.Lookup(webName) == nil })
}

func TestReadiness(t *testing.T) {
	var released atomic.Bool
	h := newHarness(t, Options{})
	// Fail the Service list (the reflector retries with backoff) until released.
	// A reactor must not block: the fake client holds its lock while reacting.
	h.client.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		if released.Load() {
			return false, nil, nil
		}
		return true, nil, apierrors.NewServiceUnavailable("not yet")
	})
	h.run()
	h.poll("services list", func() bool { return h.touched("services") })
	if h.c.Ready() || h.c.Snapshot() != nil {
		t.Fatal("ready before the caches synced")
	}
	released.Store(true)
	h.poll("ready", h.c.Ready)
	if h.c.Snapshot() == nil {
		t.Fatal("ready without a snapshot")
	}
	if s := h.c.Snapshot(); s.Lookup(domain) == nil || s.SOA(domain) == nil {
		t.Error("the first snapshot lacks the zone apex")
	}
}

func TestInitialSyncTimeout(t *testing.T) {
	client := newClient()
	client.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("no RBAC"))
	})
	c, err := New(fakeapi.New(t, client), Options{Records: &records.Config{Domain: domain}, InitialSyncTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "services") || strings.Contains(err.Error(), "namespaces") {
		t.Fatalf("Run = %v, want an error naming only services", err)
	}
	if c.Ready() {
		t.Error("ready after a failed sync")
	}
}

// TestAPIErrorsNotRetried: errors that are no outage (an untrusted
// certificate, a missing permission) are counted by resource and cause, left
// to the reflector (so not called again at once) and keep the caches unsynced.
func TestAPIErrorsNotRetried(t *testing.T) {
	client := newClient()
	var serviceLists atomic.Int32
	client.PrependReactor("list", "services", func(k8stesting.Action) (bool, runtime.Object, error) {
		serviceLists.Add(1)
		return true, nil, &url.Error{Op: "Get", URL: "https://10.254.0.1/api/v1/services",
			Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}
	})
	client.PrependReactor("list", "namespaces", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "", errors.New("no RBAC"))
	})
	reg := prometheus.NewPedanticRegistry()
	c, err := New(fakeapi.New(t, client), Options{Records: &records.Config{Domain: domain},
		InitialSyncTimeout: 300 * time.Millisecond, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "services, namespaces") || strings.Contains(err.Error(), "endpointslices") {
		t.Fatalf("Run = %v, want an error naming services and namespaces", err)
	}
	// client-go's reflector waits at least 0.8 s before it lists again.
	if n := serviceLists.Load(); n != 1 {
		t.Errorf("services listed %d times in 300 ms, want once", n)
	}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"kubedns_api_errors_total", map[string]string{"resource": "services", "cause": "tls"}, 1},
		{"kubedns_api_errors_total", map[string]string{"resource": "namespaces", "cause": "forbidden"}, 1},
		{"kubedns_api_errors_total", map[string]string{"resource": "endpointslices", "cause": "tls"}, 0},
		{"kubedns_api_unreachable", map[string]string{"resource": "services"}, 0},
	} {
		if got, ok := gathered(t, reg, tc.name, tc.labels); !ok || got != tc.want {
			t.Errorf("%s%v = %v (present: %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

// gathered returns the value of the counter or gauge name{labels} in reg.
func gathered(t *testing.T, reg prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

func TestServiceKindChanges(t *testing.T) {
	h := startHarness(t, Options{})
	h.put(endpointSlice("default", "web", "web-1", discoveryv1.AddressTypeIPv4, "web-0=10.1.0.1", "=10.1.0.2"))
	svc := clusterIPService("default", "web", "10.0.0.1")
	h.put(svc)
	h.waitAddrs(webName, "10.0.0.1")

	svc = headlessService("default", "web")
	h.put(svc)
	h.waitAddrs(webName, "10.1.0.1", "10.1.0.2")
	if got := addrsOf(h.c.Snapshot(), "web-0."+webName); len(got) != 1 || got[0] != "10.1.0.1" {
		t.Errorf("hostname endpoint answers %v", got)
	}
	if got := addrsOf(h.c.Snapshot(), "10-1-0-2."+webName); len(got) != 1 {
		t.Errorf("dashed endpoint answers %v", got)
	}

	h.put(externalService("default", "web", "example.com"))
	h.waitFor("CNAME", func(s *records.Snapshot) bool {
		n := s.Lookup(webName)
		if n == nil || len(n.RRs(dns.TypeCNAME)) != 1 {
			return false
		}
		return n.RRs(dns.TypeCNAME)[0].(*dns.CNAME).Target == "example.com." && len(addrsOf(s, webName)) == 0
	})
	if s := h.c.Snapshot(); s.Lookup("web-0."+webName) != nil {
		t.Error("endpoint names survived the change to ExternalName")
	}
}

func TestSlicesMerged(t *testing.T) {
	h := startHarness(t, Options{})
	h.put(headlessService("default", "web"))
	h.put(endpointSlice("default", "web", "web-v4a", discoveryv1.AddressTypeIPv4, "a=10.1.0.1"))
	h.put(endpointSlice("default", "web", "web-v4b", discoveryv1.AddressTypeIPv4, "b=10.1.0.2"))
	h.put(endpointSlice("default", "web", "web-v6", discoveryv1.AddressTypeIPv6, "a=fd00::1"))
	h.put(endpointSlice("default", "other", "other-1", discoveryv1.AddressTypeIPv4, "10.9.0.1"))
	h.waitAddrs(webName, "10.1.0.1", "10.1.0.2", "fd00::1")
	if got := addrsOf(h.c.Snapshot(), "a."+webName); len(got) != 2 {
		t.Errorf("a.%s answers %v, want its v4 and v6 addresses", webName, got)
	}
	srv := h.c.Snapshot().Lookup("_http._tcp." + webName)
	if srv == nil || len(srv.RRs(dns.TypeSRV)) != 2 {
		t.Errorf("want one SRV record per endpoint name, got %v", srv)
	}

	h.del(endpointSlice("default", "web", "web-v4b", discoveryv1.AddressTypeIPv4))
	h.waitAddrs(webName, "10.1.0.1", "fd00::1")
}

func TestSlicesWithoutService(t *testing.T) {
	h := startHarness(t, Options{})
	a := endpointSlice("default", "web", "web-a", discoveryv1.AddressTypeIPv4, "10.1.0.1")
	b := endpointSlice("default", "web", "web-b", discoveryv1.AddressTypeIPv4, "10.1.0.2")
	h.put(a)
	h.put(b)
	h.poll("slices cached", func() bool {
		return len(h.c.slices.byServiceKey("default/web")) == 2
	})
	if h.c.Snapshot().Lookup(webName) != nil {
		t.Fatal("records for slices without a Service")
	}
	h.put(headlessService("default", "web"))
	h.waitAddrs(webName, "10.1.0.1", "10.1.0.2")

	// Deleting the Service first leaves no records, whatever the slices do
	// next (sync_test.go checks the same without goroutines).
	h.del(headlessService("default", "web"))
	h.waitFor("the Service's names to go", func(s *records.Snapshot) bool { return s.Lookup(webName) == nil })
	b.Endpoints[0].Addresses = []string{"10.1.0.3"}
	h.put(b)
	h.del(a)
	h.put(clusterIPService("default", "later", "10.0.0.9"))
	h.waitAddrs("later.default.svc."+domain, "10.0.0.9")
	if s := h.c.Snapshot(); s.Lookup(webName) != nil || s.Lookup("10-1-0-3."+webName) != nil {
		t.Fatal("records left after the Service was deleted")
	}
}

func TestUnchangedResourceVersionPublishesNothing(t *testing.T) {
	h := startHarness(t, Options{})
	svc := clusterIPService("default", "web", "10.0.0.1")
	h.put(svc)
	h.waitAddrs(webName, "10.0.0.1")
	h.poll("publish counted", func() bool { return h.publishes() >= 2 })
	before := h.publishes()

	// Same resourceVersion, different content: an update the API server
	// would never send, so it shows the update was dropped unseen.
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = "10.0.0.2", []string{"10.0.0.2"}
	h.write(svc)
	// The Service informer delivers events in order: once the next object is
	// served, the update above has been handled.
	h.put(clusterIPService("default", "next", "10.0.0.3"))
	h.waitAddrs("next.default.svc."+domain, "10.0.0.3")
	h.poll("publish counted", func() bool { return h.publishes() >= before+1 })
	if got := addrsOf(h.c.Snapshot(), webName); len(got) != 1 || got[0] != "10.0.0.1" {
		t.Errorf("%s answers %v after a same-version update", webName, got)
	}
	if got := h.publishes(); got != before+1 {
		t.Errorf("%d publishes, want %d", got, before+1)
	}
}

func TestSerialIncreases(t *testing.T) {
	h := startHarness(t, Options{})
	for i, ip := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"} {
		h.put(clusterIPService("default", "web", ip))
		h.waitAddrs(webName, ip)
		h.poll("publish counted", func() bool { return h.publishes() >= i+2 })
	}
	h.mu.Lock()
	serials := append([]uint32(nil), h.serials...)
	h.mu.Unlock()
	for i := 1; i < len(serials); i++ {
		if serials[i] <= serials[i-1] {
			t.Fatalf("serials not strictly increasing: %v", serials)
		}
	}
	s := h.c.Snapshot()
	if soa := s.SOA(domain); soa == nil || soa.Serial != s.Serial() || s.Serial() != serials[len(serials)-1] {
		t.Errorf("SOA serial %v does not match snapshot serial %d", soa, s.Serial())
	}
}

func TestMetrics(t *testing.T) {
	h := startHarness(t, Options{})
	h.put(clusterIPService("default", "web", "10.0.0.1"))
	h.waitAddrs(webName, "10.0.0.1")
	h.poll("publish counted", func() bool { return h.publishes() >= 2 })
	m := h.c.metrics
	if got := testutil.ToFloat64(m.publishes); got < 2 {
		t.Errorf("publishes = %v, want >= 2", got)
	}
	if got := testutil.ToFloat64(m.names); got != float64(h.c.Snapshot().Len()) {
		t.Errorf("names = %v, want %d", got, h.c.Snapshot().Len())
	}
	counts := histogramCounts(t, h.reg)
	if counts["kubedns_snapshot_build_duration_seconds"] < 2 {
		t.Errorf("build duration observed %d times, want >= 2", counts["kubedns_snapshot_build_duration_seconds"])
	}
	if counts["kubedns_watch_event_to_publish_duration_seconds"] < 1 {
		t.Error("watch event to publish duration not observed")
	}
}

func histogramCounts(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if hist := m.GetHistogram(); hist != nil {
				out[mf.GetName()] += hist.GetSampleCount()
			}
		}
	}
	return out
}

// TestFirstSnapshotIsComplete preloads the API with Services of every kind,
// slices and namespaces, and checks that the first snapshot published
// already answers all of them: readiness must never come with a partial view.
func TestFirstSnapshotIsComplete(t *testing.T) {
	var objs []runtime.Object
	for i := range 300 {
		ns := fmt.Sprintf("ns%d", i%7)
		name := fmt.Sprintf("svc-%d", i)
		switch i % 3 {
		case 0:
			objs = append(objs, clusterIPService(ns, name, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)))
		case 1:
			objs = append(objs, headlessService(ns, name),
				endpointSlice(ns, name, name+"-a", discoveryv1.AddressTypeIPv4, fmt.Sprintf("web=10.1.%d.%d", i/250, i%250+1)))
		default:
			objs = append(objs, externalService(ns, name, "example.com"))
		}
	}
	objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "empty-ns"}})
	var firstSnap atomic.Pointer[records.Snapshot]
	h := newHarness(t, Options{})
	h.client = fake.NewClientset(objs...)
	c, err := New(fakeapi.New(h.t, h.client), Options{Records: &records.Config{Domain: domain, TTL: 30, Pods: records.PodsDisabled},
		Notify: func() { firstSnap.CompareAndSwap(nil, h.c.Snapshot()) }})
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	h.run()
	h.poll("first snapshot", func() bool { return firstSnap.Load() != nil })
	first := firstSnap.Load()
	for i := range 300 {
		ns, name := fmt.Sprintf("ns%d", i%7), fmt.Sprintf("svc-%d", i)
		fqdn := name + "." + ns + ".svc." + domain
		n := first.Lookup(fqdn)
		switch {
		case n == nil:
			t.Fatalf("%s is missing from the first snapshot", fqdn)
		case i%3 == 1 && first.Lookup("web."+fqdn) == nil:
			t.Fatalf("the endpoint of %s is missing from the first snapshot", fqdn)
		}
	}
	if first.Lookup("empty-ns.svc."+domain) == nil {
		t.Error("namespace empty-ns is missing from the first snapshot")
	}
}
