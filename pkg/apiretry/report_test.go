package apiretry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// entry is one log call.
type entry struct {
	level int // -1 for errors
	msg   string
	kv    map[string]string
}

// logSink records every log call at any verbosity.
type logSink struct {
	mu      *sync.Mutex
	entries *[]entry
	kv      []any
}

func (s logSink) Init(klog.RuntimeInfo) {}
func (s logSink) Enabled(int) bool      { return true }
func (s logSink) Info(level int, msg string, kv ...any) {
	s.add(level, msg, kv)
}
func (s logSink) Error(err error, msg string, kv ...any) {
	s.add(-1, msg, append(kv, "err", err))
}
func (s logSink) WithValues(kv ...any) klog.LogSink {
	s.kv = append(append([]any(nil), s.kv...), kv...)
	return s
}
func (s logSink) WithName(string) klog.LogSink { return s }

func (s logSink) add(level int, msg string, kv []any) {
	e := entry{level: level, msg: msg, kv: map[string]string{}}
	all := append(append([]any(nil), s.kv...), kv...)
	for i := 0; i+1 < len(all); i += 2 {
		e.kv[fmt.Sprint(all[i])] = fmt.Sprint(all[i+1])
	}
	s.mu.Lock()
	*s.entries = append(*s.entries, e)
	s.mu.Unlock()
}

// logged is a context whose logger records into the returned function's result.
func logged() (context.Context, func() []entry) {
	var (
		mu      sync.Mutex
		entries []entry
	)
	ctx := klog.NewContext(context.Background(), klog.New(logSink{mu: &mu, entries: &entries}))
	return ctx, func() []entry {
		mu.Lock()
		defer mu.Unlock()
		return append([]entry(nil), entries...)
	}
}

// errorsLogged returns the error entries.
func errorsLogged(entries []entry) []entry {
	var out []entry
	for _, e := range entries {
		if e.level < 0 {
			out = append(out, e)
		}
	}
	return out
}

// TestReportOncePerCause: a permanent error is logged once per cause, in
// words, until a call of the verb that failed succeeds; retries are not.
func TestReportOncePerCause(t *testing.T) {
	ctx, entries := logged()
	f := newFixture(t, 1)
	for range 3 {
		f.do(ctx, "list", untrusted)
	}
	f.do(ctx, "list", forbidden)
	f.do(ctx, "list", forbidden)
	f.do(ctx, "watch")           // another verb's success
	f.do(ctx, "list", untrusted) // still reported
	errs := errorsLogged(entries())
	if len(errs) != 2 {
		t.Fatalf("%d error lines, want 2 (tls, forbidden): %+v", len(errs), errs)
	}
	if e := errs[0]; e.msg != "kubedns cannot watch; the API server's certificate is not trusted by the CA of the kubeconfig or service account" ||
		e.kv["resource"] != "services" || e.kv["cause"] != "tls" || !strings.Contains(e.kv["err"], "x509: certificate signed by unknown authority") {
		t.Errorf("TLS report: %+v", e)
	}
	if e := errs[1]; e.msg != "kubedns cannot watch; check the ClusterRole" || e.kv["cause"] != "forbidden" {
		t.Errorf("Forbidden report: %+v", e)
	}
	if n := counter(t, f.m, "services", TLS); n != 4 {
		t.Errorf("counted %v TLS failures, want 4", n)
	}

	f.do(ctx, "list") // mended: a new failure is news
	f.do(ctx, "list", untrusted)
	if errs := errorsLogged(entries()); len(errs) != 3 {
		t.Errorf("%d error lines after the list mended and failed again, want 3", len(errs))
	}
}

func TestReportOutage(t *testing.T) {
	ctx, entries := logged()
	f := newFixture(t, 1)
	f.do(ctx, "watch", repeat(refused, 5)...)
	var msgs []string
	for _, e := range entries() {
		if e.level == 0 || e.level < 0 {
			msgs = append(msgs, e.msg)
		}
	}
	if want := []string{"API server unreachable, retrying", "API server reachable again"}; fmt.Sprint(msgs) != fmt.Sprint(want) {
		t.Errorf("logged %q, want %q", msgs, want)
	}
}

func TestReportNamesTheRole(t *testing.T) {
	ctx, entries := logged()
	r := New("configmaps", Options{Name: "kube-system/kube-dns", Role: "Role"})
	Do(ctx, r, "list", func() (int, error) { return 0, forbidden })
	errs := errorsLogged(entries())
	if len(errs) != 1 || errs[0].msg != "kubedns cannot watch; check the Role" || errs[0].kv["name"] != "kube-system/kube-dns" ||
		errs[0].kv["resource"] != "configmaps" {
		t.Errorf("logged %+v", errs)
	}
}

// TestHandleWatchError: what Do reported reaches the reflector's handler,
// which does not log it again; anything else goes to client-go's handler.
func TestHandleWatchError(t *testing.T) {
	ctx, entries := logged()
	f := newFixture(t, 1)
	refl := &cache.Reflector{}
	for range 3 {
		_, _, err := f.do(ctx, "list", untrusted)
		f.r.HandleWatchError(ctx, refl, fmt.Errorf("failed to list *v1.Service: %w", err))
	}
	if errs := errorsLogged(entries()); len(errs) != 1 {
		t.Errorf("%d error lines, want the one report: %+v", len(errs), errs)
	}
	f.r.HandleWatchError(ctx, refl, errors.New("very short watch"))
	if errs := errorsLogged(entries()); len(errs) != 2 || errs[1].kv["err"] != "very short watch" {
		t.Errorf("an error Do did not see was not logged: %+v", errs)
	}
}

// A kube-apiserver that has just started denies requests until its
// authorizer has loaded: right after an outage a Forbidden is retried as
// part of it, not reported; one that lasts past StartupGrace is.
func TestForbiddenRightAfterAnOutage(t *testing.T) {
	ctx, entries := logged()
	f := newFixture(t, 1)
	_, calls, err := f.do(ctx, "watch", append(repeat(refused, 3), repeat(forbidden, 3)...)...)
	if err != nil || calls != 7 {
		t.Errorf("Do = %v after %d calls, want success after 7", err, calls)
	}
	if errs := errorsLogged(entries()); len(errs) != 0 {
		t.Errorf("reported %+v, want nothing", errs)
	}
	// The next call, a list, is denied too: still the API server's start.
	if _, _, err := f.do(ctx, "list", forbidden); err != nil {
		t.Errorf("list = %v, want success after the retry", err)
	}

	f = newFixture(t, 2)
	waits, _, err := f.do(ctx, "watch", append(repeat(refused, 2), repeat(forbidden, 40)...)...)
	var waited time.Duration
	for _, w := range waits {
		waited += w
	}
	if errs := errorsLogged(entries()); err == nil || len(errs) != 1 || errs[0].kv["cause"] != "forbidden" {
		t.Errorf("Do = %v, reported %+v; want the Forbidden reported once", err, errs)
	}
	if waited < StartupGrace {
		t.Errorf("reported after %v of retries, before StartupGrace (%v)", waited, StartupGrace)
	}
}
