package apiretry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"
	testingclock "k8s.io/utils/clock/testing"
)

var (
	refused   = urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)})
	untrusted = urlErr(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}})
	forbidden = apierrors.NewForbidden(schema.GroupResource{Resource: "services"}, "", errors.New("no RBAC"))
)

// recordingClock is a fake clock that tells the test every wait Do starts.
type recordingClock struct {
	*testingclock.FakeClock
	waits chan time.Duration
}

func newClock() *recordingClock {
	return &recordingClock{FakeClock: testingclock.NewFakeClock(time.Unix(1e9, 0)), waits: make(chan time.Duration)}
}

func (c *recordingClock) NewTimer(d time.Duration) clock.Timer {
	t := c.FakeClock.NewTimer(d)
	c.waits <- d
	return t
}

// fixture is a Retrier on a fake clock, with seeded jitter and metrics.
type fixture struct {
	t     *testing.T
	clock *recordingClock
	r     *Retrier
	m     *Metrics
}

func newFixture(t *testing.T, seed uint64) *fixture {
	t.Helper()
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, clock: newClock(), m: m}
	f.r = New("services", Options{Clock: f.clock, Rand: rand.New(rand.NewPCG(seed, 0)), Metrics: m})
	return f
}

// do runs one Do whose calls fail with errs in turn and then succeed,
// stepping the clock over every wait, and returns the waits, the number of
// calls and Do's error.
func (f *fixture) do(ctx context.Context, verb string, errs ...error) (waits []time.Duration, calls int, err error) {
	f.t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := Do(ctx, f.r, verb, func() (int, error) {
			calls++
			if calls <= len(errs) {
				return 0, errs[calls-1]
			}
			return calls, nil
		})
		done <- err
	}()
	for {
		select {
		case d := <-f.clock.waits:
			waits = append(waits, d)
			f.clock.Step(d)
		case err := <-done:
			return waits, calls, err
		case <-time.After(10 * time.Second):
			f.t.Fatalf("Do did not return; waits so far %v", waits)
		}
	}
}

func repeat(err error, n int) []error {
	out := make([]error, n)
	for i := range out {
		out[i] = err
	}
	return out
}

// checkBackoff checks every wait against the default backoff: the d of the
// retry (250 ms doubling, at most 2 s), jittered into [d/2, d].
func checkBackoff(t *testing.T, waits []time.Duration) {
	t.Helper()
	for i, w := range waits {
		d := min(DefaultInitial<<i, DefaultMax)
		if w < d/2 || w > d {
			t.Errorf("wait %d = %v, want within [%v, %v]", i, w, d/2, d)
		}
	}
}

func TestDoPermanentErrorAtOnce(t *testing.T) {
	for name, err := range map[string]error{
		"tls":          untrusted,
		"dns":          urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}),
		"unauthorized": apierrors.NewUnauthorized("Unauthorized"),
		"forbidden":    forbidden,
		"not found":    apierrors.NewNotFound(schema.GroupResource{Resource: "services"}, ""),
		"internal":     apierrors.NewInternalError(errors.New("boom")),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, 1)
			waits, calls, got := f.do(context.Background(), "list", err)
			if calls != 1 || len(waits) != 0 || !errors.Is(got, err) {
				t.Errorf("%d calls, waits %v, err %v; want one call, no wait, the error", calls, waits, got)
			}
			if got.Error() != err.Error() {
				t.Errorf("the error says %q, want %q", got, err)
			}
		})
	}
}

func TestDoRetriesOutages(t *testing.T) {
	for name, err := range map[string]error{
		"refused":     refused,
		"i/o timeout": urlErr(&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}),
		"503":         apierrors.NewServiceUnavailable("starting"),
		"429":         apierrors.NewTooManyRequests("slow down", 0),
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, 1)
			waits, calls, got := f.do(context.Background(), "list", repeat(err, 3)...)
			if got != nil || calls != 4 || len(waits) != 3 {
				t.Fatalf("err %v after %d calls and waits %v; want success at the 4th call after 3 waits", got, calls, waits)
			}
			checkBackoff(t, waits)
			if n := counter(t, f.m, "services", Classify(err)); n != 3 {
				t.Errorf("counted %v failures, want 3", n)
			}
		})
	}
}

