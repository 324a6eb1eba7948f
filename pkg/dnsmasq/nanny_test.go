package dnsmasq

import (
	"context"
	"errors"
	"io/fs"
	"net/netip"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
)

func TestNew(t *testing.T) {
	ok := Options{Exec: "/bin/true", Source: make(chanSource), Resolver: fakeResolver{}}
	for _, tt := range []struct {
		name   string
		modify func(*Options)
		want   string
	}{
		{name: "no exec", modify: func(o *Options) { o.Exec = "" }, want: "executable"},
		{name: "no source", modify: func(o *Options) { o.Source = nil }, want: "source"},
		{name: "no resolver", modify: func(o *Options) { o.Resolver = nil }, want: "resolver"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := ok
			tt.modify(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one about %q", err, tt.want)
			}
		})
	}
	n, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if n.opts.GracePeriod != DefaultGracePeriod || n.opts.SyncInterval != 10*time.Second || n.opts.Restart != DefaultRestartPolicy() {
		t.Errorf("defaults not applied: %+v", n.opts)
	}
}

func TestStopOnCancel(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubSleep)
	r := start(t, Options{Exec: exe, Args: []string{"--cache-size=10"}}, config.Default())
	waitFor(t, 5*time.Second, "dnsmasq to start", func() bool { return len(readEvents(t, events)) == 1 && r.PID() != 0 })
	pid := r.PID()
	if e := readEvents(t, events); len(e) != 1 || e[0].args != "--keep-in-foreground --cache-size=10" {
		t.Errorf("events = %+v, want one start with -k added", e)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if alive(pid) || r.PID() != 0 {
		t.Errorf("dnsmasq %d still there after Run returned", pid)
	}
	checkGoroutines(t, before)
}

func TestKillAfterGracePeriod(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubIgnore)
	const grace = 300 * time.Millisecond
	r := start(t, Options{Exec: exe, GracePeriod: grace}, config.Default())
	pid := waitReady(t, r, events, 1)
	began := time.Now()
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if took := time.Since(began); took < grace {
		t.Errorf("stopped after %v, before the %v grace period", took, grace)
	}
	if alive(pid) {
		t.Errorf("dnsmasq %d survived", pid)
	}
	checkGoroutines(t, before)
}

func TestRestartWithBackoff(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubFailing(3))
	r := start(t, Options{Exec: exe}, config.Default())
	waitReady(t, r, events, 1) // the fourth run
	e := readEvents(t, events)
	if count(e, "start") != 4 || e[3].pid != r.PID() {
		t.Errorf("events %+v, PID() = %d: want the fourth start running", e, r.PID())
	}
	// Timers never fire early: the gaps are at least 10ms, 20ms, 40ms.
	for i, min := range []time.Duration{10, 20, 40} {
		if gap := e[i+1].at.Sub(e[i].at); gap < min*time.Millisecond {
			t.Errorf("restart %d after %v, want at least %vms", i+1, gap, min)
		}
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	checkGoroutines(t, before)
}

func TestCrashLoop(t *testing.T) {
	for _, tt := range []struct {
		name, body, reason string
	}{
		{name: "exit 1", body: stubExit1, reason: "exit status 1"},
		{name: "exit 0", body: stubExit0, reason: "exit status 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			exe, events := stub(t, tt.body)
			r := start(t, Options{Exec: exe}, config.Default())
			err := r.result(t, 10*time.Second)
			if err == nil || !strings.Contains(err.Error(), "failed 5 times") || !strings.Contains(err.Error(), tt.reason) {
				t.Fatalf("Run = %v, want a crash-loop error with %q", err, tt.reason)
			}
			if n := count(readEvents(t, events), "start"); n != 5 {
				t.Errorf("%d starts, want 5", n)
			}
			checkGoroutines(t, before)
		})
	}
}

func TestCrashLoopErrorUnwraps(t *testing.T) {
	exe, _ := stub(t, stubExit1)
	r := start(t, Options{Exec: exe}, config.Default())
	var ee *exec.ExitError
	if err := r.result(t, 10*time.Second); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("Run = %v, want it to wrap an *exec.ExitError with code 1", err)
	}
}

func TestStartFailure(t *testing.T) {
	r := start(t, Options{Exec: "/nonexistent/dnsmasq"}, config.Default())
	if err := r.result(t, 10*time.Second); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Run = %v, want a crash-loop error wrapping ErrNotExist", err)
	}
}

func TestCancelDuringBackoff(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubExit1)
	slow := fastRestarts
	slow.InitialDelay, slow.MaxDelay = time.Hour, time.Hour
	r := start(t, Options{Exec: exe, Restart: slow}, config.Default())
	waitFor(t, 5*time.Second, "dnsmasq to exit", func() bool { return count(readEvents(t, events), "start") == 1 && r.PID() == 0 })
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	checkGoroutines(t, before)
}

func TestSourceError(t *testing.T) {
	exe, events := stub(t, stubSleep)
	boom := errors.New("boom")
	r := start(t, Options{Exec: exe, Source: errSource{boom}}, nil)
	if err := r.result(t, 5*time.Second); !errors.Is(err, boom) {
		t.Errorf("Run = %v, want it to wrap %v", err, boom)
	}
	if n := len(readEvents(t, events)); n != 0 {
		t.Errorf("dnsmasq started without a configuration")
	}
}

