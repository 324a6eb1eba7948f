package watch

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
)

// reconnecting wraps a resource's list and watch calls so that they retry
// while the API server is unreachable (see apiretry). A client that cannot
// stream the initial list (the fake clientset in tests) still says so.
func reconnecting(resource string, lw cache.ListerWatcher) cache.ListerWatcher {
	inner := cache.ToListerWatcherWithContext(lw)
	outage := &apiretry.Outage{Resource: resource, Meanwhile: "the last snapshot"}
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return apiretry.Do(ctx, outage, func() (runtime.Object, error) { return inner.ListWithContext(ctx, o) })
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return apiretry.Do(ctx, outage, func() (watch.Interface, error) { return inner.WatchWithContext(ctx, o) })
		},
	}, lw)
}
