package dnsmasq

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

func TestFDsNeeded(t *testing.T) {
	for _, c := range []struct {
		args []string
		want uint64
	}{
		{nil, 20 + 75 + ownFDs}, // dnsmasq's defaults
		{[]string{"--max-tcp-connections=1000", "--dns-forward-max=1500"}, 1000 + 750 + ownFDs},
		{[]string{"--max-tcp-connections", "300", "-0", "200"}, 300 + 100 + ownFDs},
		{[]string{"-k", "-0400"}, 20 + 200 + ownFDs},
	} {
		if got := fdsNeeded(parseDnsmasqArgs(c.args)); got != c.want {
			t.Errorf("fdsNeeded(%q) = %d, want %d", c.args, got, c.want)
		}
	}
}

// openFilesLimit reads a process's soft and hard RLIMIT_NOFILE.
func openFilesLimit(t *testing.T, pid int) (soft, hard uint64) {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for s := bufio.NewScanner(f); s.Scan(); {
		if rest, ok := strings.CutPrefix(s.Text(), "Max open files"); ok {
			fields := strings.Fields(rest)
			soft, _ = strconv.ParseUint(fields[0], 10, 64)
			hard, _ = strconv.ParseUint(fields[1], 10, 64)
			return soft, hard
		}
	}
	t.Fatalf("no open files limit for %d", pid)
	return 0, 0
}

// TestDnsmasqGetsTheHardFileLimit: the nanny was given a low soft limit (as
// a container under containerd 2 is: 1024), and dnsmasq, serving more TCP
// clients at once than that leaves descriptors for, gets the hard limit
// and keeps running. With the low limit, dnsmasq 2.90 exits when a
// connection finds no descriptor for its child's pipe.
func TestDnsmasqGetsTheHardFileLimit(t *testing.T) {
	dnsmasqtest.Require(t)
	var orig syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
		t.Fatal(err)
	}
	const low = 128
	const clients = 200 // more TCP connections than low leaves room for
	if orig.Max < 2*clients+ownFDs+200 {
		t.Skipf("the hard RLIMIT_NOFILE (%d) leaves no room for the test", orig.Max)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: low, Max: orig.Max}); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &orig); err != nil {
				t.Error(err)
			}
		}
	}
	defer restore()

	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := append(listenArgs("127.0.0.1", port), "--max-tcp-connections=1000", "--address=/example.test/10.1.2.3")
	r := start(t, Options{Exec: dnsmasqtest.Path, Args: args}, &config.Config{})
	waitAnswer(t, addr, "x.example.test", "10.1.2.3")
	pid := r.PID()
	// The nanny raised its own limit in Run: the test's descriptors need
	// room too, from here on.
	restore()
	if soft, hard := openFilesLimit(t, pid); soft != orig.Max || hard != orig.Max {
		t.Errorf("dnsmasq's open files limit %d (hard %d), want the hard limit %d", soft, hard, orig.Max)
	}

	// clients TCP connections held open at once, each answered.
	conns := make([]*dns.Conn, 0, clients)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range clients {
		c, err := dns.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns = append(conns, c)
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.WriteMsg(new(dns.Msg).SetQuestion(fmt.Sprintf("h%d.example.test.", i), dns.TypeA)); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		m, err := c.ReadMsg()
		if err != nil || len(m.Answer) != 1 {
			t.Fatalf("connection %d: %v %v", i, m, err)
		}
	}
	if r.PID() != pid || !alive(pid) {
		t.Fatalf("dnsmasq %d did not keep running with %d TCP clients (now %d)", pid, clients, r.PID())
	}
}