func TestBackoffCapped(t *testing.T) {
	f := newFixture(t, 7)
	waits, _, err := f.do(context.Background(), "watch", repeat(refused, 12)...)
	if err != nil {
		t.Fatal(err)
	}
	checkBackoff(t, waits)
	for _, w := range waits {
		if w > DefaultMax {
			t.Errorf("wait %v over the cap %v", w, DefaultMax)
		}
	}
}

// TestBackoffJittered: two replicas that lose the API server at the same
// instant do not call it again at the same instants.
func TestBackoffJittered(t *testing.T) {
	a, b := newFixture(t, 1), newFixture(t, 2)
	wa, _, _ := a.do(context.Background(), "list", repeat(refused, 10)...)
	wb, _, _ := b.do(context.Background(), "list", repeat(refused, 10)...)
	checkBackoff(t, wa)
	checkBackoff(t, wb)
	var ta, tb time.Duration
	for i := range wa {
		ta, tb = ta+wa[i], tb+wb[i]
		if ta == tb {
			t.Errorf("retry %d of both at %v: in lockstep (waits %v and %v)", i, ta, wa, wb)
		}
	}
	if wa[len(wa)-1] == wa[len(wa)-2] {
		t.Errorf("capped waits without jitter: %v", wa)
	}
}

func TestRetryAfter(t *testing.T) {
	withRetryAfter := func(seconds int32) error {
		err := apierrors.NewServiceUnavailable("come back later")
		err.ErrStatus.Details = &metav1.StatusDetails{RetryAfterSeconds: seconds}
		return err
	}
	tests := []struct {
		name     string
		err      error
		min, max time.Duration
	}{
		{name: "429", err: apierrors.NewTooManyRequests("slow down", 3), min: 3 * time.Second, max: 3*time.Second + DefaultInitial/2},
		{name: "503", err: withRetryAfter(5), min: 5 * time.Second, max: 5*time.Second + DefaultInitial/2},
		{name: "bounded", err: withRetryAfter(3600), min: MaxRetryAfter, max: MaxRetryAfter + DefaultInitial/2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 3)
			waits, _, err := f.do(context.Background(), "list", tt.err)
			if err != nil || len(waits) != 1 || waits[0] < tt.min || waits[0] > tt.max {
				t.Errorf("waits %v, err %v; want one wait within [%v, %v]", waits, err, tt.min, tt.max)
			}
		})
	}
}

func TestBackoffResetsAfterSuccess(t *testing.T) {
	f := newFixture(t, 5)
	if _, _, err := f.do(context.Background(), "watch", repeat(refused, 6)...); err != nil {
		t.Fatal(err)
	}
	waits, _, err := f.do(context.Background(), "watch", refused, refused)
	if err != nil {
		t.Fatal(err)
	}
	checkBackoff(t, waits) // from 250 ms again, not from the cap
}

func TestDoStopsWithTheContext(t *testing.T) {
	f := newFixture(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Do(ctx, f.r, "list", func() (int, error) { return 0, refused })
		done <- err
	}()
	<-f.clock.waits
	if got := gauge(t, f.m, "services"); got != 1 {
		t.Errorf("kubedns_api_unreachable = %v during the outage, want 1", got)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("err %v, want the outage's", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Do did not return when its context ended")
	}
	if got := gauge(t, f.m, "services"); got != 0 {
		t.Errorf("kubedns_api_unreachable = %v after Do returned, want 0", got)
	}
	if got := counter(t, f.m, "services", Unreachable); got != 1 {
		t.Errorf("kubedns_api_errors_total{cause=unreachable} = %v, want 1", got)
	}
}
