package sidecar

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

const dnsmasqPath = "/usr/sbin/dnsmasq"

// freePort returns a port of 127.0.0.1 free for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRealDnsmasq reads the statistics of a real dnsmasq with a 100-entry
// cache, which answers example.test itself and forwards cached.test to a
// test server, so that queries make hits and insertions move.
func TestRealDnsmasq(t *testing.T) {
	if _, err := os.Stat(dnsmasqPath); errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is not installed (Debian package dnsmasq-base): skipping the real-dnsmasq test", dnsmasqPath)
	}
	upstream := startDNS(t, "127.0.0.1:0", &answer{})
	_, upPort, _ := net.SplitHostPort(upstream.addr)
	port := freePort(t)
	cmd := exec.Command(dnsmasqPath,
		"--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address=127.0.0.1", "--port="+strconv.Itoa(port), "--pid-file=", "--user=root",
		"--log-facility=-", "--conf-file=/dev/null", "--cache-size=100",
		"--address=/example.test/192.0.2.1", "--server=/cached.test/127.0.0.1#"+upPort)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("dnsmasq output:\n%s", out.String())
		}
	})

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	d := NewDnsmasqMetrics(addr, "kubedns", Clock{})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)
	eventually(t, 10*time.Second, "dnsmasq to answer", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("dnsmasq exited: %v\n%s", err, out.String())
		default:
		}
		return d.Poll(context.Background(), time.Second) == nil
	})
	before := exported(t, reg)

	c := &dns.Client{Timeout: 2 * time.Second}
	for _, name := range []string{"a.example.test.", "a.example.test.", "x.cached.test.", "x.cached.test.", "x.cached.test."} {
		q := new(dns.Msg).SetQuestion(name, dns.TypeA)
		r, _, err := c.Exchange(q, addr)
		if err != nil || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("%s: %v %v", name, r, err)
		}
	}
	if err := d.Poll(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	after := exported(t, reg)
	t.Logf("before %v\nafter %v", before, after)

	for _, name := range []string{"kubedns_dnsmasq_cache_size", "kubedns_dnsmasq_max_size"} {
		if after[name] != 100 {
			t.Errorf("%s = %v, want 100", name, after[name])
		}
	}
	for _, name := range []string{"kubedns_dnsmasq_hits_total", "kubedns_dnsmasq_insertions_total", "kubedns_dnsmasq_misses_total", "kubedns_dnsmasq_hits", "kubedns_dnsmasq_insertions"} {
		if after[name] <= before[name] {
			t.Errorf("%s did not move: %v, then %v", name, before[name], after[name])
		}
	}
	// Polls before dnsmasq listened failed; none since.
	if after["kubedns_dnsmasq_errors_total"] != before["kubedns_dnsmasq_errors_total"] {
		t.Errorf("errors_total went from %v to %v", before["kubedns_dnsmasq_errors_total"], after["kubedns_dnsmasq_errors_total"])
	}
}
