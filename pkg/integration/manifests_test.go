package integration

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	yamlutil "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/klog/v2"
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
