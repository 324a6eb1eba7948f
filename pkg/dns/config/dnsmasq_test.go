package config

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

// edgeCases are values at the limits of what Parse accepts. Everything in
// them must reach dnsmasq intact: TestDnsmasqAcceptsValidated.
var edgeCases = []struct {
	name string
	data map[string]string
}{
	{"63-octet labels", stubs(label(63)+".test", "x."+label(63), label(63)+"."+label(63)+".test.")},
	{"253-octet name", stubs(name(253))},
	{"253-octet name with its trailing dot", stubs(name(253) + ".")},
	{"upper case and trailing dots", stubs("ACME.Local", "Corp.Example.", "UPPER.")},
	{"punycode", stubs("xn--bcher-kva.example", "xn--80ak6aa92e.com", "xn--fiqs8s")},
	{"single labels, digits, hyphens", stubs("corp", "123", "0.example", "my--corp.example", "a-b.c-d")},
	{"reverse zones", stubs("10.in-addr.arpa", "0.168.192.in-addr.arpa", "8.b.d.0.1.0.0.2.ip6.arpa")},
	{"ports 1 and 65535", stubServers("a.test", "1.2.3.4:1", "1.2.3.5:65535", "[2001:db8::1]:1", "[2001:db8::2]:65535", "dns.corp:1", "dns.corp:65535")},
	{"IPv6 forms", stubServers("a.test", "::1", "[::1]", "[::1]:53", "2001:DB8::A", "[2001:db8::b]:5353", "fe80::1", "::ffff:1.2.3.4", "[::ffff:10.0.0.1]:5353", "64:ff9b::1.2.3.4")},
	{"addresses next to the rejected ones", stubServers("a.test", "0.0.0.1", "255.255.255.254", "223.255.255.255", "240.0.0.1", "127.0.0.1:10053", "::2", "::ffff:0.0.0.1", "fe00::1")},
	{"server names", stubServers("a.test", "dns.corp", "DNS.Corp:5353", label(63)+".corp", name(253), "kube-dns.kube-system.svc.cluster.local:10053")},
	{"upstreams", map[string]string{KeyUpstreamNameservers: `["8.8.8.8", "[2001:4860:4860::8888]:53", "1.1.1.1:65535"]`}},
	{"upstreams, ports 1 and v4-mapped", map[string]string{KeyUpstreamNameservers: `["9.9.9.9:1", "::ffff:8.8.4.4", "[::1]:65535"]`}},
}

// stubs returns stubDomains with each domain served by 10.0.0.1.
func stubs(domains ...string) map[string]string {
	var entries []string
	for _, d := range domains {
		entries = append(entries, fmt.Sprintf(`%q: ["10.0.0.1"]`, d))
	}
	return map[string]string{KeyStubDomains: "{" + strings.Join(entries, ", ") + "}"}
}

// stubServers returns stubDomains with domain served by servers.
func stubServers(domain string, servers ...string) map[string]string {
	return map[string]string{KeyStubDomains: fmt.Sprintf(`{%q: [%s]}`, domain, quoteAll(servers))}
}

