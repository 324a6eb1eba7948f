package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/klog/v2"

	kubednsoptions "github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	sidecaroptions "github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// The rendered files, and the environment of hack/render-manifests.sh.
const (
	kubeDNSManifest    = "kube-dns.yaml"
	autoscalerManifest = "dns-horizontal-autoscaler.yaml"
)

var renderVars = []string{"DNS_SERVER_IP", "DNS_DOMAIN", "DNS_MEMORY_LIMIT", "VERSION"}

// renderManifests runs hack/render-manifests.sh with vars (NAME=value; the
// others unset, whatever this process's environment holds) into a fresh
// directory and returns it.
func renderManifests(t *testing.T, vars ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "manifests")
	out, err := runRender(dir, vars...)
	if err != nil {
		t.Fatalf("hack/render-manifests.sh %s: %v\n%s", strings.Join(vars, " "), err, out)
	}
	return dir
}

func runRender(dir string, vars ...string) (string, error) {
	cmd := exec.Command(filepath.Join(env.root, "hack", "render-manifests.sh"), dir)
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !slices.Contains(renderVars, name) {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, vars...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// manifest is one rendered file, split into its objects.
type manifest struct {
	text    string
	keys    []string          // "Kind namespace/name", in file order
	objects map[string][]byte // key → YAML document
}

func loadManifest(t *testing.T, path string) *manifest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest{text: string(b), objects: map[string][]byte{}}
	r := yamlutil.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var head struct {
			metav1.TypeMeta   `json:",inline"`
			metav1.ObjectMeta `json:"metadata"`
		}
		if err := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(doc), len(doc)).Decode(&head); err != nil {
			t.Fatalf("%s: %v in\n%s", path, err, doc)
		}
		if head.Kind == "" { // only comments
			continue
		}
		key := head.Kind + " " + head.Namespace + "/" + head.Name
		if _, dup := m.objects[key]; dup {
			t.Errorf("%s: %s twice", path, key)
		}
		m.keys = append(m.keys, key)
		m.objects[key] = doc
	}
	return m
}

// decode decodes the object key ("Kind namespace/name") into into.
func (m *manifest) decode(t *testing.T, key string, into any) {
	t.Helper()
	doc, ok := m.objects[key]
	if !ok {
		t.Fatalf("no %s in the manifest; it has %v", key, m.keys)
	}
	if err := yamlutil.NewYAMLOrJSONDecoder(bytes.NewReader(doc), len(doc)).Decode(into); err != nil {
		t.Fatalf("%s: %v", key, err)
	}
}

// container returns the container called name.
func container(t *testing.T, spec *corev1.PodSpec, name string) *corev1.Container {
	t.Helper()
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	t.Fatalf("no container %q", name)
	return nil
}

// mountPath is where c mounts volume.
func mountPath(t *testing.T, c *corev1.Container, volume string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == volume {
			return m.MountPath
		}
	}
	t.Fatalf("container %s does not mount %s", c.Name, volume)
	return ""
}

// preserveKlog restores klog's global flags (-v, -logtostderr, ...) when the
// test ends: parsing a container's arguments in-process sets them.
func preserveKlog(t *testing.T) {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	saved := map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { saved[f.Name] = f.Value.String() })
	t.Cleanup(func() {
		for name, v := range saved {
			_ = fs.Set(name, v)
		}
	})
}

