package watch

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

const clusterset = "clusterset.local."

func mcConfig() *records.Config {
	return &records.Config{Domain: domain, TTL: 30, Pods: records.PodsDisabled, Multicluster: clusterset}
}

func serviceImport(ns, name string, typ mcsv1alpha1.ServiceImportType, ips ...string) *mcsv1alpha1.ServiceImport {
	return &mcsv1alpha1.ServiceImport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: mcsv1alpha1.ServiceImportSpec{Type: typ, IPs: ips,
			Ports: []mcsv1alpha1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}}}}
}

// importSlice is an EndpointSlice an MCS controller writes for the import
// svc from cluster.
func importSlice(ns, svc, cluster, name string, eps ...string) *discoveryv1.EndpointSlice {
	s := endpointSlice(ns, svc, name, discoveryv1.AddressTypeIPv4, eps...)
	s.Labels = map[string]string{mcsv1alpha1.LabelServiceName: svc, mcsv1alpha1.LabelSourceCluster: cluster}
	return s
}

// TestImports follows ServiceImports and their slices through creation,
// update and deletion into the multicluster zone, offline.
func TestImports(t *testing.T) {
	o := newOffline(t, Options{Records: mcConfig()})
	const db, hl = "db.ns1.svc.clusterset.local.", "hl.ns1.svc.clusterset.local."

	o.put(serviceImport("ns1", "db", mcsv1alpha1.ClusterSetIP, "10.9.0.1"))
	if !o.sync(false) || !slices.Equal(o.addrs(db), []string{"10.9.0.1"}) {
		t.Fatalf("ClusterSetIP import answers %v", o.addrs(db))
	}
	o.put(serviceImport("ns1", "db", mcsv1alpha1.ClusterSetIP, "10.9.0.2"))
	if !o.sync(false) || !slices.Equal(o.addrs(db), []string{"10.9.0.2"}) {
		t.Fatalf("updated import answers %v", o.addrs(db))
	}

	// Headless: slices from two clusters, arriving before the import.
	a := importSlice("ns1", "hl", "cluster-a", "hl-a", "pet-0=10.8.0.1")
	b := importSlice("ns1", "hl", "cluster-b", "hl-b", "pet-0=10.8.1.1")
	o.put(a)
	o.put(b)
	o.sync(false)
	if got := o.addrs(hl); len(got) != 0 {
		t.Fatalf("slices without their import answer %v", got)
	}
	o.put(serviceImport("ns1", "hl", mcsv1alpha1.Headless))
	o.sync(false)
	if got := o.addrs(hl); !slices.Equal(got, []string{"10.8.0.1", "10.8.1.1"}) {
		t.Fatalf("headless import answers %v", got)
	}
	if got := o.addrs("pet-0.cluster-b.hl.ns1.svc.clusterset.local."); !slices.Equal(got, []string{"10.8.1.1"}) {
		t.Fatalf("endpoint of cluster-b answers %v", got)
	}
	// A slice of the cluster-domain Service of the same name is not the
	// import's, nor the import's slice the Service's.
	o.put(headlessService("ns1", "hl"))
	o.put(endpointSlice("ns1", "hl", "hl-local", discoveryv1.AddressTypeIPv4, "=10.1.0.1"))
	o.sync(false)
	if got := o.addrs("hl.ns1.svc.cluster.local."); !slices.Equal(got, []string{"10.1.0.1"}) {
		t.Errorf("the cluster Service answers %v", got)
	}
	if got := o.addrs(hl); !slices.Equal(got, []string{"10.8.0.1", "10.8.1.1"}) {
		t.Errorf("the import answers %v after the local slice", got)
	}
	// An endpoint turning not ready leaves; a deleted slice takes its cluster.
	b.Endpoints[0].Conditions.Ready = ptr.To(false)
	o.put(b)
	o.sync(false)
	if got := o.addrs(hl); !slices.Equal(got, []string{"10.8.0.1"}) {
		t.Errorf("after cluster-b's endpoint is not ready: %v", got)
	}
	o.del(a)
	o.sync(false)
	if n := o.c.Snapshot().Lookup(hl); n != nil {
		t.Errorf("an import without ready endpoints still exists: %v", n.Sets())
	}
	o.del(serviceImport("ns1", "db", mcsv1alpha1.ClusterSetIP))
	o.sync(false)
	if n := o.c.Snapshot().Lookup(db); n != nil {
		t.Errorf("a deleted import still exists")
	}
	// A full resync removes nothing that exists and restores nothing gone.
	if o.sync(true) {
		t.Error("a resync of an unchanged state published")
	}
}

// TestImportLatency checks that programming latency is measured for imports
// with their own kinds.
func TestImportLatency(t *testing.T) {
	o := newOffline(t, Options{Records: mcConfig()})
	imp := serviceImport("ns1", "hl", mcsv1alpha1.Headless)
	o.put(imp)
	s := importSlice("ns1", "hl", "cluster-a", "hl-a", "=10.8.0.1")
	s.Annotations = map[string]string{"endpoints.kubernetes.io/last-change-trigger-time": time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)}
	o.put(s)
	o.sync(false)
	h := o.c.metrics.programming.WithLabelValues(kindClustersetHeadless)
	if n := histogramCount(t, h); n != 1 {
		t.Errorf("clusterset_headless programming latency observed %d times, want 1", n)
	}
}

// TestNoImportsWithoutZone checks that without the multicluster zone no
// ServiceImport is watched.
func TestNoImportsWithoutZone(t *testing.T) {
	h := startHarness(t, Options{})
	for _, r := range h.c.watched {
		if r.name == "serviceimports" {
			t.Fatal("serviceimports watched without the multicluster zone")
		}
	}
	if h.touched("serviceimports") {
		t.Error("the client was asked for serviceimports")
	}
}

// TestImportsCRDMissing runs the Controller against an API server without
// the ServiceImport CRD: the cluster domain is served, the zone's own
// records too, and the missing resource does not hold up readiness.
func TestImportsCRDMissing(t *testing.T) {
	h := newHarness(t, Options{Records: mcConfig()}, clusterIPService("default", "web", "10.0.0.1"))
	h.run()
	h.poll("ready", h.c.Ready)
	if got := addrsOf(h.c.Snapshot(), "web.default.svc.cluster.local."); !slices.Equal(got, []string{"10.0.0.1"}) {
		t.Errorf("cluster domain answers %v", got)
	}
	n := h.c.Snapshot().Lookup("dns-version." + clusterset)
	if n == nil || !strings.Contains(n.RRs(dns.TypeTXT)[0].String(), records.MulticlusterSchemaVersion) {
		t.Errorf("dns-version of the multicluster zone: %v", n)
	}
}

func histogramCount(t *testing.T, o prometheus.Observer) uint64 {
	t.Helper()
	var m dto.Metric
	if err := o.(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetHistogram().GetSampleCount()
}
