package kubeclient

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// Interface is what kube-dns reads from the API server.
type Interface interface {
	// ListWatch lists and watches resource ("services", "endpointslices",
	// "endpoints", "namespaces", "pods", "configmaps", "serviceimports") in
	// namespace ("" = all), optionally narrowed by a field selector ("" =
	// none). Objects are client-go's full types (ServiceImports
	// unstructured); the informers slim them with Transform as they arrive.
	ListWatch(resource, namespace, fieldSelector string) cache.ListerWatcher
}

// Client reads through a client-go clientset and, for the Multi-Cluster
// Services API's ServiceImports (a custom resource), a dynamic client.
type Client struct {
	typed   kubernetes.Interface
	dynamic dynamic.Interface // nil: ServiceImports are not served
}

var _ Interface = (*Client)(nil)

// New returns a Client for cfg, which it does not modify. The clientset
// asks for protobuf, as CoreDNS's does, uncompressed: gzip would cost the
// API server and kube-dns CPU for every list (at 10,000 Services, ~6 MB of
// protobuf) on the way to the first answer, to save bandwidth inside the
// cluster. Custom resources are served as JSON only.
func New(cfg *rest.Config) (*Client, error) {
	c := rest.CopyConfig(cfg)
	c.DisableCompression = true
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	hc, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %w", err)
	}
	typed, err := kubernetes.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %w", err)
	}
	return &Client{typed: typed, dynamic: dyn}, nil
}

// NewForClients returns a Client reading through typed and, for
// ServiceImports, dyn; a nil dyn is a cluster without the ServiceImport CRD.
// Tests give it client-go's fake clients.
func NewForClients(typed kubernetes.Interface, dyn dynamic.Interface) *Client {
	return &Client{typed: typed, dynamic: dyn}
}

// ServiceImports is the resource of the ServiceImports.
var ServiceImports = mcsv1alpha1.SchemeGroupVersion.WithResource("serviceimports")

type (
	listFunc  func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watchFunc func(context.Context, metav1.ListOptions) (watch.Interface, error)
)

// ListWatch implements Interface. An unknown resource fails on list and
// watch.
func (c *Client) ListWatch(resource, namespace, fieldSelector string) cache.ListerWatcher {
	list, watchFn, err := c.funcs(resource, namespace)
	narrow := func(opts *metav1.ListOptions) {
		if fieldSelector != "" {
			opts.FieldSelector = fieldSelector
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			if err != nil {
				return nil, err
			}
			narrow(&opts)
			return list(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			if err != nil {
				return nil, err
			}
			narrow(&opts)
			return watchFn(ctx, opts)
		},
	}
	// A client that cannot stream the initial list (the fake clientset)
	// says so through the ListerWatcher.
	return cache.ToListWatcherWithWatchListSemantics(lw, c.typed)
}

func (c *Client) funcs(resource, ns string) (listFunc, watchFunc, error) {
	core, discovery := c.typed.CoreV1(), c.typed.DiscoveryV1()
	switch resource {
	case "services":
		r := core.Services(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "endpointslices":
		r := discovery.EndpointSlices(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "endpoints":
		r := core.Endpoints(ns) //nolint:staticcheck // kube-dns still reads core/v1 Endpoints (--endpoints-source).
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "namespaces":
		r := core.Namespaces()
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "pods":
		r := core.Pods(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "configmaps":
		r := core.ConfigMaps(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	case "serviceimports":
		if c.dynamic == nil {
			err := apierrors.NewNotFound(ServiceImports.GroupResource(), "")
			return nil, nil, err
		}
		r := c.dynamic.Resource(ServiceImports).Namespace(ns)
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return r.List(ctx, o) }, r.Watch, nil
	}
	return nil, nil, fmt.Errorf("kubeclient: unknown resource %q", resource)
}
