package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestPodPath runs the pod's DNS path: the real dnsmasq, supervised by
// dnsmasq-nanny with the manifest's arguments (on a loopback high port), in
// front of kubedns; and a stub domain added by writing the ConfigMap's files.
func TestPodPath(t *testing.T) {
	requireCluster(t)
	if _, err := os.Stat(dnsmasqPath); err != nil {
		t.Skipf("no %s: apt-get install dnsmasq-base (CI does)", dnsmasqPath)
	}
	stub := startDnsmasq(t, "--address=/corp.example/192.0.2.77")
	k := startKubeDNS(t)
	k.waitReady(t)

	configDir := t.TempDir()
	port := freePort(t)
	front := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(env.dir, "TestPodPath-nanny.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	nanny := exec.Command(env.nanny, "-v=2", "-logtostderr", "-configDir="+configDir, "-restartDnsmasq=true",
		"-syncInterval=200ms", "-kubednsServer="+k.dns, "--",
		"-k", "--cache-size=1000", "--no-negcache", "--log-facility=-",
		"--server=/cluster.local/"+hashPort(k.dns), "--server=/in-addr.arpa/"+hashPort(k.dns), "--server=/ip6.arpa/"+hashPort(k.dns),
		"--port="+strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces", "--no-hosts", "--no-resolv", "--pid-file=")
	nanny.Stdout, nanny.Stderr = logFile, logFile
	if err := nanny.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- nanny.Wait(); logFile.Close() }()
	defer func() {
		_ = nanny.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("dnsmasq-nanny exited with %v after SIGTERM", err)
			}
		case <-time.After(15 * time.Second):
			_ = nanny.Process.Kill()
			t.Error("dnsmasq-nanny did not exit after SIGTERM")
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("nanny log:\n%s", b)
		}
	}()

	through := &kubeDNS{dns: front} // queries to dnsmasq, the pod's port 53
	through.waitAnswer(t, "my-nginx.default.svc.cluster.local.", dns.TypeA, "A 10.254.32.162")
	through.waitAnswer(t, "kubernetes.default.svc.cluster.local.", dns.TypeSRV, "SRV 0 100 443 kubernetes.default.svc.cluster.local.")
	through.waitAnswer(t, "kube-dns.kube-system.svc.cluster.local.", dns.TypeA, "A 10.254.0.2")
	through.waitAnswer(t, "162.32.254.10.in-addr.arpa.", dns.TypePTR, "PTR my-nginx.default.svc.cluster.local.")

	writeConfigDir(t, configDir, map[string]string{"stubDomains": fmt.Sprintf(`{"corp.example": ["%s"]}`, stub)})
	through.waitAnswer(t, "git.corp.example.", dns.TypeA, "A 192.0.2.77")
}

// hashPort writes host:port the way dnsmasq's --server wants it: host#port.
func hashPort(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i] + "#" + addr[i+1:]
		}
	}
	return addr
}