// TestManifestRender renders the templates with the defaults and with every
// kind of bad input.
func TestManifestRender(t *testing.T) {
	dir := renderManifests(t)
	version := "v0.0.0-dev" // the script's default outside a git work tree
	if describe, err := exec.Command("git", "-C", env.root, "describe", "--tags", "--always").Output(); err == nil {
		version = strings.TrimSpace(string(describe))
	}
	m := loadManifest(t, filepath.Join(dir, kubeDNSManifest))
	for _, want := range []string{
		"clusterIP: 10.0.0.10\n",
		"- --domain=cluster.local.\n",
		"- --server=/cluster.local/127.0.0.1#10053\n",
		"memory: 170Mi\n",
		"image: kubedns-go/kube-dns:" + version + "\n",
		"image: kubedns-go/dnsmasq-nanny:" + version + "\n",
		"image: kubedns-go/sidecar:" + version + "\n",
	} {
		if !strings.Contains(m.text, want) {
			t.Errorf("the default rendering lacks %q", want)
		}
	}
	a := loadManifest(t, filepath.Join(dir, autoscalerManifest))
	for name, text := range map[string]string{kubeDNSManifest: m.text, autoscalerManifest: a.text} {
		if strings.Contains(text, "__") {
			t.Errorf("%s: %q left", name, "__")
		}
	}

	// cluster/kube-dns-rbac.yaml is included verbatim, and its objects are
	// all the RBAC objects of kube-dns.yaml.
	rbacPath := filepath.Join(env.root, "cluster", "kube-dns-rbac.yaml")
	rbacText, err := os.ReadFile(rbacPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.text, string(rbacText)) {
		t.Errorf("%s does not hold cluster/kube-dns-rbac.yaml verbatim", kubeDNSManifest)
	}
	rbacKeys := slices.Clone(loadManifest(t, rbacPath).keys)
	var shipped []string
	for _, k := range m.keys {
		if strings.HasPrefix(k, "Role ") || strings.HasPrefix(k, "ClusterRole") || strings.HasPrefix(k, "RoleBinding ") {
			shipped = append(shipped, k)
		}
	}
	sort.Strings(rbacKeys)
	sort.Strings(shipped)
	if !slices.Equal(rbacKeys, shipped) {
		t.Errorf("RBAC objects of %s: %v, want those of cluster/kube-dns-rbac.yaml: %v", kubeDNSManifest, shipped, rbacKeys)
	}

	// The script's floor for DNS_MEMORY_LIMIT is the template's request.
	var d appsv1.Deployment
	m.decode(t, "Deployment kube-system/kube-dns", &d)
	reqMi := container(t, &d.Spec.Template.Spec, "kubedns").Resources.Requests.Memory().Value() >> 20
	if out, err := runRender(t.TempDir(), fmt.Sprintf("DNS_MEMORY_LIMIT=%dMi", reqMi)); err != nil {
		t.Errorf("DNS_MEMORY_LIMIT=%dMi, kubedns's request: %v\n%s", reqMi, err, out)
	}
	if out, err := runRender(t.TempDir(), fmt.Sprintf("DNS_MEMORY_LIMIT=%dMi", reqMi-1)); err == nil || !strings.Contains(out, fmt.Sprintf("below kubedns's memory request of %dMi", reqMi)) {
		t.Errorf("DNS_MEMORY_LIMIT=%dMi, below kubedns's request: %v %q", reqMi-1, err, out)
	}

	// A trailing dot of the domain is dropped; IPv6 is an address too.
	dir = renderManifests(t, "DNS_DOMAIN=corp.example.", "DNS_SERVER_IP=fd00:10:254::a", "VERSION=v1.2.3-4-gabcdef0")
	text, err := os.ReadFile(filepath.Join(dir, kubeDNSManifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"- --domain=corp.example.\n", "kubernetes.default.svc.corp.example.,5,SRV", "clusterIP: fd00:10:254::a\n", ":v1.2.3-4-gabcdef0\n"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("DNS_DOMAIN=corp.example.: the rendering lacks %q", want)
		}
	}

	for _, tc := range []struct{ vars, want string }{
		{"DNS_SERVER_IP=10.0.0.256", "DNS_SERVER_IP=10.0.0.256 is not an IPv4 or IPv6 address"},
		{"DNS_SERVER_IP=10.0.0", "is not an IPv4 or IPv6 address"},
		{"DNS_SERVER_IP=fd00::1::2", "is not an IPv4 or IPv6 address"},
		{"DNS_SERVER_IP=kube-dns", "is not an IPv4 or IPv6 address"},
		{"DNS_DOMAIN=Cluster.Local", "DNS_DOMAIN=Cluster.Local is not a DNS-1123 domain"},
		{"DNS_DOMAIN=cluster..local", "is not a DNS-1123 domain"},
		{"DNS_DOMAIN=-cluster.local", "is not a DNS-1123 domain"},
		{"DNS_DOMAIN=cluster_local", "is not a DNS-1123 domain"},
		{"DNS_DOMAIN=" + strings.Repeat("a", 64) + ".local", "is not a DNS-1123 domain"},
		{"DNS_MEMORY_LIMIT=170MB", "DNS_MEMORY_LIMIT=170MB is not a memory quantity"},
		{"DNS_MEMORY_LIMIT=1.5Gi", "is not a memory quantity"},
		{"DNS_MEMORY_LIMIT=64Mi", "is below kubedns's memory request of 70Mi"},
		{"VERSION=v1+meta", "VERSION=v1+meta is not a valid image tag"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		msg, err := runRender(out, tc.vars)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("%s: exit %v, want a failure", tc.vars, err)
		}
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: says %q, want %q", tc.vars, msg, tc.want)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("%s: wrote %d files anyway", tc.vars, len(entries))
		}
	}
	if msg, err := runRender(""); err == nil || !strings.Contains(msg, "usage:") {
		t.Errorf("no OUTDIR: %v %q, want the usage", err, msg)
	}
}

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
		if _, err := os.Stat(dnsmasqPath); err != nil {
			t.Skipf("no %s: dnsmasq's own syntax check of %v not run (apt-get install dnsmasq-base)", dnsmasqPath, no.DnsmasqArgs)
		}
		out, err := exec.Command(dnsmasqPath, append([]string{"--test"}, no.DnsmasqArgs...)...).CombinedOutput()
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

