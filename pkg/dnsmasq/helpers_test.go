package dnsmasq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/lameduck"
)

// chanSource delivers the configurations sent on it.
type chanSource chan *config.Config

func (s chanSource) Run(ctx context.Context, ch chan<- *config.Config) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-s:
			select {
			case ch <- c:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// errSource fails at once.
type errSource struct{ err error }

func (s errSource) Run(context.Context, chan<- *config.Config) error { return s.err }

// Bodies of stub dnsmasq scripts. Every stub first appends
// "start <pid> <unix nanos> <args>" to $EVENTS.
const (
	stubExit0   = `exit 0`
	stubExit1   = `echo "dnsmasq: bad option at line 1" >&2; exit 1`
	stubSleep   = `exec sleep 1000`
	stubIgnore  = `trap '' TERM; echo "ready $$" >> "$EVENTS"; while :; do sleep 0.05; done`
	stubForever = `trap 'echo "exit $$" >> "$EVENTS"; exit 0' TERM
trap 'echo "usr1 $$" >> "$EVENTS"' USR1
trap 'echo "hup $$ $(servers)" >> "$EVENTS"' HUP
echo "ready $$" >> "$EVENTS"
echo "dnsmasq: started"
while :; do sleep 0.05; done`
)

// stubPrelude runs before every stub body: it records the start, and
// defines servers, which prints the lines of the --servers-file argument's
// file joined by spaces. A "servers" event holds them at the start.
const stubPrelude = `echo "start $$ $(date +%s%N) $*" >> "$EVENTS"
SERVERS_FILE=
for a in "$@"; do case "$a" in --servers-file=*) SERVERS_FILE="${a#--servers-file=}";; esac; done
servers() { [ -n "$SERVERS_FILE" ] && tr '\n' ' ' < "$SERVERS_FILE" | sed 's/ $//'; }
[ -n "$SERVERS_FILE" ] && echo "servers $$ $(servers)" >> "$EVENTS"
`

// stubFailing fails its first n runs, then behaves like stubForever.
func stubFailing(n int) string {
	return fmt.Sprintf(`c=$(cat "$EVENTS.count" 2>/dev/null || echo 0); c=$((c+1)); echo $c > "$EVENTS.count"
if [ $c -le %d ]; then exit 1; fi
%s`, n, stubForever)
}

// stub writes a stub dnsmasq script with body and returns its path and the
// path of its events file.
func stub(t *testing.T, body string) (path, events string) {
	t.Helper()
	dir := t.TempDir()
	path, events = filepath.Join(dir, "dnsmasq"), filepath.Join(dir, "events")
	script := fmt.Sprintf("#!/bin/sh\nEVENTS=%q\n%s%s\n", events, stubPrelude, body)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, events
}

// event is one line of a stub's events file.
type event struct {
	kind string // start, servers, ready (signal traps set), exit, usr1, hup
	pid  int
	at   time.Time // start only
	args string    // start: the arguments; servers, hup: the servers file's lines
}

func readEvents(t *testing.T, path string) []event {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	// A stub may be writing a line right now: read only complete lines.
	text := string(b)
	text = text[:strings.LastIndexByte(text, '\n')+1]
	var out []event
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var e event
		var nanos int64
		f := strings.SplitN(line, " ", 4)
		if len(f) < 2 {
			continue
		}
		e.kind = f[0]
		fmt.Sscan(f[1], &e.pid)
		switch e.kind {
		case "start":
			fmt.Sscan(f[2], &nanos)
			e.at = time.Unix(0, nanos)
			if len(f) == 4 {
				e.args = f[3]
			}
		case "servers", "hup":
			e.args = strings.Join(f[2:], " ")
		}
		out = append(out, e)
	}
	return out
}

func count(events []event, kind string) int {
	n := 0
	for _, e := range events {
		if e.kind == kind {
			n++
		}
	}
	return n
}

// poll checks cond at once, then every interval, until it holds; it
// returns an error when timeout passes first.
func poll(interval, timeout time.Duration, cond func() bool) error {
	return wait.PollUntilContextTimeout(context.Background(), interval, timeout, true,
		func(context.Context) (bool, error) { return cond(), nil })
}

// waitFor polls cond every 10ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if poll(10*time.Millisecond, timeout, cond) != nil {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// alive reports whether a process with pid exists (reaped ones do not).
func alive(pid int) bool {
	return pid > 0 && syscall.Kill(pid, 0) == nil
}

// checkGoroutines fails unless the goroutine count returns to before.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	if poll(10*time.Millisecond, 5*time.Second, func() bool { return runtime.NumGoroutine() <= before }) != nil {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
	}
}

// stubAcceptAfter is the tests' AcceptAfter unless they give one: stubs
// refuse nothing.
const stubAcceptAfter = 50 * time.Millisecond

// fakeClock is a FakeClock that keeps the timers and tickers made on it,
// so that a test sees the delays the nanny asks for.
type fakeClock struct {
	*clocktesting.FakeClock
	mu      sync.Mutex
	timers  []time.Duration
	tickers []*countedTicker
}

func newFakeClock() *fakeClock {
	return &fakeClock{FakeClock: clocktesting.NewFakeClock(time.Unix(1e9, 0))}
}

func (c *fakeClock) NewTimer(d time.Duration) clock.Timer {
	t := c.FakeClock.NewTimer(d) // made before it is seen, so a step fires it
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timers = append(c.timers, d)
	return t
}

func (c *fakeClock) NewTicker(d time.Duration) clock.Ticker {
	t := &countedTicker{Ticker: c.FakeClock.NewTicker(d)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tickers = append(c.tickers, t)
	return t
}

// timersMade returns the durations of the timers made so far, in order.
func (c *fakeClock) timersMade() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.timers)
}

