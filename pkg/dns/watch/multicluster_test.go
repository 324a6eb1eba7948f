package watch

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
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

// TestImportClusterIDs follows a headless import whose source clusters
// have ids of several labels (KEP-2149 allows any DNS subdomain): one id
// is a suffix of the other's endpoint names, and ids that are not DNS
// subdomains leave their slices out, logged.
func TestImportClusterIDs(t *testing.T) {
	o := newOffline(t, Options{Records: mcConfig()})
	logs := &recordingSink{}
	o.c.logger = logr.New(logs)
	const hl = "hl.ns1.svc.clusterset.local."
	long := strings.Repeat("x", 64) + ".reg1"
	o.put(serviceImport("ns1", "hl", mcsv1alpha1.Headless))
	east := importSlice("ns1", "hl", "East.Reg1", "hl-east", "pet-0=10.8.0.1", "=10.8.0.2")
	reg1 := importSlice("ns1", "hl", "reg1", "hl-reg1", "east=10.8.1.1")
	for _, s := range []*discoveryv1.EndpointSlice{east, reg1,
		importSlice("ns1", "hl", "bad_id.reg1", "hl-bad", "pet-0=10.8.2.1"),
		importSlice("ns1", "hl", long, "hl-long", "pet-0=10.8.2.2"),
		importSlice("ns1", "hl", "", "hl-none", "pet-0=10.8.2.3")} {
		o.put(s)
	}
	o.sync(false)
	if got := o.addrs(hl); !slices.Equal(got, []string{"10.8.0.1", "10.8.0.2", "10.8.1.1"}) {
		t.Errorf("the union answers %v", got)
	}
	for name, want := range map[string][]string{
		"pet-0.east.reg1." + hl:    {"10.8.0.1"},
		"10-8-0-2.east.reg1." + hl: {"10.8.0.2"},
		"east.reg1." + hl:          {"10.8.1.1"}, // hostname east in cluster reg1
		"pet-0.bad_id.reg1." + hl:  nil,
	} {
		if got := o.addrs(name); !slices.Equal(got, want) {
			t.Errorf("%s answers %v, want %v", name, got, want)
		}
	}
	s := o.c.Snapshot()
	if n := s.Lookup("reg1." + hl); n == nil || len(n.Sets()) != 0 {
		t.Errorf("reg1.%s is not an empty non-terminal: %v", hl, n)
	}
	if got := ptrsOf(s, "10.8.0.1"); !slices.Equal(got, []string{"pet-0.east.reg1." + hl}) {
		t.Errorf("PTR of an endpoint of east.reg1: %v", got)
	}
	for _, ip := range []string{"10.8.2.1", "10.8.2.2", "10.8.2.3"} {
		if got := ptrsOf(s, ip); got != nil {
			t.Errorf("PTR of %s, whose cluster cannot name it: %v", ip, got)
		}
	}
	for _, slice := range []string{"hl-bad", "hl-long", "hl-none"} {
		if !logs.has("Not serving an imported EndpointSlice", "ns1/"+slice) {
			t.Errorf("slice %s left out without a log: %q", slice, logs.lines)
		}
	}
	if logs.has("", "hl-east") || logs.has("", "hl-reg1") {
		t.Errorf("a served slice is logged: %q", logs.lines)
	}

	// Without cluster reg1's hostname, east.reg1 is an empty non-terminal
	// above cluster east.reg1's endpoints; without those, nothing is left.
	o.del(reg1)
	o.sync(false)
	if n := o.c.Snapshot().Lookup("east.reg1." + hl); n == nil || len(n.Sets()) != 0 {
		t.Errorf("east.reg1.%s is not an empty non-terminal: %v", hl, n)
	}
	o.del(east)
	o.sync(false)
	for _, name := range []string{hl, "reg1." + hl, "east.reg1." + hl} {
		if n := o.c.Snapshot().Lookup(name); n != nil {
			t.Errorf("%s still exists: %v", name, n.Sets())
		}
	}
}

