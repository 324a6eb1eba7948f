package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

// health reads /healthcheck/<label>: the status code and the original's JSON body.
func health(url string) (int, map[string]any, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body map[string]any
	err = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body, err
}

// TestSidecar probes the real kubedns and a real dnsmasq in front of it with
// the manifest's probes: both healthy; dnsmasq killed, so 503 within two
// intervals; dnsmasq back on its port, so 200 again. dnsmasq runs here without
// the nanny, which would restart it before the sidecar could notice.
func TestSidecar(t *testing.T) {
	requireCluster(t)
	dnsmasq := dnsmasqtest.Require(t)
	k := startKubeDNS(t)
	k.waitReady(t)
	port := freePort(t)
	startFront := func() *exec.Cmd {
		cmd := exec.Command(dnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
			"--listen-address=127.0.0.1", "--port="+strconv.Itoa(port), "--pid-file=", "--log-facility=-",
			"--conf-file=/dev/null", "--cache-size=1000", "--server=/cluster.local/"+hashPort(k.dns))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	front := startFront()
	defer func() { _ = front.Process.Kill(); _ = front.Wait() }()

	const interval = 1 // seconds
	base := startSidecar(t, port,
		fmt.Sprintf("--probe=kubedns,%s,kubernetes.default.svc.cluster.local.,%d,SRV", k.dns, interval),
		fmt.Sprintf("--probe=dnsmasq,127.0.0.1:%d,kubernetes.default.svc.cluster.local.,%d,SRV", port, interval),
		"--dnsmasq-poll-interval-ms=500")
	waitHealth := func(label string, want int, within time.Duration) time.Duration {
		t.Helper()
		d, err := eventually(within, func() error {
			code, body, err := health(base + "/healthcheck/" + label)
			if err != nil {
				return err
			}
			if code != want {
				return fmt.Errorf("%s: %d %v, want %d", label, code, body, want)
			}
			for _, f := range []string{"IsOk", "LatencySeconds", "Err"} {
				if _, ok := body[f]; !ok {
					return fmt.Errorf("%s: body %v lacks %s", label, body, f)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	waitHealth("kubedns", http.StatusOK, 20*time.Second)
	waitHealth("dnsmasq", http.StatusOK, 20*time.Second)

	_ = front.Process.Kill()
	_ = front.Wait()
	t.Logf("dnsmasq killed: 503 after %v", waitHealth("dnsmasq", http.StatusServiceUnavailable, 2*interval*time.Second+2*time.Second))
	if code, _, _ := health(base + "/healthcheck/kubedns"); code != http.StatusOK {
		t.Errorf("kubedns health %d while only dnsmasq is down", code)
	}
	front = startFront()
	t.Logf("dnsmasq back: 200 after %v", waitHealth("dnsmasq", http.StatusOK, 20*time.Second))

	metrics := readAll(t, base+"/metrics")
	for _, m := range []string{"kubedns_dnsmasq_cache_size 1000", "kubedns_probe_kubedns_latency_ms_bucket", "kubedns_probe_latency_seconds_bucket"} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics lacks %q", m)
		}
	}
}

// startSidecar runs the sidecar binary with args (--v=2 and --logtostderr
// first), reading dnsmasq's statistics from 127.0.0.1:dnsmasqPort, serving
// HTTP on a loopback port whose base URL it returns. It is stopped with
// SIGTERM when the test ends.
func startSidecar(t *testing.T, dnsmasqPort int, args ...string) string {
	t.Helper()
	httpPort := freePort(t)
	logPath := filepath.Join(env.dir, strings.ReplaceAll(t.Name(), "/", "_")+"-sidecar.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args = append(append([]string{"--v=2", "--logtostderr"}, args...),
		"--dnsmasq-addr=127.0.0.1", "--dnsmasq-port="+strconv.Itoa(dnsmasqPort),
		"--prometheus-addr=127.0.0.1", "--prometheus-port="+strconv.Itoa(httpPort))
	sc := exec.Command(env.sidecar, args...)
	sc.Stdout, sc.Stderr = logFile, logFile
	if err := sc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = sc.Process.Signal(syscall.SIGTERM)
		if err := sc.Wait(); err != nil {
			t.Errorf("sidecar exited with %v after SIGTERM", err)
		}
		logFile.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("sidecar log:\n%s", b)
		}
	})
	return fmt.Sprintf("http://127.0.0.1:%d", httpPort)
}

func readAll(t *testing.T, url string) string {
	t.Helper()
	s, err := httpGetBody(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
