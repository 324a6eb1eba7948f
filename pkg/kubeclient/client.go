package kubeclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/flowcontrol"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// Interface is what kube-dns reads from the API server.
type Interface interface {
	// ListWatch lists and watches resource ("services", "endpointslices",
	// "endpoints", "namespaces", "pods", "configmaps", "serviceimports") in
	// namespace ("" = all), optionally narrowed by a field selector ("" =
	// none). Objects are the slim types, except configmaps which are
	// *corev1.ConfigMap.
	ListWatch(resource, namespace, fieldSelector string) cache.ListerWatcher
	// ListWatchKnown is ListWatch whose lists take known's objects rather
	// than make them again (see Known).
	ListWatchKnown(resource, namespace, fieldSelector string, known Known) cache.ListerWatcher
}

// Client reads from the API server with one REST client for the core group
// (/api/v1), one for discovery.k8s.io/v1 and one for the Multi-Cluster
// Services API's multicluster.x-k8s.io/v1alpha1, whose custom resources
// the API server serves as JSON only.
type Client struct {
	core         *rest.RESTClient
	discovery    *rest.RESTClient
	multicluster *rest.RESTClient
}

var _ Interface = (*Client)(nil)

// New returns a Client for cfg, which it does not modify. It asks for
// protobuf and accepts JSON, uncompressed: gzip would cost the API server
// and kube-dns CPU for every list (at 10,000 Services, ~6 MB of protobuf) on
// the way to the first answer, to save bandwidth inside the cluster.
func New(cfg *rest.Config) (*Client, error) {
	c := rest.CopyConfig(cfg)
	c.DisableCompression = true
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	c.NegotiatedSerializer = NegotiatedSerializer()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	// Share one rate limiter between the two clients, as a clientset does.
	if c.RateLimiter == nil && c.QPS > 0 {
		if c.Burst <= 0 {
			return nil, errors.New("kubeclient: burst must be positive when QPS is set and RateLimiter is not")
		}
		c.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(c.QPS, c.Burst)
	}
	httpClient, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %w", err)
	}
	core, err := restClient(c, "/api", schema.GroupVersion{Version: "v1"}, httpClient)
	if err != nil {
		return nil, err
	}
	discovery, err := restClient(c, "/apis", discoveryv1.SchemeGroupVersion, httpClient)
	if err != nil {
		return nil, err
	}
	mc := rest.CopyConfig(c)
	mc.ContentType = runtime.ContentTypeJSON
	mc.AcceptContentTypes = runtime.ContentTypeJSON
	multicluster, err := restClient(mc, "/apis", mcsv1alpha1.SchemeGroupVersion, httpClient)
	if err != nil {
		return nil, err
	}
	return &Client{core: core, discovery: discovery, multicluster: multicluster}, nil
}

func restClient(base *rest.Config, apiPath string, gv schema.GroupVersion, hc *http.Client) (*rest.RESTClient, error) {
	cfg := rest.CopyConfig(base)
	cfg.APIPath = apiPath
	cfg.GroupVersion = &gv
	rc, err := rest.RESTClientForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, fmt.Errorf("kubeclient: %s client: %w", gv, err)
	}
	return rc, nil
}

// Known gives the object a store holds for namespace and name ("" for a
// cluster-scoped one) when it is at resourceVersion, else nil. A list
// decoded with it takes that object for an item at that version instead of
// making a new one: a relist of what did not change then allocates nothing
// for it, and the objects it replaces are not held twice at its peak. The
// object must not be changed by the store afterwards (slim objects are
// replaced, never modified).
type Known func(namespace, name, resourceVersion string) runtime.Object

// ListWatch implements Interface. An unknown resource fails on list and watch.
func (c *Client) ListWatch(resource, namespace, fieldSelector string) cache.ListerWatcher {
	return c.ListWatchKnown(resource, namespace, fieldSelector, nil)
}

// ListWatchKnown is ListWatch whose protobuf lists take known's objects
// (see Known).
func (c *Client) ListWatchKnown(resource, namespace, fieldSelector string, known Known) cache.ListerWatcher {
	request := func(opts *metav1.ListOptions) (*rest.Request, error) {
		var rc *rest.RESTClient
		namespaced := true
		switch resource {
		case "services", "endpoints", "pods", "configmaps":
			rc = c.core
		case "namespaces":
			rc, namespaced = c.core, false
		case "endpointslices":
			rc = c.discovery
		case "serviceimports":
			rc = c.multicluster
		default:
			return nil, fmt.Errorf("kubeclient: unknown resource %q", resource)
		}
		if fieldSelector != "" {
			opts.FieldSelector = fieldSelector
		}
		return rc.Get().
			// Also without TLS, where client-go uses Go's default transport,
			// which would ask for gzip (see New).
			SetHeader("Accept-Encoding", "identity").
			NamespaceIfScoped(namespace, namespaced).
			Resource(resource).
			VersionedParams(opts, metav1.ParameterCodec), nil
	}
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			r, err := request(&opts)
			if err != nil {
				return nil, err
			}
			return list(ctx, r, known)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.Watch = true
			r, err := request(&opts)
			if err != nil {
				return nil, err
			}
			return r.Watch(ctx)
		},
	}
}

// list sends a list request and decodes the reply as it arrives (see
// decodeStream): rest.Request.Do would read the whole body with io.ReadAll,
// which grows and copies its buffer many times over, and even read once into
// memory a 6 MB body (10,000 Services) is 6 MB of fresh pages, each a page
// fault, on the way to the first answer. A protobuf list of a slim kind is
// decoded item by item through a 64 KB buffer; anything else is read whole
// with readAll and decoded by decodeBody.
func list(ctx context.Context, r *rest.Request, known Known) (runtime.Object, error) {
	body, err := r.Stream(ctx) // errors come back as API errors, retries as Do's
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return decodeStreamKnown(body, known)
}

// readChunk is the size of the chunks readAll reads into.
const readChunk = 256 << 10

// readAll reads r to the end into chunks, then joins them: a body that is
// not streamed (see decodeStream) is touched twice, not many times over as
// io.ReadAll's growing buffer would.
func readAll(r io.Reader) ([]byte, error) {
	var (
		chunks [][]byte
		total  int
	)
	for {
		chunk := make([]byte, readChunk)
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		total += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}
