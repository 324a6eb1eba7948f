package dnsmasq

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// The tests below run the real dnsmasq on loopback addresses and high
// ports, without root-only features.

// freePort returns a port on ip that is free for both UDP and TCP.
func freePort(t *testing.T, ip string) int {
	t.Helper()
	p, err := freeport.On(ip)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// listenArgs are dnsmasq arguments for a test instance on ip:port.
func listenArgs(ip string, port int) []string {
	return []string{
		"--port=" + strconv.Itoa(port), "--listen-address=" + ip, "--bind-interfaces",
		"--no-resolv", "--no-hosts", "--pid-file=", "--log-facility=-",
	}
}

// serveAddress runs a standalone dnsmasq answering every name under domain
// with ip, and returns its address as a stub server "ip:port".
func serveAddress(t *testing.T, listenIP, domain, ip string) string {
	t.Helper()
	port := freePort(t, listenIP)
	args := append(listenArgs(listenIP, port), "-k", "--address=/"+domain+"/"+ip)
	cmd := exec.Command(dnsmasqtest.Path, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort(listenIP, strconv.Itoa(port))
	waitAnswer(t, addr, "probe."+domain, ip)
	return addr
}

// lookupA asks addr for the A records of name.
func lookupA(addr, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 300 * time.Millisecond}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		return nil, err
	}
	if resp.Rcode != dns.RcodeSuccess {
		return nil, errors.New(dns.RcodeToString[resp.Rcode])
	}
	var ips []string
	for _, rr := range resp.Answer {
		if a, ok := rr.(*dns.A); ok {
			ips = append(ips, a.A.String())
		}
	}
	return ips, nil
}

// waitAnswer polls addr until name resolves to exactly ip.
func waitAnswer(t *testing.T, addr, name, ip string) {
	t.Helper()
	var (
		got []string
		err error
	)
	if poll(20*time.Millisecond, 10*time.Second, func() bool {
		got, err = lookupA(addr, name)
		return err == nil && slices.Equal(got, []string{ip})
	}) != nil {
		t.Fatalf("%s at %s: got %v, %v; want %s", name, addr, got, err, ip)
	}
}

// writeConfigMap writes data into dir the way the kubelet updates a
// ConfigMap volume: a new hidden directory, the "..data" symlink swapped
// to it atomically, and one symlink per key through "..data".
func writeConfigMap(t *testing.T, dir string, data map[string]string) {
	t.Helper()
	ts, err := os.MkdirTemp(dir, "..20260101_")
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range data {
		if err := os.WriteFile(filepath.Join(ts, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(ts), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for k := range data {
		link := filepath.Join(dir, k)
		if _, err := os.Lstat(link); errors.Is(err, os.ErrNotExist) {
			if err := os.Symlink(filepath.Join("..data", k), link); err != nil {
				t.Fatal(err)
			}
		}
	}
	if old != "" {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
}

func stubDomains(domain, server string) map[string]string {
	return map[string]string{config.KeyStubDomains: fmt.Sprintf(`{%q: [%q]}`, domain, server)}
}

func TestRealDnsmasq(t *testing.T) {
	dnsmasqtest.Require(t)

	first := serveAddress(t, freeport.LoopbackIP(2), "acme.local", "10.9.9.9")
	second := serveAddress(t, freeport.LoopbackIP(3), "acme.local", "10.8.8.8")

	// A fake kubedns knows the first server by name.
	firstHost, firstPort, _ := net.SplitHostPort(first)
	kubedns := dnstest.ServeZone(t, map[string][]string{
		"acme-dns.kube-system.svc.cluster.local.": {"acme-dns.kube-system.svc.cluster.local. 30 IN A " + firstHost},
	})

	before := runtime.NumGoroutine() // the fake kubedns stays

	dir := t.TempDir()
	writeConfigMap(t, dir, stubDomains("acme.local", first))
	reg := prometheus.NewRegistry()
	metrics := config.NewMetrics(reg, "test")
	const interval = 200 * time.Millisecond

	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	n, err := New(Options{
		Exec:            dnsmasqtest.Path,
		Args:            listenArgs("127.0.0.1", port),
		Source:          config.NewDirSource(dir, interval, metrics),
		Resolver:        nameservers.NewResolver(kubedns, "cluster.local"),
		RestartOnChange: true,
		SyncInterval:    interval,
		GracePeriod:     2 * time.Second,
		Restart:         RestartPolicy{InitialDelay: 50 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})

	t.Run("stub domain", func(t *testing.T) {
		waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
	})

	t.Run("config swap through ..data", func(t *testing.T) {
		old := n.PID()
		began := time.Now()
		writeConfigMap(t, dir, stubDomains("acme.local", second))
		waitAnswer(t, addr, "x.acme.local", "10.8.8.8")
		t.Logf("new answer after %v (sync interval %v)", time.Since(began), interval)
		if n.PID() != old {
			t.Errorf("dnsmasq %d was restarted (now %d), want a reload", old, n.PID())
		}
	})

	t.Run("stub server named in the cluster domain", func(t *testing.T) {
		writeConfigMap(t, dir, stubDomains("acme.local", "acme-dns.kube-system.svc.cluster.local:"+firstPort))
		waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
	})

	t.Run("invalid update keeps the old answers", func(t *testing.T) {
		pid := n.PID()
		rejected := rejectedStubs(t, reg)
		writeConfigMap(t, dir, map[string]string{config.KeyStubDomains: `{"acme.local": ["not a server!"]}`})
		waitFor(t, 10*time.Second, "the update to be rejected", func() bool {
			return rejectedStubs(t, reg) > rejected
		})
		waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
		if n.PID() != pid {
			t.Errorf("dnsmasq restarted for an invalid update")
		}
	})

	t.Run("SIGKILL recovers", func(t *testing.T) {
		pid := n.PID()
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "a new dnsmasq", func() bool { return n.PID() != 0 && n.PID() != pid })
		waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
	})

	t.Run("clean exit", func(t *testing.T) {
		pid := n.PID()
		cancel()
		stopped = true
		if err := <-done; err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
		if alive(pid) {
			t.Errorf("dnsmasq %d still running", pid)
		}
		if _, err := lookupA(addr, "x.acme.local"); err == nil {
			t.Errorf("dnsmasq still answers after Run returned")
		}
	})
	if stopped {
		checkGoroutines(t, before)
	}
}

// rejectedStubs reads the rejected-updates counter of the stubDomains key.
func rejectedStubs(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "test_config_rejected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "key" && l.GetValue() == config.KeyStubDomains {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