// TestManifestAutoscaler checks the dns-horizontal-autoscaler against the
// kube-dns Deployment it scales and what the autoscaler does.
func TestManifestAutoscaler(t *testing.T) {
	dir := renderManifests(t, "VERSION=v9.9.9-test")
	m := loadManifest(t, filepath.Join(dir, kubeDNSManifest))
	a := loadManifest(t, filepath.Join(dir, autoscalerManifest))
	if strings.Contains(a.text, "__") {
		t.Errorf("%s: %q left", autoscalerManifest, "__")
	}
	var target, d appsv1.Deployment
	m.decode(t, "Deployment kube-system/kube-dns", &target)
	a.decode(t, "Deployment kube-system/kube-dns-autoscaler", &d)
	checkPodBasics(t, &d, "kube-dns-autoscaler")
	c := container(t, &d.Spec.Template.Spec, "autoscaler")
	if c.Image != "registry.k8s.io/cpa/cluster-proportional-autoscaler:v1.9.0" {
		t.Errorf("image %q", c.Image)
	}
	flags := map[string]string{}
	for _, a := range c.Command[1:] {
		name, value, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		flags[name] = value
	}
	var cm corev1.ConfigMap
	a.decode(t, "ConfigMap kube-system/"+flags["configmap"], &cm)
	if flags["namespace"] != target.Namespace || flags["target"] != "Deployment/"+target.Name || flags["logtostderr"] != "true" || flags["v"] != "2" {
		t.Errorf("autoscaler flags %v do not target Deployment %s/%s", flags, target.Namespace, target.Name)
	}
	linear := map[string]any{"coresPerReplica": 256.0, "nodesPerReplica": 16.0, "preventSinglePointFailure": true}
	var params map[string]any
	if err := json.Unmarshal([]byte(cm.Data["linear"]), &params); err != nil || !reflect.DeepEqual(params, linear) {
		t.Errorf("ConfigMap linear %q (%v), want %v", cm.Data["linear"], err, linear)
	}
	var defaults map[string]any
	if err := json.Unmarshal([]byte(flags["default-params"]), &defaults); err != nil || !reflect.DeepEqual(defaults, map[string]any{"linear": linear}) {
		t.Errorf("--default-params %q (%v), want the ConfigMap's", flags["default-params"], err)
	}

	// RBAC: exactly what the autoscaler asks for, bound to its account.
	sa := d.Spec.Template.Spec.ServiceAccountName
	var sacct corev1.ServiceAccount
	a.decode(t, "ServiceAccount kube-system/"+sa, &sacct)
	var cr rbacv1.ClusterRole
	var crb rbacv1.ClusterRoleBinding
	var role rbacv1.Role
	var rb rbacv1.RoleBinding
	a.decode(t, "ClusterRole /system:kube-dns-autoscaler", &cr)
	a.decode(t, "ClusterRoleBinding /system:kube-dns-autoscaler", &crb)
	a.decode(t, "Role kube-system/kube-dns-autoscaler", &role)
	a.decode(t, "RoleBinding kube-system/kube-dns-autoscaler", &rb)
	wantCR := []string{"[] [nodes] [] [list watch]"}
	wantRole := []string{
		"[apps] [deployments/scale] [" + target.Name + "] [get update]",
		"[] [configmaps] [" + cm.Name + "] [get]",
	}
	if got := rulesStrings(cr.Rules); !slices.Equal(got, wantCR) {
		t.Errorf("ClusterRole rules %v, want %v", got, wantCR)
	}
	if got := rulesStrings(role.Rules); !slices.Equal(got, wantRole) {
		t.Errorf("Role rules %v, want %v", got, wantRole)
	}
	subject := rbacv1.Subject{Kind: "ServiceAccount", Name: sa, Namespace: "kube-system"}
	if crb.RoleRef.Name != cr.Name || crb.RoleRef.Kind != "ClusterRole" || !slices.Equal(crb.Subjects, []rbacv1.Subject{subject}) {
		t.Errorf("ClusterRoleBinding %+v", crb)
	}
	if rb.RoleRef.Name != role.Name || rb.RoleRef.Kind != "Role" || !slices.Equal(rb.Subjects, []rbacv1.Subject{subject}) {
		t.Errorf("RoleBinding %+v", rb)
	}
}

