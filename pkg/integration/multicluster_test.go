package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/mcs-api/config/crd"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
)

var serviceImportsGVR = mcsv1alpha1.SchemeGroupVersion.WithResource("serviceimports")

// TestMulticluster runs kubedns with --multicluster-domain against the real
// API server: started before the ServiceImport CRD exists (mcs-api's own
// manifest, installed while it runs), then ClusterSetIP and headless
// imports with EndpointSlices from two source clusters, created, updated
// and deleted; a source cluster whose id has two labels and one whose id
// is no DNS subdomain; a Service and an endpoint of this cluster imported
// back, whose PTR is their cluster-local name; the same names through the
// pod's dnsmasq; and a kubedns without the flag that watches nothing new.
func TestMulticluster(t *testing.T) {
	requireCluster(t)
	const ns = "it-mcs"
	createNamespace(t, ns)
	if err := kubectl("apply", "-f", filepath.Join(env.root, "cluster", "kube-dns-multicluster-rbac.yaml")); err != nil {
		t.Fatal(err)
	}
	k := startKubeDNS(t, "--multicluster-domain=clusterset.local")
	k.waitReady(t) // without the CRD
	k.waitAnswer(t, "dns-version.clusterset.local.", dns.TypeTXT, `TXT "1.0.0"`)
	k.waitAnswer(t, "my-nginx.default.svc.cluster.local.", dns.TypeA, "A 10.254.32.162")
	if _, err := eventually(10*time.Second, func() error {
		if n := strings.Count(k.log(), "ServiceImport CRD"); n != 1 {
			return fmt.Errorf("%d log lines name the missing CRD, want 1", n)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}

	installImportCRD(t)
	imports := importClient(t).Namespace(ns)
	createImport(t, imports, ns, "db", mcsv1alpha1.ClusterSetIP, "10.254.110.1")
	picked := k.waitAnswer(t, "db."+ns+".svc.clusterset.local.", dns.TypeA, "A 10.254.110.1")
	t.Logf("ServiceImport served %v after it was created, the CRD installed while kubedns ran", picked)
	if n := strings.Count(k.log(), "ServiceImport CRD"); n != 1 {
		t.Errorf("%d log lines name the missing CRD, want 1", n)
	}

	// Headless, with slices from two clusters.
	createImport(t, imports, ns, "hl", mcsv1alpha1.Headless)
	createSlice(t, importSlice(ns, "hl", "cluster-a", "hl-a", endpoint("pet-0", ptr.To(true), "10.30.110.1"), endpoint("", ptr.To(true), "10.30.110.2")))
	createSlice(t, importSlice(ns, "hl", "cluster-b", "hl-b", endpoint("pet-0", ptr.To(true), "10.30.111.1"), endpoint("pet-9", ptr.To(false), "10.30.111.9")))
	zone := ns + ".svc.clusterset.local."
	k.waitAnswer(t, "hl."+zone, dns.TypeA, "A 10.30.110.1, A 10.30.110.2, A 10.30.111.1")
	soa := dnstest.SOA("clusterset.local.", "cluster.local.", 0)
	for _, tc := range []dnstest.Case{
		{Qname: "pet-0.cluster-a.hl." + zone, Qtype: dns.TypeA, Answer: []string{"pet-0.cluster-a.hl." + zone + " 30 IN A 10.30.110.1"}},
		{Qname: "pet-0.cluster-b.hl." + zone, Qtype: dns.TypeA, Answer: []string{"pet-0.cluster-b.hl." + zone + " 30 IN A 10.30.111.1"}},
		{Qname: "10-30-110-2.cluster-a.hl." + zone, Qtype: dns.TypeA, Answer: []string{"10-30-110-2.cluster-a.hl." + zone + " 30 IN A 10.30.110.2"}},
		{Qname: "_http._tcp.hl." + zone, Qtype: dns.TypeSRV, Answer: []string{
			"_http._tcp.hl." + zone + " 30 IN SRV 0 33 80 pet-0.cluster-a.hl." + zone,
			"_http._tcp.hl." + zone + " 30 IN SRV 0 33 80 10-30-110-2.cluster-a.hl." + zone,
			"_http._tcp.hl." + zone + " 30 IN SRV 0 33 80 pet-0.cluster-b.hl." + zone},
			Extra: []string{
				"pet-0.cluster-a.hl." + zone + " 30 IN A 10.30.110.1",
				"10-30-110-2.cluster-a.hl." + zone + " 30 IN A 10.30.110.2",
				"pet-0.cluster-b.hl." + zone + " 30 IN A 10.30.111.1"}},
		{Qname: "1.111.30.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.111.30.10.in-addr.arpa. 30 IN PTR pet-0.cluster-b.hl." + zone}},
		{Qname: "_http._tcp.db." + zone, Qtype: dns.TypeSRV, Answer: []string{"_http._tcp.db." + zone + " 30 IN SRV 0 100 80 db." + zone},
			Extra: []string{"db." + zone + " 30 IN A 10.254.110.1"}},
		{Qname: "1.110.254.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.110.254.10.in-addr.arpa. 30 IN PTR db." + zone}},
		{Name: "MUST NOT: one cluster of a ClusterSetIP import", Qname: "cluster-a.db." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
		{Name: "MUST NOT: one cluster of a headless import", Qname: "cluster-a.hl." + zone, Qtype: dns.TypeA, Ns: []string{soa}},
		{Name: "not ready", Qname: "pet-9.cluster-b.hl." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
	} {
		for _, network := range []string{"udp", "tcp"} {
			if err := checkIgnoringSerial(k, network, tc); err != nil {
				t.Errorf("%s over %s: %v", tc, network, err)
			}
		}
	}

	// A source cluster whose id has two labels (KEP-2149: a DNS subdomain),
	// and one whose id is a valid label value but no DNS subdomain.
	createImport(t, imports, ns, "hr", mcsv1alpha1.Headless)
	createSlice(t, importSlice(ns, "hr", "east.reg1", "hr-east", endpoint("pet-0", ptr.To(true), "10.30.112.1")))
	createSlice(t, importSlice(ns, "hr", "bad_id", "hr-bad", endpoint("pet-0", ptr.To(true), "10.30.112.2")))
	// This cluster's own Service and endpoint, imported back: the cluster
	// domain's name is their only PTR.
	createService(t, clusterIPService(ns, "web", []string{"10.254.110.10"}, port("http", corev1.ProtocolTCP, 80)))
	createImport(t, imports, ns, "web", mcsv1alpha1.ClusterSetIP, "10.254.110.10")
	createService(t, headlessService(ns, "hr", false, port("http", corev1.ProtocolTCP, 80)))
	createSlice(t, slice(ns, "hr-local", "hr", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{slicePort("http", 80)},
		endpoint("pet-1", ptr.To(true), "10.30.112.3")))
	createSlice(t, importSlice(ns, "hr", "here", "hr-here", endpoint("pet-1", ptr.To(true), "10.30.112.3")))
	k.waitAnswer(t, "hr."+zone, dns.TypeA, "A 10.30.112.1, A 10.30.112.3")
	k.waitAnswer(t, "web."+zone, dns.TypeA, "A 10.254.110.10")
	local := ns + ".svc.cluster.local."
	for _, tc := range []dnstest.Case{
		{Qname: "pet-0.east.reg1.hr." + zone, Qtype: dns.TypeA, Answer: []string{"pet-0.east.reg1.hr." + zone + " 30 IN A 10.30.112.1"}},
		{Qname: "_http._tcp.hr." + zone, Qtype: dns.TypeSRV, Answer: []string{
			"_http._tcp.hr." + zone + " 30 IN SRV 0 50 80 pet-0.east.reg1.hr." + zone,
			"_http._tcp.hr." + zone + " 30 IN SRV 0 50 80 pet-1.here.hr." + zone},
			Extra: []string{"pet-0.east.reg1.hr." + zone + " 30 IN A 10.30.112.1", "pet-1.here.hr." + zone + " 30 IN A 10.30.112.3"}},
		{Qname: "1.112.30.10.in-addr.arpa.", Qtype: dns.TypePTR, Answer: []string{"1.112.30.10.in-addr.arpa. 30 IN PTR pet-0.east.reg1.hr." + zone}},
		{Name: "MUST NOT: a two-label cluster id", Qname: "east.reg1.hr." + zone, Qtype: dns.TypeA, Ns: []string{soa}},
		{Name: "MUST NOT: a two-label cluster id's last label", Qname: "reg1.hr." + zone, Qtype: dns.TypeA, Ns: []string{soa}},
		{Name: "an id that is no DNS subdomain", Qname: "pet-0.bad_id.hr." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []string{soa}},
		{Name: "an imported-back endpoint keeps its clusterset name", Qname: "pet-1.here.hr." + zone, Qtype: dns.TypeA,
			Answer: []string{"pet-1.here.hr." + zone + " 30 IN A 10.30.112.3"}},
		{Name: "an imported-back endpoint's PTR is its cluster-local name", Qname: "3.112.30.10.in-addr.arpa.", Qtype: dns.TypePTR,
			Answer: []string{"3.112.30.10.in-addr.arpa. 30 IN PTR pet-1.hr." + local}},
		{Name: "an imported-back cluster IP's PTR is its cluster-local name", Qname: "10.110.254.10.in-addr.arpa.", Qtype: dns.TypePTR,
			Answer: []string{"10.110.254.10.in-addr.arpa. 30 IN PTR web." + local}},
	} {
		for _, network := range []string{"udp", "tcp"} {
			if err := checkIgnoringSerial(k, network, tc); err != nil {
				t.Errorf("%s over %s: %v", tc, network, err)
			}
		}
	}
	if len(linesWith(k.log(), "Not serving an imported EndpointSlice", ns+"/hr-bad")) == 0 {
		t.Error("the slice of cluster bad_id is left out without a log")
	}

	// Through the pod's dnsmasq, with the manifest's arguments.
	p := startPodNanny(t, k, t.TempDir())
	through := &kubeDNS{dns: p.front}
	through.waitAnswer(t, "db."+zone, dns.TypeA, "A 10.254.110.1")
	through.waitAnswer(t, "pet-0.cluster-b.hl."+zone, dns.TypeA, "A 10.30.111.1")

	// Update and delete.
	si, err := imports.Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedStringSlice(si.Object, []string{"10.254.110.2"}, "spec", "ips"); err != nil {
		t.Fatal(err)
	}
	if _, err := imports.Update(context.Background(), si, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	k.waitAnswer(t, "db."+zone, dns.TypeA, "A 10.254.110.2")
	if err := env.admin.DiscoveryV1().EndpointSlices(ns).Delete(context.Background(), "hl-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	k.waitAnswer(t, "hl."+zone, dns.TypeA, "A 10.30.111.1")
	if err := imports.Delete(context.Background(), "db", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	k.waitAnswer(t, "db."+zone, dns.TypeA, "NXDOMAIN")

	body, err := httpGetBody("http://" + k.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if n := metricValue(body, `kubedns_dns_programming_duration_seconds_count{service_kind="clusterset_ip"}`); n < 1 {
		t.Errorf("clusterset_ip programming latency: %v observations", n)
	}

	// Without the flag nothing new is watched, though the CRD is there.
	plain := startKubeDNS(t)
	plain.waitReady(t)
	body, err = httpGetBody("http://" + plain.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(body, `resource="serviceimports"`) {
		t.Error("kubedns without --multicluster-domain has metrics of a serviceimports watch")
	}
	if !strings.Contains(body, `resource="services"`) {
		t.Error("the watch metrics are missing altogether: the check above proves nothing")
	}
	if strings.Contains(plain.log(), "serviceimports") {
		t.Error("kubedns without --multicluster-domain logs about serviceimports")
	}
}

// checkIgnoringSerial is check with the SOA serial of the case's negative
// answers taken from the reply: the API server's state decides it.
func checkIgnoringSerial(k *kubeDNS, network string, tc dnstest.Case) error {
	resp, err := k.query(network, tc.Qname, tc.Qtype)
	if err != nil {
		return err
	}
	for _, rr := range resp.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			tc.Ns = append([]string(nil), tc.Ns...)
			for i := range tc.Ns {
				tc.Ns[i] = strings.Replace(tc.Ns[i], " 0 7200", fmt.Sprintf(" %d 7200", s.Serial), 1)
			}
		}
	}
	return dnstest.Check(resp, tc)
}

// installImportCRD installs the ServiceImport CRD from mcs-api's manifests
// and waits until the API server serves it; the test's cleanup removes it.
func installImportCRD(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "serviceimports.yaml")
	if err := os.WriteFile(path, crd.ServiceImportCRD, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := kubectl("apply", "-f", path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := kubectl("delete", "-f", path, "--wait=true"); err != nil {
			t.Error(err)
		}
	})
	if err := kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/"+mcsv1alpha1.ServiceImportFullName); err != nil {
		t.Fatal(err)
	}
}

func importClient(t *testing.T) dynamic.NamespaceableResourceInterface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", env.vars["KUBECONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c.Resource(serviceImportsGVR)
}

// createImport creates a ServiceImport with one port, http/TCP/80; a new
// CRD may take a moment to accept objects.
func createImport(t *testing.T, c dynamic.ResourceInterface, ns, name string, typ mcsv1alpha1.ServiceImportType, ips ...string) {
	t.Helper()
	si := &mcsv1alpha1.ServiceImport{
		TypeMeta:   metav1.TypeMeta{APIVersion: mcsv1alpha1.SchemeGroupVersion.String(), Kind: mcsv1alpha1.ServiceImportKindName},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: mcsv1alpha1.ServiceImportSpec{Type: typ, IPs: ips,
			Ports: []mcsv1alpha1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}}},
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(si)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventually(15*time.Second, func() error {
		_, err := c.Create(context.Background(), &unstructured.Unstructured{Object: m}, metav1.CreateOptions{})
		return err
	}); err != nil {
		t.Fatalf("creating ServiceImport %s/%s: %v", ns, name, err)
	}
}

// importSlice is an EndpointSlice as an MCS controller writes it for the
// ServiceImport svc from cluster: port http/80.
func importSlice(ns, svc, cluster, name string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s := slice(ns, name, svc, discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{slicePort("http", 80)}, eps...)
	s.Labels = map[string]string{
		mcsv1alpha1.LabelServiceName:   svc,
		mcsv1alpha1.LabelSourceCluster: cluster,
		discoveryv1.LabelManagedBy:     "kubedns-integration-test",
	}
	return s
}
