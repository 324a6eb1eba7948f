package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

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
