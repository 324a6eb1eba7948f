package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

// startDnsmasq runs a real dnsmasq on 127.0.0.1 serving only the given
// --address rules, as an upstream or stub-domain server.
func startDnsmasq(t *testing.T, rules ...string) string {
	t.Helper()
	dnsmasq := dnsmasqtest.Require(t)
	port := freePort(t)
	args := append([]string{"--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address=127.0.0.1", "--port=" + strconv.Itoa(port), "--pid-file=", "--user=root",
		"--log-facility=-", "--conf-file=/dev/null"}, rules...)
	cmd := exec.Command(dnsmasq, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if _, err := eventually(10*time.Second, func() error {
		m := new(dns.Msg)
		m.SetQuestion("probe.invalid.", dns.TypeA)
		_, _, err := (&dns.Client{Timeout: 200 * time.Millisecond}).Exchange(m, addr)
		return err
	}); err != nil {
		t.Fatalf("dnsmasq on %s: %v", addr, err)
	}
	return addr
}

// writeConfigDir writes the ConfigMap's keys the way the kubelet mounts them:
// files behind a "..data" symlink that is swapped atomically.
func writeConfigDir(t *testing.T, dir string, data map[string]string) {
	t.Helper()
	ts := filepath.Join(dir, fmt.Sprintf("..%d", time.Now().UnixNano()))
	if err := os.MkdirAll(ts, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(ts, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(dir, k)
		if _, err := os.Lstat(link); os.IsNotExist(err) {
			if err := os.Symlink(filepath.Join("..data", k), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	tmp := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// TestForwardingThroughConfigMap: names outside the cluster domain go to the
// ConfigMap's upstreamNameservers (a real dnsmasq), stub domains to theirs,
// ExternalName targets honour stub domains, changes apply without a restart,
// and every upstream down gives SERVFAIL.
func TestForwardingThroughConfigMap(t *testing.T) {
	requireCluster(t)
	up := startDnsmasq(t, "--address=/example.test/192.0.2.10")
	stub := startDnsmasq(t, "--address=/acme.local/192.0.2.53")
	const ns = "it-forward"
	createNamespace(t, ns)
	createService(t, externalNameService(ns, "db", "db.acme.local"))
	createService(t, clusterIPService(ns, "web", []string{"10.254.103.1"}, port("http", corev1.ProtocolTCP, 80)))

	dir := t.TempDir()
	writeConfigDir(t, dir, map[string]string{
		"upstreamNameservers": fmt.Sprintf(`["%s"]`, up),
		"stubDomains":         fmt.Sprintf(`{"acme.local": ["%s"]}`, stub),
	})
	k := startKubeDNS(t, "--config-dir="+dir, "--config-period=100ms")
	k.waitReady(t)
	k.waitAnswer(t, "www.example.test.", dns.TypeA, "A 192.0.2.10")
	k.waitAnswer(t, "x.acme.local.", dns.TypeA, "A 192.0.2.53")
	k.waitAnswer(t, "db."+ns+".svc.cluster.local.", dns.TypeA, "A 192.0.2.53, CNAME db.acme.local.")
	k.waitAnswer(t, "web."+ns+".svc.cluster.local.", dns.TypeA, "A 10.254.103.1")

	// An invalid update is rejected: the last good configuration stays.
	writeConfigDir(t, dir, map[string]string{"upstreamNameservers": `["not-an-ip"]`, "stubDomains": `{}`})
	if _, err := eventually(10*time.Second, func() error {
		resp, err := httpGetBody("http://" + k.metrics + "/metrics")
		if err != nil {
			return err
		}
		if !containsLine(resp, `kubedns_config_rejected_total{key="upstreamNameservers"} 1`) {
			return fmt.Errorf("rejection not counted yet")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	k.waitAnswer(t, "x.acme.local.", dns.TypeA, "A 192.0.2.53")

	// Every upstream down.
	writeConfigDir(t, dir, map[string]string{"upstreamNameservers": fmt.Sprintf(`["127.0.0.1:%d"]`, freePort(t)), "stubDomains": `{}`})
	k.waitAnswer(t, "www.example.test.", dns.TypeA, "SERVFAIL")
	k.waitAnswer(t, "web."+ns+".svc.cluster.local.", dns.TypeA, "A 10.254.103.1")
}

// TestConfigMapMode reads the configuration from the API (--config-map), as the
// kube-dns service account allowed to read only that ConfigMap.
func TestConfigMapMode(t *testing.T) {
	requireCluster(t)
	up := startDnsmasq(t, "--address=/example.test/192.0.2.11")
	cms := env.admin.CoreV1().ConfigMaps("kube-system")
	ctx := context.Background()
	setData := func(data map[string]string) {
		t.Helper()
		cm, err := cms.Get(ctx, "kube-dns", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data = data
		if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	setData(map[string]string{"upstreamNameservers": fmt.Sprintf(`["%s"]`, up)})
	defer setData(nil)
	k := startKubeDNS(t, "--config-map=kube-dns")
	k.waitReady(t)
	k.waitAnswer(t, "www.example.test.", dns.TypeA, "A 192.0.2.11")
	setData(map[string]string{"upstreamNameservers": fmt.Sprintf(`["127.0.0.1:%d"]`, freePort(t))})
	k.waitAnswer(t, "www.example.test.", dns.TypeA, "SERVFAIL")
	if strings.Contains(k.log(), "forbidden") {
		t.Errorf("the kube-dns service account could not read its ConfigMap:\n%s", k.log())
	}
}
