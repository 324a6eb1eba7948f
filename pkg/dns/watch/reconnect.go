package watch

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
)

// listFunc and watchFunc are a resource's List and Watch over all namespaces.
type (
	listFunc  func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error)
	watchFunc func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)
)

// reconnectingInformer returns an informer constructor for the factory whose
// list and watch calls retry while the API server is unreachable (see apiretry).
func reconnectingInformer(resource string, obj runtime.Object, list listFunc, wf watchFunc) func(kubernetes.Interface, time.Duration) cache.SharedIndexInformer {
	return func(client kubernetes.Interface, resync time.Duration) cache.SharedIndexInformer {
		outage := &apiretry.Outage{Resource: resource, Meanwhile: "the last snapshot"}
		lw := &cache.ListWatch{
			ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return apiretry.Do(ctx, outage, func() (runtime.Object, error) { return list(ctx, o) })
			},
			WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
				return apiretry.Do(ctx, outage, func() (watch.Interface, error) { return wf(ctx, o) })
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
