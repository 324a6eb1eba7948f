package integration

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// fakeDNS is a UDP DNS server on a loopback address that answers every A
// question with one address, TTL 0 (so that dnsmasq does not cache it: every
// query is forwarded), after delay and up to half as much again (at random,
// so that the clients of a slow server do not move in step), and remembers
// when it was asked each name.
type fakeDNS struct {
	addr   string // ip:port
	answer string // the A record's address
	delay  time.Duration

	mu   sync.Mutex
	seen map[string]time.Time
}

// startFakeDNS serves on ip (port chosen by the kernel) until the test ends.
func startFakeDNS(t *testing.T, ip, answer string, delay time.Duration) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{addr: pc.LocalAddr().String(), answer: answer, delay: delay, seen: map[string]time.Time{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: f, NotifyStartedFunc: func() { close(started) }}
	done := make(chan error, 1) // buffered: the goroutine never blocks on it
	go func() { done <- srv.ActivateAndServe() }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("fake DNS server on %s: %v", f.addr, err)
	}
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return f
}

func (f *fakeDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	if len(r.Question) != 1 {
		return
	}
	q := r.Question[0]
	f.mu.Lock()
	f.seen[strings.ToLower(q.Name)] = time.Now()
	f.mu.Unlock()
	if f.delay > 0 {
		time.Sleep(f.delay + rand.N(f.delay/2+1)) // the slow upstream this server stands for
	}
	m := new(dns.Msg)
	m.SetReply(r)
	if q.Qtype == dns.TypeA {
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 0},
			A:   net.ParseIP(f.answer),
		})
	}
	_ = w.WriteMsg(m)
}

// seenAt reports whether the server was asked name, and when.
func (f *fakeDNS) seenAt(name string) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.seen[strings.ToLower(name)]
	return at, ok
}

// hostPort is the server's address in the ConfigMap's "ip:port" form.
func (f *fakeDNS) hostPort() string { return f.addr }

// children returns the PIDs of the processes whose parent is ppid and whose
// command name is comm, read from /proc.
func children(t *testing.T, ppid int, comm string) []int {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone meanwhile
		}
		// pid (comm) state ppid ...; comm may hold spaces and parentheses.
		s := string(b)
		open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || close < open {
			continue
		}
		f := strings.Fields(s[close+1:])
		if len(f) < 2 || s[open+1:close] != comm {
			continue
		}
		if pp, _ := strconv.Atoi(f[1]); pp == ppid {
			pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
			out = append(out, pid)
		}
	}
	return out
}

// onlyChild returns the PID of the one child of ppid called comm.
func onlyChild(t *testing.T, ppid int, comm string) int {
	t.Helper()
	var pids []int
	if _, err := eventually(10*time.Second, func() error {
		if pids = children(t, ppid, comm); len(pids) != 1 {
			return fmt.Errorf("%d has %d children called %s: %v", ppid, len(pids), comm, pids)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return pids[0]
}
