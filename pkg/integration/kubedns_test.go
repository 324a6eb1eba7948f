package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// kubeDNS is one running kube-dns process.
type kubeDNS struct {
	cmd     *exec.Cmd
	dns     string // host:port of the DNS listeners
	healthz string // host:port of /readiness
	metrics string // host:port of $PROMETHEUS_PORT
	logPath string
	exited  chan error
}

// freePort returns a loopback port that is free for both TCP and UDP now.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startKubeDNS runs the kube-dns binary as the kube-dns service account, on
// loopback ports, with extra flags, and stops it (SIGTERM) when the test ends.
func startKubeDNS(t *testing.T, extra ...string) *kubeDNS {
	t.Helper()
	dnsPort, healthzPort, metricsPort := freePort(t), freePort(t), freePort(t)
	k := &kubeDNS{
		dns:     net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort)),
		healthz: net.JoinHostPort("127.0.0.1", strconv.Itoa(healthzPort)),
		metrics: net.JoinHostPort("127.0.0.1", strconv.Itoa(metricsPort)),
		logPath: filepath.Join(env.dir, strings.ReplaceAll(t.Name(), "/", "_")+".log"),
		exited:  make(chan error, 1),
	}
	args := append([]string{
		"--kubecfg-file=" + env.kubeconfig,
		"--dns-bind-address=127.0.0.1",
		"--dns-port=" + strconv.Itoa(dnsPort),
		"--healthz-port=" + strconv.Itoa(healthzPort),
		"--lameduck=100ms", "--lameduck-max=100ms",
		"--v=2",
	}, extra...)
	logFile, err := os.Create(k.logPath)
	if err != nil {
		t.Fatal(err)
	}
	k.cmd = exec.Command(env.kubeDNS, args...)
	k.cmd.Env = append(os.Environ(), "PROMETHEUS_PORT="+strconv.Itoa(metricsPort))
	k.cmd.Stdout, k.cmd.Stderr = logFile, logFile
	if err := k.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { k.exited <- k.cmd.Wait(); logFile.Close() }()
	t.Cleanup(func() {
		if k.cmd.ProcessState == nil {
			_ = k.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case err := <-k.exited:
				if err != nil {
					t.Errorf("kube-dns exited with %v after SIGTERM", err)
				}
			case <-time.After(15 * time.Second):
				_ = k.cmd.Process.Kill()
				t.Errorf("kube-dns did not exit within 15s of SIGTERM")
			}
		}
		if t.Failed() {
			b, _ := os.ReadFile(k.logPath)
			lines := strings.Split(string(b), "\n")
			t.Logf("kube-dns log (last lines of %s):\n%s", k.logPath, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return k
}

// waitReady polls /readiness until it answers 200.
func (k *kubeDNS) waitReady(t *testing.T) {
	t.Helper()
	if _, err := eventually(30*time.Second, func() error {
		select {
		case err := <-k.exited:
			k.exited <- err
			return fmt.Errorf("%w: kube-dns exited: %v", errStop, err)
		default:
		}
		resp, err := http.Get("http://" + k.healthz + "/readiness")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readiness %d", resp.StatusCode)
		}
		return nil
	}); err != nil {
		t.Fatalf("kube-dns not ready: %v", err)
	}
}

func (k *kubeDNS) log() string {
	b, _ := os.ReadFile(k.logPath)
	return string(b)
}

// query asks kube-dns over network ("udp" or "tcp").
func (k *kubeDNS) query(network, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, false)
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, k.dns)
	return resp, err
}

// check asks the case's question over network and compares the answer.
func (k *kubeDNS) check(network string, tc dnstest.Case) error {
	resp, err := k.query(network, tc.Qname, tc.Qtype)
	if err != nil {
		return err
	}
	return dnstest.Check(resp, tc)
}

// errStop ends eventually at once.
var errStop = errors.New("giving up")

// eventually calls fn every few milliseconds until it returns nil, and
// returns how long that took.
func eventually(timeout time.Duration, fn func() error) (time.Duration, error) {
	start := time.Now()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 2*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		last = fn()
		if errors.Is(last, errStop) {
			return false, last
		}
		return last == nil, nil
	})
	if err != nil && !errors.Is(err, errStop) {
		err = fmt.Errorf("after %v: %w", timeout, last)
	}
	return time.Since(start), err
}

func httpGetBody(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = io.Copy(&b, resp.Body)
	return b.String(), err
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
