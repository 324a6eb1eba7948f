package apiretry

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// The default backoff: from 250 ms, doubled at each retry, up to 2 s, which
// is also how long after the API server's return a caller may wait at most.
const (
	DefaultInitial = 250 * time.Millisecond
	DefaultMax     = 2 * time.Second
)

// MaxRetryAfter bounds the delay a server's Retry-After may ask for.
const MaxRetryAfter = 30 * time.Second

// Backoff is the delay between the retries of an outage: Initial, doubled at
// each retry up to Max, each delay drawn uniformly in [d/2, d] (equal
// jitter), so that clients that failed together do not retry together. A
// Retry-After from the server replaces the exponential delay, plus the same
// jitter. Zero fields take the defaults.
type Backoff struct {
	Initial, Max time.Duration
}

// delay is the wait after the retry-th consecutive failure (from 0), with
// u uniform in [0, 1) and retryAfter the server's, or 0.
func (b Backoff) delay(retry int, u float64, retryAfter time.Duration) time.Duration {
	d := b.Initial
	for i := 0; i < retry && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	jitter := time.Duration(u * float64(d/2))
	if retryAfter > 0 {
		return min(retryAfter, MaxRetryAfter) + jitter
	}
	return d - d/2 + jitter
}

// Options configure a Retrier; every field is optional.
type Options struct {
	// Name is the one object watched, if any, for the log.
	Name string
	// Meanwhile says what is served while the API server is away, for the log.
	Meanwhile string
	// Role is the kind of RBAC object that grants the calls, named when
	// they are forbidden: "ClusterRole" when empty.
	Role string
	// NotFound, when set, is what a 404 means for this resource, logged in
	// place of the generic explanation (a custom resource whose CRD is not
	// installed).
	NotFound string
	Backoff  Backoff
	Metrics  *Metrics
	// Clock times the retries: the real clock when nil.
	Clock clock.Clock
	// Rand draws the jitter: a randomly seeded source when nil.
	Rand *rand.Rand
}

// Retrier retries and reports the failed API calls of one resource.
type Retrier struct {
	resource string
	opts     Options

	mu       sync.Mutex
	rand     *rand.Rand       // guarded by mu
	reported map[Cause]string // guarded by mu: cause → verb of the call that reported it
	back     time.Time        // guarded by mu: when the API server last answered after an outage
}

// StartupGrace is how long after an outage a Forbidden or Unauthorized
// answer counts as one more moment of the outage: a kube-apiserver that
// has just started denies requests until its authorizer and authenticators
// have loaded (seen here: "kubedns cannot watch; check the ClusterRole" at
// every API server restart).
const StartupGrace = 10 * time.Second