func stubConfig(t *testing.T, stubs string) *config.Config {
	return mustParse(t, map[string]string{"stubDomains": stubs})
}

func TestConfigChangeRestarts(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubForever)
	r := start(t, Options{Exec: exe, RestartOnChange: true}, config.Default())
	first := waitReady(t, r, events, 1)

	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	waitReady(t, r, events, 2)
	e := readEvents(t, events)
	if len(e) != 5 || e[2].kind != "exit" || e[2].pid != first || e[3].kind != "start" {
		t.Fatalf("events = %+v, want start, ready, exit of the old one, start, ready", e)
	}
	if e[3].args != "--keep-in-foreground --server=/acme.local/1.2.3.4#53" {
		t.Errorf("new args = %q", e[3].args)
	}

	// The same arguments from a new version: no restart. A later change
	// shows the same version was processed first.
	same := stubConfig(t, `{"acme.local":["1.2.3.4:53"]}`)
	same.Version = "v2"
	r.send(t, same)
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.5"]}`))
	waitReady(t, r, events, 3)
	if n := count(readEvents(t, events), "exit"); n != 2 {
		t.Errorf("%d exits, want 2", n)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
}

func TestConfigChangeWithoutRestart(t *testing.T) {
	exe, events := stub(t, stubForever)
	r := start(t, Options{Exec: exe}, config.Default())
	first := waitReady(t, r, events, 1)
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.5"]}`)) // taken: the first was processed
	if r.PID() != first || count(readEvents(t, events), "start") != 1 {
		t.Fatalf("dnsmasq restarted without -restartDnsmasq")
	}
	// It dies: the next start uses the latest configuration.
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitReady(t, r, events, 2)
	e := readEvents(t, events)
	if last := lastStart(e); last.args != "--keep-in-foreground --server=/acme.local/1.2.3.5#53" {
		t.Errorf("restarted with %q", last.args)
	}
}

// changingResolver resolves every name to addr and counts lookups.
type changingResolver struct {
	mu      sync.Mutex
	addr    netip.Addr
	lookups atomic.Int64
}

func (c *changingResolver) set(a string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addr = netip.MustParseAddr(a)
}

func (c *changingResolver) LookupAddrs(context.Context, string) ([]netip.Addr, error) {
	c.lookups.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return []netip.Addr{c.addr}, nil
}

func TestNamesResolvedAgain(t *testing.T) {
	exe, events := stub(t, stubForever)
	res := &changingResolver{}
	res.set("192.0.2.1")
	r := start(t, Options{Exec: exe, RestartOnChange: true, Resolver: res, SyncInterval: 20 * time.Millisecond},
		stubConfig(t, `{"acme.local": ["dns.my.corp"]}`))
	waitReady(t, r, events, 1)
	// Several syncs with the same answer: no restart.
	waitFor(t, 5*time.Second, "five lookups", func() bool { return res.lookups.Load() >= 5 })
	if n := count(readEvents(t, events), "start"); n != 1 {
		t.Fatalf("%d starts with unchanged names, want 1", n)
	}
	res.set("192.0.2.2")
	waitFor(t, 5*time.Second, "the restart", func() bool { return count(readEvents(t, events), "start") == 2 })
	e := readEvents(t, events)
	if last := lastStart(e); last.args != "--keep-in-foreground --server=/acme.local/192.0.2.2#53" {
		t.Errorf("restarted with %q", last.args)
	}
}

func TestLogInterval(t *testing.T) {
	exe, events := stub(t, stubForever)
	r := start(t, Options{Exec: exe, LogInterval: 50 * time.Millisecond}, config.Default())
	waitFor(t, 5*time.Second, "two SIGUSR1", func() bool { return count(readEvents(t, events), "usr1") >= 2 })
	if n := count(readEvents(t, events), "start"); n != 1 {
		t.Errorf("%d starts, want 1: SIGUSR1 must not stop dnsmasq", n)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestOutput(t *testing.T) {
	o := &output{}
	w := o.stream("stderr")
	for _, chunk := range []string{"one\ntw", "o\r\n", strings.Repeat("x", maxLine+1), "\n"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	for i := range tailLines {
		_, _ = w.Write([]byte{byte('a' + i), '\n'})
	}
	_, _ = w.Write([]byte("partial"))
	o.flush()
	got := o.last()
	want := []string{"b", "c", "d", "e", "f", "g", "h", "i", "j", "partial"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("last() = %q, want %q", got, want)
	}
}

func TestOutputLongLines(t *testing.T) {
	o := &output{}
	w := o.stream("stdout")
	_, _ = w.Write([]byte("one\ntwo\r\n" + strings.Repeat("x", maxLine+1) + "\n"))
	got := o.last()
	if len(got) != 4 || got[0] != "one" || got[1] != "two" || len(got[2]) != maxLine || got[3] != "x" {
		t.Errorf("last() = %q", got)
	}
}
