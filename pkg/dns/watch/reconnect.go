package watch

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// ReconnectInterval is how often a list or watch is retried while the API
// server cannot be reached.
//
// client-go's reflector backs off exponentially up to 30 s, with jitter that
// can double it, so after an API server outage an informer could stay blind
// for a minute. The list and watch calls below instead retry at this interval
// inside the call while the failure is one of reachability, so kubedns
// catches up within about one interval of the API server answering again.
var ReconnectInterval = time.Second

// unreachable reports whether err means the API server could not be reached
// or could not serve yet, as opposed to an answer such as Forbidden or Gone.
func unreachable(err error) bool {
	if err == nil {
		return false
	}
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err)
}

// retrying calls fn until it succeeds, fails for a reason other than
// reachability, or ctx ends. It logs once when the API server goes away and
// once when it answers again.
func retrying[T any](ctx context.Context, resource string, down *atomic.Bool, fn func() (T, error)) (T, error) {
	for {
		v, err := fn()
		if !unreachable(err) {
			if down.CompareAndSwap(true, false) {
				klog.InfoS("API server reachable again", "resource", resource)
			}
			return v, err
		}
		if down.CompareAndSwap(false, true) {
			klog.InfoS("API server unreachable, serving the last snapshot and retrying", "resource", resource, "interval", ReconnectInterval, "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(ReconnectInterval):
		}
	}
}

// listFunc and watchFunc are a resource's List and Watch over all namespaces.
type (
	listFunc  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error)
	watchFunc func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
)

// reconnectingInformer returns an informer constructor for the factory whose
// list and watch calls retry while the API server is unreachable.
func reconnectingInformer(resource string, obj runtime.Object, list listFunc, wf watchFunc) func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer {
	return func(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		var down atomic.Bool
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return retrying(ctx, resource, &down, func() (runtime.Object, error) { return list(ctx, o) })
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return retrying(ctx, resource, &down, func() (watch.Interface, error) { return wf(ctx, o) })
			},
		}
		// As the generated informers do: a client that cannot stream the
		// initial list (the fake clientset) is listed instead.
		return cache.NewSharedIndexInformer(cache.ToListWatcherWithWatchListSemantics(lw, client), obj, resync, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	}
}

// useReconnecting makes the factory build the informer of one resource with
// reconnecting list and watch calls. It must run before the factory's typed
// accessor for that resource creates the informer; only resources passed here
// are ever started.
func useReconnecting(f informers.SharedInformerFactory, client kubernetes.Interface, resource string) {
	core, disc := client.CoreV1(), client.DiscoveryV1()
	switch resource {
	case "services":
		f.InformerFor(&corev1.Service{}, reconnectingInformer(resource, &corev1.Service{},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Services("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Services("").Watch(ctx, o)
			}))
	case "namespaces":
		f.InformerFor(&corev1.Namespace{}, reconnectingInformer(resource, &corev1.Namespace{},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Namespaces().List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Namespaces().Watch(ctx, o)
			}))
	case "endpointslices":
		f.InformerFor(&discoveryv1.EndpointSlice{}, reconnectingInformer(resource, &discoveryv1.EndpointSlice{},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return disc.EndpointSlices("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return disc.EndpointSlices("").Watch(ctx, o)
			}))
	case "endpoints":
		f.InformerFor(&corev1.Endpoints{}, reconnectingInformer(resource, &corev1.Endpoints{}, //nolint:staticcheck // what --endpoints-source=endpoints reads
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Endpoints("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Endpoints("").Watch(ctx, o)
			}))
	case "pods":
		f.InformerFor(&corev1.Pod{}, reconnectingInformer(resource, &corev1.Pod{},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return core.Pods("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return core.Pods("").Watch(ctx, o)
			}))
	}
}
