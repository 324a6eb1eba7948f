package sidecar

import (
	"context"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// freePort returns a port of 127.0.0.1 free for both UDP and TCP.
func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startDnsmasq runs the real dnsmasq on a free port of 127.0.0.1 with args
// added, until the test ends, and returns its port and a channel that
// receives its exit. Without dnsmasq, the test is skipped.
func startDnsmasq(t *testing.T, args ...string) (port int, exited <-chan error, out *lockedBuffer) {
	t.Helper()
	dnsmasq := dnsmasqtest.Require(t)
	port = freePort(t)
	cmd := exec.Command(dnsmasq, append([]string{
		"--keep-in-foreground", "--no-resolv", "--no-hosts", "--bind-interfaces",
		"--listen-address=127.0.0.1", "--port=" + strconv.Itoa(port), "--pid-file=", "--user=root",
		"--log-facility=-", "--conf-file=/dev/null"}, args...)...)
	out = &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsmasq: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("dnsmasq output:\n%s", out.String())
		}
	})
	return port, done, out
}

// TestRealDnsmasq reads the statistics of a real dnsmasq with a 100-entry
// cache, which answers example.test itself and forwards cached.test to a
// test server, so that queries make hits and insertions move.
func TestRealDnsmasq(t *testing.T) {
	upstream := startDNS(t, "127.0.0.1:0", &answer{})
	_, upPort, _ := net.SplitHostPort(upstream.addr)
	port, exited, out := startDnsmasq(t, "--cache-size=100",
		"--address=/example.test/192.0.2.1", "--server=/cached.test/127.0.0.1#"+upPort)

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

// TestRealDnsmasqTCP holds the TCP connections a real dnsmasq serves at
// once (--max-tcp-connections=2), then opens more: they wait in the accept
// queue, and the collector says so, warns, and says when it has stopped.
func TestRealDnsmasqTCP(t *testing.T) {
	const maxConns = 2
	port, exited, out := startDnsmasq(t, "--max-tcp-connections="+strconv.Itoa(maxConns))
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	fc := newFakeClock(0, nil)
	d := NewDnsmasqTCP(port, maxConns, "kubedns", fc.clock())
	var (
		mu    sync.Mutex
		lines []string
	)
	d.logLine = func(_ bool, line string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, line)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)
	// pollUntil reads every 5s of the fake clock until the exported values
	// meet cond.
	pollUntil := func(what string, cond func(map[string]float64) bool) {
		t.Helper()
		eventually(t, 10*time.Second, what, func() bool {
			select {
			case err := <-exited:
				t.Fatalf("dnsmasq exited: %v\n%s", err, out.String())
			default:
			}
			fc.advance(5 * time.Second)
			if err := d.Poll(); err != nil {
				t.Fatal(err)
			}
			return cond(exported(t, reg))
		})
	}
	// dnsmasq listens with its compiled-in backlog, TCP_BACKLOG (32).
	pollUntil("dnsmasq to listen", func(m map[string]float64) bool {
		return m["kubedns_dnsmasq_tcp_accept_queue_limit"] == 32 && m["kubedns_dnsmasq_tcp_connections"] == 0
	})

	conns := make([]net.Conn, 0, maxConns+3)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range maxConns + 3 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	// At least 3 waiting: another test's client may knock on this port too.
	// (And ListenOverflows counts every listener of the namespace, the
	// other tests' too.)
	pollUntil("2 connections served and 3 waiting", func(m map[string]float64) bool {
		return m["kubedns_dnsmasq_tcp_connections"] == maxConns && m["kubedns_dnsmasq_tcp_accept_queue"] >= 3
	})
	mu.Lock()
	if want := regexp.MustCompile(`^dnsmasq is turning TCP clients away: 2 of 2 TCP connections in use \(--max-tcp-connections\), [3-9] waiting to be accepted, \d+ connection attempts dropped by the kernel in the last 5s; raise`); len(lines) != 1 || !want.MatchString(lines[0]) {
		t.Errorf("logged %q, want one line matching %s", lines, want)
	}
	lines = nil
	mu.Unlock()

	// Closed by their clients, dnsmasq's children exit, and it accepts the
	// others, whose clients are gone too: they end at once.
	for _, c := range conns {
		c.Close()
	}
	pollUntil("every connection served, and said so", func(m map[string]float64) bool {
		mu.Lock()
		defer mu.Unlock()
		return m["kubedns_dnsmasq_tcp_connections"] == 0 && m["kubedns_dnsmasq_tcp_accept_queue"] == 0 && len(lines) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if want := "dnsmasq is no longer turning TCP clients away: "; len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("logged %q, want one line starting %q", lines, want)
	}
}
