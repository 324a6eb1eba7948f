package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

// podNanny is the dnsmasq-nanny binary running the real dnsmasq in front of
// kubedns with the manifest's dnsmasq arguments, on a loopback high port.
type podNanny struct {
	cmd     *exec.Cmd
	front   string // host:port of dnsmasq, the pod's port 53
	logPath string
}

// startPodNanny runs dnsmasq-nanny with the manifest's flags, configDir as
// the ConfigMap volume, synced every 200ms, and the manifest's dnsmasq
// arguments after "--" plus the ones that keep a test instance on
// loopback, and extra. It is stopped with SIGTERM when the test ends.
func startPodNanny(t *testing.T, k *kubeDNS, configDir string, extra ...string) *podNanny {
	t.Helper()
	port := freePort(t)
	args := append([]string{"-v=2", "-logtostderr", "-configDir=" + configDir, "-restartDnsmasq=true", "-lameduck=100ms", "-lameduckMax=100ms",
		"-syncInterval=200ms", "-kubednsServer=" + k.dns, "--",
		"-k", "--cache-size=1000", "--no-negcache", "--log-facility=-",
		"--server=/cluster.local/" + hashPort(k.dns), "--server=/in-addr.arpa/" + hashPort(k.dns), "--server=/ip6.arpa/" + hashPort(k.dns),
		"--server=/clusterset.local/" + hashPort(k.dns)},
		loopbackDnsmasqArgs(port)...)
	return runNanny(t, port, append(args, extra...))
}

// loopbackDnsmasqArgs keep a test dnsmasq on 127.0.0.1:port, away from the
// machine's own files.
func loopbackDnsmasqArgs(port int) []string {
	return []string{"--port=" + strconv.Itoa(port), "--listen-address=127.0.0.1", "--bind-interfaces", "--no-hosts", "--no-resolv", "--pid-file="}
}

// runNanny runs the dnsmasq-nanny binary with args, its dnsmasq listening
// on 127.0.0.1:port, and stops it with SIGTERM when the test ends.
func runNanny(t *testing.T, port int, args []string) *podNanny {
	t.Helper()
	p := &podNanny{
		front:   "127.0.0.1:" + strconv.Itoa(port),
		logPath: filepath.Join(env.dir, strings.ReplaceAll(t.Name(), "/", "_")+"-nanny.log"),
	}
	logFile, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(env.nanny, args...)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("dnsmasq-nanny exited with %v after SIGTERM", err)
			}
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Error("dnsmasq-nanny did not exit after SIGTERM")
		}
		if t.Failed() {
			lines := strings.Split(p.log(), "\n")
			t.Logf("nanny log (last lines of %s):\n%s", p.logPath, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	return p
}

func (p *podNanny) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// TestPodPath runs the pod's DNS path: the real dnsmasq, supervised by
// dnsmasq-nanny with the manifest's arguments (on a loopback high port), in
// front of kubedns; and a stub domain added by writing the ConfigMap's files.
func TestPodPath(t *testing.T) {
	requireCluster(t)
	dnsmasqtest.Require(t)
	stub := startDnsmasq(t, "--address=/corp.example/192.0.2.77")
	k := startKubeDNS(t)
	k.waitReady(t)

	configDir := t.TempDir()
	p := startPodNanny(t, k, configDir)
	through := &kubeDNS{dns: p.front} // queries to dnsmasq, the pod's port 53
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