func TestParseAcceptsEdgeCases(t *testing.T) {
	for _, tt := range edgeCases {
		if _, err := Parse(tt.data); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// dnsmasqLines returns the servers of c as the nanny gives them to dnsmasq
// (pkg/dnsmasq's ServerLines after pkg/dns/nameservers' Resolve):
// server=/<domain>/<ip>#<port> per stub server, then server=<ip>#<port> per
// upstream, IPv4-mapped addresses as IPv4. A server name stands for the
// addresses it would resolve to, here 192.0.2.1 and 2001:db8::53.
func dnsmasqLines(t *testing.T, c *Config) []string {
	t.Helper()
	addr := func(ip netip.Addr, port int) string { return ip.Unmap().String() + "#" + strconv.Itoa(port) }
	var lines []string
	for _, d := range slices.Sorted(maps.Keys(c.StubDomains)) {
		for _, s := range c.StubDomains[d] {
			host, port, err := StubServer(s)
			if err != nil {
				t.Fatalf("StubServer(%q) of an accepted configuration: %v", s, err)
			}
			ips := []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::53")}
			if ip, err := netip.ParseAddr(host); err == nil {
				ips = []netip.Addr{ip}
			}
			for _, ip := range ips {
				lines = append(lines, "server=/"+d+"/"+addr(ip, port))
			}
		}
	}
	for _, u := range c.UpstreamNameservers {
		ap := netip.MustParseAddrPort(u)
		lines = append(lines, "server="+addr(ap.Addr(), int(ap.Port())))
	}
	return lines
}

// TestDnsmasqAcceptsValidated gives every edge case that Parse accepts to
// the real dnsmasq, as --server arguments (its --test checks them) and as
// the nanny's servers file, which --test does not read: a running dnsmasq
// reads it and logs "error at line N" for a line it refuses, and "using
// nameserver <ip>#<port> for domain <domain>" for each server it takes
// (0.0.0.0 it drops without a word).
func TestDnsmasqAcceptsValidated(t *testing.T) {
	dnsmasqtest.Require(t)
	for _, tt := range edgeCases {
		c, err := Parse(tt.data)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		lines := dnsmasqLines(t, c)
		t.Run(tt.name, func(t *testing.T) {
			if err := dnsmasqTest(lines); err != nil {
				t.Error(err)
			}
			for _, problem := range dnsmasqServersFile(t, lines) {
				t.Error(problem)
			}
		})
	}

	// The harness sees what the earlier rules let through: a 64-octet label
	// (refused) and 0.0.0.0 (ignored).
	bad := []string{"server=/ok.test/10.0.0.1#53", "server=/" + label(64) + ".test/10.0.0.1#53", "server=/z.test/0.0.0.0#53"}
	t.Run("control: --test refuses", func(t *testing.T) {
		if err := dnsmasqTest(bad[:2]); err == nil {
			t.Errorf("dnsmasq --test accepted %q", bad[:2])
		}
	})
	t.Run("control: servers file", func(t *testing.T) {
		got := dnsmasqServersFile(t, bad)
		if len(got) != 3 || !strings.Contains(got[0], "line 2") || !strings.Contains(got[1], "not used") || !strings.Contains(got[2], "not used") {
			t.Errorf("problems %q, want line 2 refused, and lines 2 and 3 not used", got)
		}
	})
}

// dnsmasqTest runs dnsmasq --test with lines as --server arguments.
func dnsmasqTest(lines []string) error {
	args := []string{"--test", "--conf-file=/dev/null", "--no-resolv", "--no-hosts"}
	for _, l := range lines {
		args = append(args, "--"+l)
	}
	out, err := exec.Command(dnsmasqtest.Path, args...).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("syntax check OK")) {
		return fmt.Errorf("dnsmasq %q: %v\n%s", args, err, out)
	}
	return nil
}

// maxLogged is how many servers dnsmasq 2.90 logs.
const maxLogged = 30

// dnsmasqServersFile has a running dnsmasq read lines (at most maxLogged)
// as its servers file and returns a description of each line it refused
// or did not use.
func dnsmasqServersFile(t *testing.T, lines []string) []string {
	t.Helper()
	if len(lines) > maxLogged {
		t.Fatalf("%d lines, dnsmasq logs only %d", len(lines), maxLogged)
	}
	// What dnsmasq logs for each line it uses.
	want := make([]string, len(lines))
	for i, l := range lines {
		server, ok := strings.CutPrefix(l, "server=")
		if !ok {
			t.Fatalf("line %q", l)
		}
		want[i] = "using nameserver " + server
		if rest, ok := strings.CutPrefix(server, "/"); ok {
			domain, addr, _ := strings.Cut(rest, "/")
			want[i] = "using nameserver " + addr + " for domain " + domain
		}
	}
	logged := func(log string) (messages map[string]bool, refused []string) {
		messages = map[string]bool{}
		for l := range strings.Lines(log) {
			_, msg, _ := strings.Cut(l, "]: ")
			msg = strings.TrimSpace(msg)
			messages[msg] = true
			if _, after, ok := strings.Cut(msg, "error at line "); ok {
				n, _ := strconv.Atoi(strings.Fields(after)[0])
				line := "?"
				if n >= 1 && n <= len(lines) {
					line = lines[n-1]
				}
				refused = append(refused, fmt.Sprintf("line %d, %q refused: %s", n, line, msg))
			}
		}
		return messages, refused
	}
	// dnsmasq checks the whole file before it logs the servers it uses.
	log := runDnsmasqServersFile(t, lines, func(log string) bool {
		messages, refused := logged(log)
		return len(refused) > 0 && strings.Contains(log, " using ") || !slices.ContainsFunc(want, func(w string) bool { return !messages[w] })
	})
	messages, problems := logged(log)
	for i, w := range want {
		if !messages[w] {
			problems = append(problems, fmt.Sprintf("line %d, %q not used: no %q in dnsmasq's log", i+1, lines[i], w))
		}
	}
	if len(problems) > 0 {
		t.Logf("dnsmasq's log:\n%s", log)
	}
	return problems
}

// runDnsmasqServersFile starts dnsmasq with lines as its servers file,
// waits until its log is complete (or a few seconds), stops it and returns
// its log.
func runDnsmasqServersFile(t *testing.T, lines []string, complete func(log string) bool) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "servers.conf")
	must(t, os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	for attempt := 0; ; attempt++ {
		log, err := tryDnsmasqServersFile(t, file, complete)
		if err == nil {
			return log
		}
		if attempt == 2 {
			t.Fatal(err)
		}
		t.Logf("%v; again", err)
	}
}

// syncBuffer is a bytes.Buffer that dnsmasq's output goroutine writes while
// the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tryDnsmasqServersFile is one try of runDnsmasqServersFile; an error means
// that dnsmasq exited (the port was taken meanwhile).
func tryDnsmasqServersFile(t *testing.T, file string, complete func(log string) bool) (string, error) {
	// A free port: dnsmasq reads a servers file only when it serves DNS.
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.LocalAddr().(*net.UDPAddr).Port
	l.Close()
	args := []string{"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--log-facility=-",
		"--pid-file", "--bind-interfaces", "--listen-address=127.0.0.1", "--port=" + strconv.Itoa(port),
		"--servers-file=" + file}
	if os.Geteuid() == 0 {
		args = append(args, "--user=root") // t.TempDir() is not for nobody
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, dnsmasqtest.Path, args...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	var log string
	err = wait.PollUntilContextCancel(ctx, 10*time.Millisecond, false, func(context.Context) (bool, error) {
		select {
		case err := <-exited:
			exited <- err
			return false, fmt.Errorf("dnsmasq %q exited: %v\n%s", args, err, out.String())
		default:
		}
		log = out.String()
		return complete(log), nil
	})
	switch {
	case err == nil:
		return log, nil
	case ctx.Err() != nil:
		return out.String(), nil // incomplete: the caller tells what is missing
	}
	return "", err
}
