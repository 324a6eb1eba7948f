// Package fromclientset adapts a client-go clientset, usually the fake one,
// to kubeclient.Interface for tests. Production code uses kubeclient.New.
package fromclientset

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

type adapter struct{ c kubernetes.Interface }

// New returns a kubeclient.Interface reading through c's typed clients and
// converting with kubeclient.Slim (ConfigMaps stay as they are).
func New(c kubernetes.Interface) kubeclient.Interface { return adapter{c: c} }

type (
	listFunc  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watchFunc func(context.Context, metav1.ListOptions) (watch.Interface, error)
)

func (a adapter) ListWatch(resource, namespace, fieldSelector string) cache.ListerWatcher {
	list, watchFn, slim := a.funcs(resource, namespace)
	if resource == "serviceimports" {
		// A clientset has no client for custom resources: this is a
		// cluster without the ServiceImport CRD.
		gr := schema.GroupResource{Group: mcsv1alpha1.GroupName, Resource: resource}
		list = func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return nil, apierrors.NewNotFound(gr, "")
		}
		watchFn = func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			return nil, apierrors.NewNotFound(gr, "")
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			if list == nil {
				return nil, fmt.Errorf("fromclientset: unknown resource %q", resource)
			}
			if fieldSelector != "" {
				opts.FieldSelector = fieldSelector
			}
			obj, err := list(ctx, opts)
			if err != nil || !slim {
				return obj, err
			}
			return toSlim(obj), nil
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			if watchFn == nil {
				return nil, fmt.Errorf("fromclientset: unknown resource %q", resource)
			}
			if fieldSelector != "" {
				opts.FieldSelector = fieldSelector
			}
			w, err := watchFn(ctx, opts)
			if err != nil || !slim {
				return w, err
			}
			return watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
				e.Object = toSlim(e.Object)
				return e, true
			}), nil
		},
	}
	return cache.ToListWatcherWithWatchListSemantics(lw, a.c)
}

// toSlim converts obj when it has a slim type (not, for example, a
// *metav1.Status in an ERROR event).
func toSlim(obj runtime.Object) runtime.Object {
	if s, ok := kubeclient.Slim(obj); ok {
		return s
	}
	return obj
}

func (a adapter) funcs(resource, ns string) (listFunc, watchFunc, bool) {
	core, discovery := a.c.CoreV1(), a.c.DiscoveryV1()
	switch resource {
	case "services":
		c := core.Services(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, true
	case "endpointslices":
		c := discovery.EndpointSlices(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, true
	case "endpoints":
		c := core.Endpoints(ns) //nolint:staticcheck // kube-dns still reads core/v1 Endpoints.
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, true
	case "namespaces":
		c := core.Namespaces()
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, true
	case "pods":
		c := core.Pods(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, true
	case "configmaps":
		c := core.ConfigMaps(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.List(ctx, o) }, c.Watch, false
	}
	return nil, nil, false
}
