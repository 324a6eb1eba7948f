package dnsmasq

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/lameduck"
)

func TestNew(t *testing.T) {
	ok := Options{Exec: "/bin/true", Source: make(chanSource), Resolver: dnstest.Hosts{}}
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
	dir := sharedDir(t)
	r := start(t, Options{Exec: exe, Args: []string{"--cache-size=10", "-R"}, ServersDir: dir}, config.Default())
	waitFor(t, 5*time.Second, "dnsmasq to start", func() bool { return count(readEvents(t, events), "start") == 1 && r.PID() != 0 })
	pid := r.PID()
	e := ofKind(readEvents(t, events), "start")
	const want = "--keep-in-foreground --cache-size=10 -R --servers-file=" // -k added; -R: no --no-resolv
	if len(e) != 1 || !strings.HasPrefix(e[0].args, want) {
		t.Errorf("starts = %+v, want one with %q", e, want)
	}
	serversFile := strings.TrimPrefix(e[0].args, want)
	if filepath.Dir(filepath.Dir(serversFile)) != dir {
		t.Errorf("servers file %s, not in a directory of %s", serversFile, dir)
	}
	if err := r.stop(t); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if alive(pid) || r.PID() != 0 {
		t.Errorf("dnsmasq %d still there after Run returned", pid)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%s holds %v after Run returned", dir, left)
	}
	checkGoroutines(t, before)
}

// A dnsmasq that ignores SIGTERM is killed when the nanny's clock has
// passed the grace period.
func TestKillAfterGracePeriod(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubIgnore)
	const grace = 300 * time.Millisecond
	clk := newFakeClock()
	r := start(t, Options{Exec: exe, GracePeriod: grace, Clock: clk}, config.Default())
	pid := waitReady(t, r, events, 1)
	n := len(clk.timersMade())
	r.cancel()
	if d := clk.waitTimer(t, n, "the grace period's timer"); d != grace {
		t.Errorf("SIGKILL due %v after SIGTERM, want the %v grace period", d, grace)
	}
	if !alive(pid) {
		t.Errorf("dnsmasq %d killed before the %v grace period passed", pid, grace)
	}
	clk.Step(grace)
	if err := r.result(t, 10*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if alive(pid) {
		t.Errorf("dnsmasq %d survived", pid)
	}
	checkGoroutines(t, before)
}

// After the context ends dnsmasq answers for Lameduck more, then stops;
// one that exits meanwhile ends the wait.
func TestLameduck(t *testing.T) {
	exe, events := stub(t, stubSleep)
	running := func(r *running, starts int) int {
		waitFor(t, 5*time.Second, "dnsmasq to start", func() bool { return count(readEvents(t, events), "start") == starts && r.PID() != 0 })
		return r.PID()
	}
	const lameduck = 400 * time.Millisecond
	clk := newFakeClock()
	r := start(t, Options{Exec: exe, Lameduck: lameduck, Clock: clk}, config.Default())
	pid := running(r, 1)
	n := clk.tickersMade()
	r.cancel()
	if took := stepLameduck(t, clk, clk.waitTicker(t, n, "the lameduck's ticker"), pid); took < lameduck {
		t.Errorf("dnsmasq stopped %v after the cancel, before the %v lameduck", took, lameduck)
	}
	if err := r.result(t, 5*time.Second); err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}

	r = start(t, Options{Exec: exe, Lameduck: time.Hour}, config.Default())
	pid = running(r, 2)
	r.cancel()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := r.result(t, 5*time.Second); err != nil {
		t.Fatalf("Run = %v after dnsmasq died in the lameduck, want nil", err)
	}
}

// While queries still come (Received moves) past Lameduck, dnsmasq keeps
// answering until a quiet second, at most LameduckMax, of the nanny's clock.
func TestLameduckWhileQueriesCome(t *testing.T) {
	exe, events := stub(t, stubSleep)
	const busy = 1500 * time.Millisecond
	for _, tt := range []struct {
		name     string
		max      time.Duration
		min, lim time.Duration // bounds of when dnsmasq stops
	}{
		{"stops a quiet second after the queries", 10 * time.Second, busy + lameduck.DnsmasqQuiet, busy + lameduck.DnsmasqQuiet + time.Second},
		{"stops at LameduckMax while they still come", 700 * time.Millisecond, 700 * time.Millisecond, busy},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			var began atomic.Int64 // when the cancel came, in clk's UnixNano; 0 before
			received := func() (uint64, error) {
				b := began.Load()
				if b == 0 || clk.Since(time.Unix(0, b)) < busy {
					return uint64(clk.Now().UnixNano()), nil // queries arriving
				}
				return 0, nil
			}
			starts := count(readEvents(t, events), "start")
			r := start(t, Options{Exec: exe, Lameduck: 200 * time.Millisecond, LameduckMax: tt.max, Received: received, Clock: clk}, config.Default())
			waitFor(t, 5*time.Second, "dnsmasq to start", func() bool { return count(readEvents(t, events), "start") == starts+1 && r.PID() != 0 })
			pid := r.PID()
			n := clk.tickersMade()
			began.Store(clk.Now().UnixNano())
			r.cancel()
			took := stepLameduck(t, clk, clk.waitTicker(t, n, "the lameduck's ticker"), pid)
			if took < tt.min || took > tt.lim {
				t.Errorf("dnsmasq stopped %v after the cancel, want between %v and %v", took, tt.min, tt.lim)
			}
			if err := r.result(t, 5*time.Second); err != nil {
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

func TestRestartWithBackoff(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubFailing(3))
	clk := newFakeClock()
	r := start(t, Options{Exec: exe, Clock: clk}, config.Default())
	// Each restart waits for its delay on the nanny's clock: 10ms, 20ms,
	// 40ms. The other timers are the trials of AcceptAfter.
	for i, want := range []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond} {
		var delays []time.Duration
		waitFor(t, 5*time.Second, fmt.Sprintf("restart %d's timer", i+1), func() bool {
			delays = slices.DeleteFunc(clk.timersMade(), func(d time.Duration) bool { return d == stubAcceptAfter })
			return len(delays) > i
		})
		if delays[i] != want {
			t.Errorf("restart %d after %v, want %v", i+1, delays[i], want)
		}
		if n := count(readEvents(t, events), "start"); n != i+1 {
			t.Errorf("%d starts before the clock passed restart %d's delay, want %d", n, i+1, i+1)
		}
		clk.Step(delays[i])
	}
	waitReady(t, r, events, 1) // the fourth run
	e := ofKind(readEvents(t, events), "start")
	if len(e) != 4 || e[3].pid != r.PID() {
		t.Errorf("events %+v, PID() = %d: want the fourth start running", e, r.PID())
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