// New returns the Retrier of resource (the plural name, as in RBAC rules and
// in the metrics' labels) and exports zeros for its metrics.
func New(resource string, opts Options) *Retrier {
	if opts.Backoff.Initial <= 0 {
		opts.Backoff.Initial = DefaultInitial
	}
	if opts.Backoff.Max <= 0 {
		opts.Backoff.Max = max(DefaultMax, opts.Backoff.Initial)
	}
	if opts.Role == "" {
		opts.Role = "ClusterRole"
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	r := &Retrier{resource: resource, opts: opts, rand: opts.Rand, reported: map[Cause]string{}}
	if r.rand == nil {
		r.rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	opts.Metrics.init(resource)
	return r
}

// handled wraps an error Do has reported (or found already reported), so
// that HandleWatchError does not log it again. Its message is the error's.
type handled struct{ error }

func (h handled) Unwrap() error { return h.error }

// Do calls fn, a verb ("list", "watch") of r's resource, until it succeeds,
// fails for a reason other than an outage, or ctx ends. Outages are retried
// with r's backoff; other errors are reported (once per cause, until the
// verb succeeds) and returned at once. Every failure is counted.
func Do[T any](ctx context.Context, r *Retrier, verb string, fn func() (T, error)) (T, error) {
	var down time.Time // when the outage began; zero when there is none
	wasOutage := false // whether the last call failed for an outage
	defer func() {
		if !down.IsZero() {
			r.opts.Metrics.setUnreachable(r.resource, false)
		}
	}()
	for retry := 0; ; retry++ {
		v, err := fn()
		cause, why := classify(err)
		if cause != "" {
			r.opts.Metrics.failed(r.resource, cause)
		}
		if wasOutage && !cause.Outage() {
			r.answeredAfterOutage()
		}
		wasOutage = cause.Outage()
		if r.starting(cause) {
			if down.IsZero() {
				down = r.opts.Clock.Now()
			}
			klog.FromContext(ctx).V(2).Info("API server denied a call right after an outage; retrying", r.keys("cause", cause, "err", err.Error())...)
		} else if !cause.Outage() {
			if !down.IsZero() {
				klog.FromContext(ctx).Info("API server reachable again", r.keys("outage", r.opts.Clock.Since(down))...)
			}
			return v, r.answered(ctx, verb, err, cause, why)
		}
		if ctx.Err() != nil {
			return v, err
		}
		if cause.Outage() && down.IsZero() {
			down = r.opts.Clock.Now()
			r.opts.Metrics.setUnreachable(r.resource, true)
			klog.FromContext(ctx).Info("API server unreachable, retrying",
				r.keys("cause", cause, "meanwhile", r.opts.Meanwhile, "maxInterval", r.opts.Backoff.Max, "err", err.Error())...)
		}
		timer := r.opts.Clock.NewTimer(r.delay(retry, err))
		select {
		case <-ctx.Done():
			timer.Stop()
			return v, err
		case <-timer.C():
		}
	}
}

// answeredAfterOutage notes that the API server answered again.
func (r *Retrier) answeredAfterOutage() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.back = r.opts.Clock.Now()
}

// starting reports whether cause, a denial within StartupGrace of the API
// server's return, is more likely its start than a missing permission.
func (r *Retrier) starting(cause Cause) bool {
	if cause != Forbidden && cause != Unauthorized {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.back.IsZero() && r.opts.Clock.Since(r.back) <= StartupGrace
}

// delay is the wait before the next call after the retry-th failure err.
func (r *Retrier) delay(retry int, err error) time.Duration {
	var after time.Duration
	if s, ok := apierrors.SuggestsClientDelay(err); ok && s > 0 {
		after = time.Duration(s) * time.Second
	}
	r.mu.Lock()
	u := r.rand.Float64()
	r.mu.Unlock()
	return r.opts.Backoff.delay(retry, u, after)
}

// answered handles the end of a call that is not an outage: a success
// forgets the causes its verb reported; a failure is reported once per cause
// and comes back wrapped in handled.
func (r *Retrier) answered(ctx context.Context, verb string, err error, cause Cause, why string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		for c, v := range r.reported {
			if v == verb {
				delete(r.reported, c)
			}
		}
		return nil
	}
	if cause == "" {
		return err // not the API server's fault: the caller's context, or 410 Gone
	}
	if _, done := r.reported[cause]; done {
		return handled{err}
	}
	r.reported[cause] = verb
	switch {
	case cause == Forbidden:
		why = "check the " + r.opts.Role
	case cause == NotFound && r.opts.NotFound != "":
		why = r.opts.NotFound
	}
	klog.FromContext(ctx).Error(err, "kubedns cannot watch; "+why, r.keys("cause", cause)...)
	return handled{err}
}

// keys returns the resource (and name) followed by kv, for the log.
func (r *Retrier) keys(kv ...any) []any {
	out := []any{"resource", r.resource}
	if r.opts.Name != "" {
		out = append(out, "name", r.opts.Name)
	}
	return append(out, kv...)
}

// HandleWatchError is a reflector's watch error handler: errors Do reported
// are not logged again (but at V(4)); any other goes to client-go's default
// handler.
func (r *Retrier) HandleWatchError(ctx context.Context, refl *cache.Reflector, err error) {
	if is[handled](err) {
		klog.FromContext(ctx).V(4).Info("List or watch failed again", r.keys("err", err)...)
		return
	}
	cache.DefaultWatchErrorHandler(ctx, refl, err)
}

// ListerWatcher wraps lw's list and watch calls with Do. A client that
// cannot stream the initial list (the fake clientset in tests) still says
// so through the wrapper.
func ListerWatcher(lw cache.ListerWatcher, r *Retrier) cache.ListerWatcher {
	inner := cache.ToListerWatcherWithContext(lw)
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return Do(ctx, r, "list", func() (runtime.Object, error) { return inner.ListWithContext(ctx, opts) })
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return Do(ctx, r, "watch", func() (watch.Interface, error) { return inner.WatchWithContext(ctx, opts) })
		},
	}, lw)
}
