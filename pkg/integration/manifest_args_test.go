package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	kubednsoptions "github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	sidecaroptions "github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// TestManifestArgs checks every container's arguments with the flags of the
// program it runs, in-process, and the probes, ports and security settings
// against what the programs do. The cluster domain is not cluster.local so
// that a domain left unrendered shows.
func TestManifestArgs(t *testing.T) {
	const domain = "corp.example"
	dir := renderManifests(t, "DNS_SERVER_IP=10.254.0.10", "DNS_DOMAIN="+domain, "DNS_MEMORY_LIMIT=200Mi", "VERSION=v9.9.9-test")
	m := loadManifest(t, filepath.Join(dir, kubeDNSManifest))
	for name, text := range map[string]string{kubeDNSManifest: m.text} {
		if strings.Contains(text, "__") {
			t.Errorf("%s: %q left", name, "__")
		}
		if strings.Contains(text, "cluster.local") {
			t.Errorf("%s: cluster.local although DNS_DOMAIN=%s", name, domain)
		}
	}
	preserveKlog(t)

	var svc corev1.Service
	m.decode(t, "Service kube-system/kube-dns", &svc)
	if svc.Spec.ClusterIP != "10.254.0.10" {
		t.Errorf("Service clusterIP %q", svc.Spec.ClusterIP)
	}
	var d appsv1.Deployment
	m.decode(t, "Deployment kube-system/kube-dns", &d)
	if d.APIVersion != "apps/v1" {
		t.Errorf("Deployment apiVersion %q", d.APIVersion)
	}
	pod := &d.Spec.Template.Spec
	if got := containerNames(pod); !slices.Equal(got, []string{"kubedns", "dnsmasq", "sidecar"}) {
		t.Fatalf("containers %v", got)
	}
	kubednsC, dnsmasqC, sidecarC := container(t, pod, "kubedns"), container(t, pod, "dnsmasq"), container(t, pod, "sidecar")
	for c, image := range map[*corev1.Container]string{kubednsC: "kube-dns", dnsmasqC: "dnsmasq-nanny", sidecarC: "sidecar"} {
		if want := "kubedns-go/" + image + ":v9.9.9-test"; c.Image != want {
			t.Errorf("%s: image %q, want %q", c.Name, c.Image, want)
		}
	}

	// kubedns.
	kd := kubednsoptions.NewKubeDNSConfig()
	fs := pflag.NewFlagSet("kube-dns", pflag.ContinueOnError)
	kd.AddFlags(fs)
	if err := fs.Parse(kubednsC.Args); err != nil {
		t.Fatalf("kubedns %v: %v", kubednsC.Args, err)
	}
	if fs.NArg() > 0 {
		t.Errorf("kubedns: stray arguments %v", fs.Args())
	}
	if err := kd.Validate(); err != nil {
		t.Errorf("kubedns %v: %v", kubednsC.Args, err)
	}
	if err := kd.LoadEnv(envOf(kubednsC)); err != nil {
		t.Errorf("kubedns env: %v", err)
	}
	if kd.ClusterDomain != domain+"." {
		t.Errorf("kubedns --domain %q", kd.ClusterDomain)
	}
	if want := mountPath(t, kubednsC, "kube-dns-config"); kd.ConfigDir != want {
		t.Errorf("kubedns --config-dir %q, the ConfigMap is mounted at %q", kd.ConfigDir, want)
	}
	if kd.MetricsPort != 10055 || kd.DNSPort != 10053 || kd.HealthzPort != 8081 {
		t.Errorf("kubedns listens on DNS %d, healthz %d, metrics %d; want 10053, 8081, 10055", kd.DNSPort, kd.HealthzPort, kd.MetricsPort)
	}

	// dnsmasq-nanny, and dnsmasq after "--".
	no, _ := nannyArgs(t, dnsmasqC)
	if want := mountPath(t, dnsmasqC, "kube-dns-config"); no.ConfigDir != want {
		t.Errorf("dnsmasq-nanny -configDir %q, the ConfigMap is mounted at %q", no.ConfigDir, want)
	}
	if !no.RestartDnsmasq {
		t.Errorf("dnsmasq-nanny: -restartDnsmasq is off: ConfigMap changes would wait for a pod restart")
	}
	if no.ClusterDomain != domain {
		t.Errorf("dnsmasq-nanny -clusterDomain %q, want %q", no.ClusterDomain, domain)
	}
	kubednsLocal := net.JoinHostPort("127.0.0.1", strconv.Itoa(kd.DNSPort))
	if no.KubednsServer != kubednsLocal {
		t.Errorf("dnsmasq-nanny -kubednsServer %q, kubedns is on %s", no.KubednsServer, kubednsLocal)
	}
	hash := "127.0.0.1#" + strconv.Itoa(kd.DNSPort)
	for _, zone := range []string{domain, "in-addr.arpa", "ip6.arpa"} {
		if want := "--server=/" + zone + "/" + hash; !slices.Contains(no.DnsmasqArgs, want) {
			t.Errorf("dnsmasq arguments %v lack %s", no.DnsmasqArgs, want)
		}
	}
	dnsmasqPort := 53
	for _, a := range no.DnsmasqArgs {
		if strings.HasPrefix(a, "--port") || strings.HasPrefix(a, "-p") {
			t.Errorf("dnsmasq argument %q: the manifest assumes dnsmasq's default port 53", a)
		}
	}
	t.Run("dnsmasq --test", func(t *testing.T) {
		dnsmasq := dnsmasqtest.Require(t)
		out, err := exec.Command(dnsmasq, append([]string{"--test"}, no.DnsmasqArgs...)...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "syntax check OK") {
			t.Errorf("dnsmasq --test %v: %v\n%s", no.DnsmasqArgs, err, out)
		}
	})

	// sidecar.
	so := sidecaroptions.NewSidecarOptions()
	sfs := pflag.NewFlagSet("sidecar", pflag.ContinueOnError)
	so.AddFlags(sfs)
	if err := sfs.Parse(sidecarC.Args); err != nil {
		t.Fatalf("sidecar %v: %v", sidecarC.Args, err)
	}
	if sfs.NArg() > 0 {
		t.Errorf("sidecar: stray arguments %v", sfs.Args())
	}
	if err := so.Validate(); err != nil {
		t.Errorf("sidecar %v: %v", sidecarC.Args, err)
	}
	wantProbes := map[string]string{"kubedns": kubednsLocal, "dnsmasq": net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsmasqPort))}
	if len(so.Probes) != len(wantProbes) {
		t.Errorf("sidecar probes %v, want one for each of %v", so.Probes, wantProbes)
	}
	for _, p := range so.Probes {
		if want, ok := wantProbes[p.Label]; !ok || p.Server != want {
			t.Errorf("sidecar probe %s asks %s, want %s", p.Label, p.Server, want)
		}
		if want := "kubernetes.default.svc." + domain + "."; p.Name != want || p.Type != dns.TypeSRV {
			t.Errorf("sidecar probe %s asks %s %s, want %s SRV", p.Label, p.Name, dns.TypeToString[p.Type], want)
		}
	}
	if so.DnsmasqAddress() != wantProbes["dnsmasq"] {
		t.Errorf("sidecar reads dnsmasq's statistics from %s, dnsmasq is on %s", so.DnsmasqAddress(), wantProbes["dnsmasq"])
	}
	if g := pod.TerminationGracePeriodSeconds; g == nil || time.Duration(*g)*time.Second <= max(kd.LameduckMax, no.LameduckMax) {
		t.Errorf("terminationGracePeriodSeconds %v is not above the lameducks' longest (kubedns %v, the nanny %v)", g, kd.LameduckMax, no.LameduckMax)
	}
	dnsmasqTCP := 20 // dnsmasq's default --max-tcp-connections
	for _, a := range no.DnsmasqArgs {
		if v, ok := strings.CutPrefix(a, "--max-tcp-connections="); ok {
			dnsmasqTCP, _ = strconv.Atoi(v)
		}
	}
	if so.DnsmasqMaxTCPConnections != dnsmasqTCP {
		t.Errorf("sidecar --dnsmasq-max-tcp-connections=%d, dnsmasq's --max-tcp-connections is %d", so.DnsmasqMaxTCPConnections, dnsmasqTCP)
	}
	if dnsmasqTCP < 1000 {
		t.Errorf("dnsmasq --max-tcp-connections=%d: 64 NodeLocal DNSCaches need ~200 connections at 20 queries/s each (cluster/README.md)", dnsmasqTCP)
	}
	if got := d.Spec.Template.Annotations["prometheus.io/port"]; got != strconv.Itoa(so.PrometheusPort) {
		t.Errorf("prometheus.io/port %q, the sidecar serves metrics on %d", got, so.PrometheusPort)
	}

	// What listens where: each declared containerPort is one its program
	// listens on, and no two programs share a port.
	type listen struct {
		port  int
		proto corev1.Protocol
	}
	listens := map[string][]listen{
		"kubedns": {{kd.DNSPort, corev1.ProtocolUDP}, {kd.DNSPort, corev1.ProtocolTCP}, {kd.HealthzPort, corev1.ProtocolTCP}, {kd.MetricsPort, corev1.ProtocolTCP}},
		"dnsmasq": {{dnsmasqPort, corev1.ProtocolUDP}, {dnsmasqPort, corev1.ProtocolTCP}},
		"sidecar": {{so.PrometheusPort, corev1.ProtocolTCP}},
	}
	owner := map[listen]string{}
	for name, ls := range listens {
		for _, l := range ls {
			if o, dup := owner[l]; dup {
				t.Errorf("%s and %s both listen on %d/%s", o, name, l.port, l.proto)
			}
			owner[l] = name
		}
	}
	wantPorts := map[string][]string{
		"kubedns": {"dns-local 10053/UDP", "dns-tcp-local 10053/TCP", "metrics 10055/TCP"},
		"dnsmasq": {"dns 53/UDP", "dns-tcp 53/TCP"},
		"sidecar": {"metrics 10054/TCP"},
	}
	for _, c := range pod.Containers {
		var got []string
		for _, p := range c.Ports {
			got = append(got, fmt.Sprintf("%s %d/%s", p.Name, p.ContainerPort, p.Protocol))
			if owner[listen{int(p.ContainerPort), p.Protocol}] != c.Name {
				t.Errorf("%s declares port %d/%s, on which it does not listen", c.Name, p.ContainerPort, p.Protocol)
			}
		}
		if !slices.Equal(got, wantPorts[c.Name]) {
			t.Errorf("%s ports %v, want the original's %v", c.Name, got, wantPorts[c.Name])
		}
	}
	var svcPorts []string
	for _, p := range svc.Spec.Ports {
		svcPorts = append(svcPorts, fmt.Sprintf("%s %d/%s→%s", p.Name, p.Port, p.Protocol, p.TargetPort.String()))
		target := p.Port
		if p.TargetPort.IntValue() != 0 {
			target = int32(p.TargetPort.IntValue())
		}
		if owner[listen{int(target), p.Protocol}] != "dnsmasq" {
			t.Errorf("Service port %s goes to %d/%s, not dnsmasq", p.Name, target, p.Protocol)
		}
	}
	if want := []string{"dns 53/UDP→0", "dns-tcp 53/TCP→0"}; !slices.Equal(svcPorts, want) {
		t.Errorf("Service ports %v, want %v", svcPorts, want)
	}

	// Probes: each HTTP probe goes to a path that the program listening on
	// its port serves. The sidecar's paths are asked of its real handler.
	var probers []*sidecar.Prober
	for _, p := range so.Probes {
		probers = append(probers, sidecar.NewProber(p, nil, sidecar.Clock{}))
	}
	sidecarHTTP := httptest.NewServer(sidecar.NewHandler(probers, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "# metrics\n")
	}), so.PrometheusPath))
	defer sidecarHTTP.Close()
	serves := func(port int, path string) bool {
		switch port {
		case kd.HealthzPort: // kubedns's mux: /readiness, /cache and the metrics path
			return path == "/readiness" || path == "/cache" || path == kd.MetricsPath
		case kd.MetricsPort:
			return path == kd.MetricsPath
		case so.PrometheusPort:
			resp, err := http.Get(sidecarHTTP.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode != http.StatusNotFound
		}
		return false
	}
	wantProbesHTTP := map[string]string{
		"kubedns readiness": "8081 /readiness",
		"kubedns liveness":  "10054 /healthcheck/kubedns",
		"dnsmasq liveness":  "10054 /healthcheck/dnsmasq",
		"sidecar liveness":  "10054 /metrics",
	}
	gotProbesHTTP := map[string]string{}
	for _, c := range pod.Containers {
		for kind, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
			if p == nil {
				continue
			}
			if p.HTTPGet == nil || p.HTTPGet.Port.Type != intstr.Int {
				t.Errorf("%s %s probe: want an HTTP GET on a port number, got %+v", c.Name, kind, p.ProbeHandler)
				continue
			}
			port, path := p.HTTPGet.Port.IntValue(), p.HTTPGet.Path
			gotProbesHTTP[c.Name+" "+kind] = fmt.Sprintf("%d %s", port, path)
			if !serves(port, path) {
				t.Errorf("%s %s probe: nothing serves %s on port %d", c.Name, kind, path, port)
			}
		}
	}
	if !reflect.DeepEqual(gotProbesHTTP, wantProbesHTTP) {
		t.Errorf("probes %v, want %v", gotProbesHTTP, wantProbesHTTP)
	}

	// Resources.
	wantResources := map[string]string{
		"kubedns": "requests cpu=100m memory=70Mi; limits memory=200Mi",
		"dnsmasq": "requests cpu=150m memory=20Mi; limits ",
		"sidecar": "requests cpu=10m memory=20Mi; limits ",
	}
	for _, c := range pod.Containers {
		if got := resourcesString(c.Resources); got != wantResources[c.Name] {
			t.Errorf("%s resources %q, want %q", c.Name, got, wantResources[c.Name])
		}
		if lim, ok := c.Resources.Limits[corev1.ResourceMemory]; ok && lim.Cmp(c.Resources.Requests[corev1.ResourceMemory]) < 0 {
			t.Errorf("%s memory limit %s below its request", c.Name, lim.String())
		}
	}

	checkPodBasics(t, &d, "kube-dns")
	if d.Spec.Replicas != nil {
		t.Errorf("replicas set (%d): the autoscaler owns them", *d.Spec.Replicas)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil || ru.MaxSurge.String() != "10%" || ru.MaxUnavailable.String() != "0" {
		t.Errorf("rolling update %+v, want maxSurge 10%% maxUnavailable 0", ru)
	}
	if pod.DNSPolicy != corev1.DNSDefault || pod.ServiceAccountName != "kube-dns" {
		t.Errorf("dnsPolicy %q serviceAccountName %q", pod.DNSPolicy, pod.ServiceAccountName)
	}
	if d.Spec.Template.Annotations["prometheus.io/scrape"] != "true" {
		t.Errorf("annotations %v", d.Spec.Template.Annotations)
	}
	aff := pod.Affinity
	if aff == nil || aff.PodAntiAffinity == nil || len(aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 ||
		len(aff.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 0 {
		t.Fatalf("affinity %+v: want one preferred pod anti-affinity term", aff)
	}
	term := aff.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm
	sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) || term.TopologyKey != "kubernetes.io/hostname" {
		t.Errorf("anti-affinity term %+v does not spread kube-dns pods over nodes", term)
	}

	// dnsmasq runs unprivileged and binds 53 thanks to the pod's sysctl:
	// every port below 1024 must be at or above ip_unprivileged_port_start.
	start := 1024
	for _, s := range pod.SecurityContext.Sysctls {
		if s.Name == "net.ipv4.ip_unprivileged_port_start" {
			start, _ = strconv.Atoi(s.Value)
		}
	}
	if p := listens["dnsmasq"][0].port; p < start {
		t.Errorf("dnsmasq listens on %d, below net.ipv4.ip_unprivileged_port_start %d, without a capability", p, start)
	}
	for _, c := range pod.Containers {
		if u := c.SecurityContext.RunAsUser; u == nil || *u != 1001 {
			t.Errorf("%s: runAsUser %v, want 1001", c.Name, u)
		}
	}
}
