// Package apiretry retries Kubernetes API calls while the API server cannot
// be reached, instead of leaving them to client-go's exponential backoff.
//
// client-go's reflector backs off up to 30 s, with jitter that can double it,
// so after an API server outage an informer could stay blind for a minute.
// List and watch calls wrapped with Do retry at Interval inside the call while
// the failure is one of reachability, so callers catch up within about one
// interval of the API server answering again. Other errors (an untrusted
// certificate, a host name that does not resolve, 401, 403…) are returned at
// once.
package apiretry

import (
	"context"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// Interval is how often a call is retried while the API server is unreachable.
var Interval = time.Second

// Outage tracks one resource's calls, so that each outage is logged once when
// it starts and once when it ends.
type Outage struct {
	// Resource names what is listed or watched, for the log.
	Resource string
	// Meanwhile says what is served while the API server is away, for the log.
	Meanwhile string
	down      atomic.Bool
}

// Do calls fn until it succeeds, fails for a reason other than an outage (see
// Classify), or ctx ends.
func Do[T any](ctx context.Context, o *Outage, fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if !Classify(err).Outage() {
			if o.down.CompareAndSwap(true, false) {
				klog.InfoS("API server reachable again", "resource", o.Resource)
			}
			return v, err
		}
		if o.down.CompareAndSwap(false, true) {
			klog.InfoS("API server unreachable, retrying", "resource", o.Resource, "meanwhile", o.Meanwhile,
				"interval", Interval, "err", err.Error())
		}
		timer := time.NewTimer(Interval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return v, err
		case <-timer.C:
		}
	}
}

// Down reports whether the last call found the API server unreachable.
func (o *Outage) Down() bool { return o.down.Load() }

// ListerWatcher wraps lw's list and watch calls with Do, reporting outages
// as o. A client that cannot stream the initial list (the fake clientset in
// tests) still says so through the wrapper.
func ListerWatcher(lw cache.ListerWatcher, o *Outage) cache.ListerWatcher {
	inner := cache.ToListerWatcherWithContext(lw)
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return Do(ctx, o, func() (runtime.Object, error) { return inner.ListWithContext(ctx, opts) })
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return Do(ctx, o, func() (watch.Interface, error) { return inner.WatchWithContext(ctx, opts) })
		},
	}, lw)
}