// tickersMade returns how many tickers were made so far.
func (c *fakeClock) tickersMade() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.tickers)
}

// waitTimer waits for the timer made after the first n and returns its
// duration.
func (c *fakeClock) waitTimer(t *testing.T, n int, what string) time.Duration {
	t.Helper()
	var ds []time.Duration
	waitFor(t, 5*time.Second, what, func() bool { ds = c.timersMade(); return len(ds) > n })
	return ds[n]
}

// waitTicker waits for the ticker made after the first n and returns it.
func (c *fakeClock) waitTicker(t *testing.T, n int, what string) *countedTicker {
	t.Helper()
	waitFor(t, 5*time.Second, what, func() bool { return c.tickersMade() > n })
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tickers[n]
}

// countedTicker counts the calls of C: lameduck.Wait calls it each time it
// waits for a tick, after it has handled the last.
type countedTicker struct {
	clock.Ticker
	waits atomic.Int64
}

func (t *countedTicker) C() <-chan time.Time {
	t.waits.Add(1)
	return t.Ticker.C()
}

// stepLameduck steps clk by lameduck.Poll, each time once the lameduck
// waits on its ticker tk for the next tick, until dnsmasq (pid) has
// stopped; it returns how far the clock moved.
func stepLameduck(t *testing.T, clk *fakeClock, tk *countedTicker, pid int) time.Duration {
	t.Helper()
	waitFor(t, 5*time.Second, "the lameduck's first wait", func() bool { return tk.waits.Load() > 0 })
	var stepped time.Duration
	for alive(pid) {
		if stepped >= time.Minute {
			t.Fatalf("dnsmasq still running after the clock moved %v", stepped)
		}
		w := tk.waits.Load()
		clk.Step(lameduck.Poll)
		stepped += lameduck.Poll
		waitFor(t, 5*time.Second, "the lameduck to take its tick", func() bool { return tk.waits.Load() > w || !alive(pid) })
	}
	return stepped
}

// fastRestarts keeps the lifecycle tests quick.
var fastRestarts = RestartPolicy{
	InitialDelay: 10 * time.Millisecond,
	MaxDelay:     40 * time.Millisecond,
	ResetAfter:   time.Hour,
	MaxFailures:  5,
	Window:       time.Hour,
}

// running is a Nanny whose Run is in progress.
type running struct {
	*Nanny
	src    chanSource
	cancel context.CancelFunc
	done   chan error
}

// sharedDir returns a temporary directory that every user can search, as
// dnsmasq started as root must to read its servers file as "nobody".
func sharedDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// logBuffer collects what a Nanny logs, at every verbosity.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() klog.Logger {
	return logr.FromSlogHandler(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.Level(-10)}))
}

// start creates a Nanny for exec with opts filled in for tests, runs it,
// and sends it cfg (no configuration when nil). Cleanup stops it.
func start(t *testing.T, opts Options, cfg *config.Config) *running {
	t.Helper()
	return startLogged(t, opts, cfg, nil)
}

// startLogged is start with the Nanny's log going to logs, when not nil.
// dnsmasq's default configuration file is one that does not exist, unless
// opts name one.
func startLogged(t *testing.T, opts Options, cfg *config.Config, logs *logBuffer) *running {
	t.Helper()
	if opts.DefaultConfFile == "" {
		opts.DefaultConfFile = filepath.Join(t.TempDir(), "no-dnsmasq.conf")
	}
	src := make(chanSource)
	if opts.Source == nil {
		opts.Source = src
	}
	if opts.Resolver == nil {
		opts.Resolver = dnstest.Hosts{}
	}
	if opts.SyncInterval == 0 {
		opts.SyncInterval = time.Hour
	}
	if opts.Restart == (RestartPolicy{}) {
		opts.Restart = fastRestarts
	}
	if opts.AcceptAfter == 0 {
		opts.AcceptAfter = stubAcceptAfter
	}
	n, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if logs != nil {
		ctx = klog.NewContext(ctx, logs.logger())
	}
	r := &running{Nanny: n, src: src, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	if cfg != nil {
		r.send(t, cfg)
	}
	return r
}

func (r *running) send(t *testing.T, cfg *config.Config) {
	t.Helper()
	select {
	case r.src <- cfg:
	case err := <-r.done:
		t.Fatalf("Run returned %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("configuration not taken")
	}
}

// stop cancels Run and returns its result.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	return r.result(t, 10*time.Second)
}

func (r *running) result(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for Cleanup
		return err
	case <-time.After(timeout):
		t.Fatalf("Run did not return within %v", timeout)
		return nil
	}
}

// waitReady waits until the n-th stub run has set its signal traps and is
// the running dnsmasq, and returns its PID.
func waitReady(t *testing.T, r *running, events string, n int) int {
	t.Helper()
	var pid int
	waitFor(t, 5*time.Second, fmt.Sprintf("run %d to be ready", n), func() bool {
		var ready []event
		for _, e := range readEvents(t, events) {
			if e.kind == "ready" {
				ready = append(ready, e)
			}
		}
		if len(ready) < n {
			return false
		}
		pid = ready[n-1].pid
		return r.PID() == pid
	})
	return pid
}

func lastStart(events []event) event { return last(events, "start") }

// last returns the last event of kind, or the zero event.
func last(events []event, kind string) event {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].kind == kind {
			return events[i]
		}
	}
	return event{}
}

// ofKind returns the events of kind, in order.
func ofKind(events []event, kind string) []event {
	var out []event
	for _, e := range events {
		if e.kind == kind {
			out = append(out, e)
		}
	}
	return out
}