// TestManifestsDryRun has the API server validate every rendered object:
// kubectl apply --dry-run=server over the test cluster's kube-system objects
// (the walkthrough's Service, ServiceAccount and ConfigMap and the RBAC that
// TestMain applied), a fresh Service at another cluster IP, and the pods of
// both Deployments in a namespace that enforces the "restricted" Pod
// Security Standard.
func TestManifestsDryRun(t *testing.T) {
	requireCluster(t)
	ctx := context.Background()
	// The Service exists already; its cluster IP cannot change.
	existing, err := env.admin.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := renderManifests(t, "DNS_SERVER_IP="+existing.Spec.ClusterIP)
	files := []string{filepath.Join(dir, kubeDNSManifest), filepath.Join(dir, autoscalerManifest)}
	cmd := exec.Command(env.vars["KUBECTL"], "--kubeconfig", env.vars["KUBECONFIG"], "apply", "--dry-run=server", "-f", files[0], "-f", files[1])
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubectl apply --dry-run=server: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	// Every object was seen, and nothing was warned about but the seed's
	// duplicate port name "metrics" (kubedns 10055 and sidecar 10054, kept
	// for compatibility) and objects that the test cluster made without
	// kubectl apply.
	var want []string
	for _, f := range files {
		for _, key := range loadManifest(t, f).keys {
			kind, nsName, _ := strings.Cut(key, " ")
			_, name, _ := strings.Cut(nsName, "/")
			want = append(want, strings.ToLower(kind)+"/"+name)
		}
	}
	for _, w := range want {
		kind, name, _ := strings.Cut(w, "/")
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(kind) + `(\.[a-z0-9.]+)?/` + regexp.QuoteMeta(name) + ` `)
		if !re.MatchString(stdout.String()) {
			t.Errorf("kubectl apply did not report %s:\n%s", w, stdout.String())
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, `duplicate port name "metrics"`):
		case strings.Contains(line, "is missing the kubectl.kubernetes.io/last-applied-configuration annotation"):
		default:
			t.Errorf("kubectl apply: %s", line)
		}
	}

	// A fresh install at the brief's 10.254.0.10: the Service alone, under
	// another name (kube-system/kube-dns exists).
	fresh := renderManifests(t, "DNS_SERVER_IP=10.254.0.10")
	var svc corev1.Service
	loadManifest(t, filepath.Join(fresh, kubeDNSManifest)).decode(t, "Service kube-system/kube-dns", &svc)
	svc.Name = "kube-dns-manifest-test"
	if _, err := env.admin.CoreV1().Services("kube-system").Create(ctx, &svc, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Errorf("dry-run create of the Service at 10.254.0.10: %v", err)
	}

	// The pods meet the "restricted" Pod Security Standard.
	const ns = "it-manifests-restricted"
	_, err = env.admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   ns,
		Labels: map[string]string{"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest"},
	}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for _, f := range []struct{ file, key string }{
		{kubeDNSManifest, "Deployment kube-system/kube-dns"},
		{autoscalerManifest, "Deployment kube-system/kube-dns-autoscaler"},
	} {
		var d appsv1.Deployment
		loadManifest(t, filepath.Join(dir, f.file)).decode(t, f.key, &d)
		pod := &corev1.Pod{ObjectMeta: d.Spec.Template.ObjectMeta, Spec: d.Spec.Template.Spec}
		pod.Namespace, pod.Name = ns, d.Name
		if _, err := env.admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
			t.Errorf("the pod of %s under the restricted Pod Security Standard: %v", f.key, err)
		}
	}
}