// TestImportedBackPTR checks that an address the cluster domain names (a
// Service's cluster IP, a ready endpoint of a headless Service) that an
// import publishes too answers only its cluster-local PTR, whichever comes
// first, and the clusterset PTR once the cluster domain stops naming it.
func TestImportedBackPTR(t *testing.T) {
	o := newOffline(t, Options{Records: mcConfig()})
	o.put(serviceImport("ns1", "web", mcsv1alpha1.ClusterSetIP, "10.0.0.1"))
	o.put(serviceImport("ns1", "hl", mcsv1alpha1.Headless))
	o.put(importSlice("ns1", "hl", "here", "hl-here", "web-0=10.1.0.1"))
	o.put(importSlice("ns1", "hl", "east.reg1", "hl-east", "web-0=10.2.0.1"))
	o.sync(false)
	want := map[string][]string{
		"10.0.0.1": {"web.ns1.svc.clusterset.local."},
		"10.1.0.1": {"web-0.here.hl.ns1.svc.clusterset.local."},
		"10.2.0.1": {"web-0.east.reg1.hl.ns1.svc.clusterset.local."},
	}
	check := func(when string) {
		t.Helper()
		s := o.c.Snapshot()
		for ip, w := range want {
			if got := ptrsOf(s, ip); !slices.Equal(got, w) {
				t.Errorf("%s: PTR of %s is %v, want %v", when, ip, got, w)
			}
		}
	}
	check("imports alone")

	web := clusterIPService("ns1", "web", "10.0.0.1")
	local := endpointSlice("ns1", "hl", "hl-local", discoveryv1.AddressTypeIPv4, "web-0=10.1.0.1")
	o.put(web)
	o.put(headlessService("ns1", "hl"))
	o.put(local)
	o.sync(false)
	want["10.0.0.1"] = []string{"web.ns1.svc.cluster.local."}
	want["10.1.0.1"] = []string{"web-0.hl.ns1.svc.cluster.local."}
	check("the cluster domain names them")
	if got := o.addrs("web-0.here.hl.ns1.svc.clusterset.local."); !slices.Equal(got, []string{"10.1.0.1"}) {
		t.Errorf("the imported-back endpoint's own name answers %v", got)
	}

	// The import changing does not bring its PTR back; the cluster domain
	// ceasing to name the address does.
	o.put(importSlice("ns1", "hl", "here", "hl-here", "web-0=10.1.0.1", "web-1=10.1.0.9"))
	o.sync(false)
	want["10.1.0.9"] = []string{"web-1.here.hl.ns1.svc.clusterset.local."}
	check("the import changed")
	local.Endpoints[0].Conditions.Ready = ptr.To(false)
	o.put(local)
	o.del(web)
	o.sync(false)
	want["10.0.0.1"] = []string{"web.ns1.svc.clusterset.local."}
	want["10.1.0.1"] = []string{"web-0.here.hl.ns1.svc.clusterset.local."}
	check("the cluster domain no longer names them")
}

// ptrsOf returns the sorted PTR targets of ip.
func ptrsOf(s *records.Snapshot, ip string) []string {
	n := s.Lookup(records.ReverseName(netip.MustParseAddr(ip)))
	if n == nil {
		return nil
	}
	var out []string
	for _, rr := range n.RRs(dns.TypePTR) {
		out = append(out, rr.(*dns.PTR).Ptr)
	}
	slices.Sort(out)
	return out
}

// recordingSink is a logr.LogSink that keeps every line at V(2) or below.
type recordingSink struct{ lines []string }

func (r *recordingSink) Init(logr.RuntimeInfo)  {}
func (r *recordingSink) Enabled(level int) bool { return level <= 2 }
func (r *recordingSink) Info(_ int, msg string, kv ...any) {
	r.lines = append(r.lines, fmt.Sprint(append([]any{msg}, kv...)...))
}
func (r *recordingSink) Error(err error, msg string, kv ...any) { r.Info(0, msg, append(kv, err)...) }
func (r *recordingSink) WithValues(...any) logr.LogSink         { return r }
func (r *recordingSink) WithName(string) logr.LogSink           { return r }

// has reports whether a line holds every one of parts.
func (r *recordingSink) has(parts ...string) bool {
	return slices.ContainsFunc(r.lines, func(l string) bool {
		for _, p := range parts {
			if !strings.Contains(l, p) {
				return false
			}
		}
		return true
	})
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