// checkPodBasics checks what the add-on's pods have in common: scheduling
// as a critical add-on on Linux nodes, and the locked-down security
// settings of every container.
func checkPodBasics(t *testing.T, d *appsv1.Deployment, app string) {
	t.Helper()
	pod := &d.Spec.Template.Spec
	if d.Namespace != "kube-system" || d.Labels["k8s-app"] != app || d.Labels["addonmanager.kubernetes.io/mode"] != "Reconcile" {
		t.Errorf("%s: metadata %+v", d.Name, d.ObjectMeta)
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) || d.Spec.Template.Labels["k8s-app"] != app {
		t.Errorf("%s: selector %v does not select its pods %v", d.Name, d.Spec.Selector, d.Spec.Template.Labels)
	}
	if pod.PriorityClassName != "system-cluster-critical" {
		t.Errorf("%s: priorityClassName %q", d.Name, pod.PriorityClassName)
	}
	if pod.NodeSelector["kubernetes.io/os"] != "linux" {
		t.Errorf("%s: nodeSelector %v", d.Name, pod.NodeSelector)
	}
	if want := []corev1.Toleration{{Key: "CriticalAddonsOnly", Operator: corev1.TolerationOpExists}}; !reflect.DeepEqual(pod.Tolerations, want) {
		t.Errorf("%s: tolerations %+v", d.Name, pod.Tolerations)
	}
	psc := pod.SecurityContext
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault: %+v", d.Name, psc)
	}
	for _, c := range pod.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			t.Errorf("%s/%s: no securityContext", d.Name, c.Name)
		case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0:
			t.Errorf("%s/%s: not run as a non-root user: %+v", d.Name, c.Name, sc)
		case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
			t.Errorf("%s/%s: allowPrivilegeEscalation is not false", d.Name, c.Name)
		case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
			t.Errorf("%s/%s: readOnlyRootFilesystem is not true", d.Name, c.Name)
		case sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0:
			t.Errorf("%s/%s: capabilities %+v, want drop ALL and none added", d.Name, c.Name, sc.Capabilities)
		case sc.Privileged != nil && *sc.Privileged:
			t.Errorf("%s/%s: privileged", d.Name, c.Name)
		}
	}
}

func containerNames(spec *corev1.PodSpec) []string {
	var names []string
	for _, c := range spec.Containers {
		names = append(names, c.Name)
	}
	return names
}

// envOf is a getenv over c's literal environment variables.
func envOf(c *corev1.Container) func(string) string {
	return func(name string) string {
		for _, e := range c.Env {
			if e.Name == name {
				return e.Value
			}
		}
		return ""
	}
}

// resourcesString writes r as "requests cpu=… memory=…; limits …".
func resourcesString(r corev1.ResourceRequirements) string {
	list := func(l corev1.ResourceList) string {
		var parts []string
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if q, ok := l[name]; ok {
				parts = append(parts, fmt.Sprintf("%s=%s", name, q.String()))
			}
		}
		if len(l) != len(parts) {
			parts = append(parts, fmt.Sprintf("and %d more", len(l)-len(parts)))
		}
		return strings.Join(parts, " ")
	}
	return "requests " + list(r.Requests) + "; limits " + list(r.Limits)
}

func rulesStrings(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		out = append(out, fmt.Sprintf("%v %v %v %v", r.APIGroups, r.Resources, r.ResourceNames, r.Verbs))
	}
	return out
}
