package watch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// Endpoint sources, the values of Options.EndpointsSource.
const (
	SourceEndpointSlices = "endpointslices"
	SourceEndpoints      = "endpoints"
)

// DefaultInitialSyncTimeout bounds the wait for the first cache sync when
// Options.InitialSyncTimeout is zero.
const DefaultInitialSyncTimeout = 60 * time.Second

// Options configure a Controller.
type Options struct {
	// EndpointsSource is SourceEndpointSlices (the default when empty) or
	// SourceEndpoints. Only the chosen resource is watched.
	EndpointsSource string
	// Records configures record generation; it is copied by New.
	Records *records.Config
	// Resync, when positive, recomputes every record from the informer caches
	// at this interval and publishes if anything differs. Zero disables it.
	Resync time.Duration
	// InitialSyncTimeout bounds Run's wait for the first cache sync
	// (the original's --initial-sync-timeout). Zero means 60s.
	InitialSyncTimeout time.Duration
	// Registerer receives the controller's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Notify, if set, is called from the builder goroutine after each publish.
	Notify func()
}

// Controller watches the API server and publishes record snapshots.
type Controller struct {
	cfg     *records.Config
	opts    Options
	factory informers.SharedInformerFactory
	watched []resource // in setup order
	metrics *metrics

	services   corelisters.ServiceLister
	sliceIndex cache.Indexer               // EndpointSlices by Service key; nil with the endpoints source
	endpoints  corelisters.EndpointsLister // nil with the endpointslices source
	namespaces corelisters.NamespaceLister
	pods       corelisters.PodLister // nil unless pod names are verified
	logger     klog.Logger           // set by Run before the informers start
	started    atomic.Bool           // Run was called
	snap       atomic.Pointer[records.Snapshot]

	mu     sync.Mutex
	dirty  dirtySet      // guarded by mu
	signal chan struct{} // capacity 1: coalesces marks

	// Owned by the builder goroutine.
	index  *records.Index
	serial uint32
}

// resource is one watched API resource.
type resource struct {
	name      string // plural resource name, as in RBAC rules
	informer  cache.SharedIndexInformer
	transform cache.TransformFunc
	handler   cache.ResourceEventHandler
}

// serviceIndex indexes EndpointSlices by the "namespace/name" of their Service.
const serviceIndex = "kubedns-service"

func indexByService(obj any) ([]string, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return nil, nil
	}
	name := s.Labels[discoveryv1.LabelServiceName]
	if name == "" {
		return nil, nil
	}
	return []string{s.Namespace + "/" + name}, nil
}

// New creates the informers (without starting them) for every namespace.
func New(client kubernetes.Interface, opts Options) (*Controller, error) {
	if client == nil {
		return nil, errors.New("watch: nil client")
	}
	if opts.Records == nil {
		return nil, errors.New("watch: Options.Records is nil")
	}
	switch opts.EndpointsSource {
	case "":
		opts.EndpointsSource = SourceEndpointSlices
	case SourceEndpointSlices, SourceEndpoints:
	default:
		return nil, fmt.Errorf("watch: unknown endpoints source %q (want %q or %q)",
			opts.EndpointsSource, SourceEndpointSlices, SourceEndpoints)
	}
	if opts.InitialSyncTimeout <= 0 {
		opts.InitialSyncTimeout = DefaultInitialSyncTimeout
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("watch: registering metrics: %w", err)
	}
	cfg := *opts.Records
	c := &Controller{
		cfg:     &cfg,
		opts:    opts,
		metrics: m,
		// Resync happens in the builder (see Options.Resync); informer
		// resyncs would only replay same-version updates, which are dropped.
		factory: informers.NewSharedInformerFactory(client, 0),
		logger:  klog.Background(),
		dirty:   newDirtySet(),
		signal:  make(chan struct{}, 1),
		index:   records.NewIndex(opts.Records),
	}

	for _, r := range []string{"services", "namespaces"} {
		useReconnecting(c.factory, client, r)
	}
	core := c.factory.Core().V1()
	svc := core.Services()
	c.services = svc.Lister()
	if err := c.setup(resource{"services", svc.Informer(), transformService,
		c.handler("services", markService, versionChanged)}, nil); err != nil {
		return nil, err
	}
	ns := core.Namespaces()
	c.namespaces = ns.Lister()
	if err := c.setup(resource{"namespaces", ns.Informer(), transformNamespace,
		c.handler("namespaces", markNamespaces, never)}, nil); err != nil {
		return nil, err
	}
	if opts.EndpointsSource == SourceEndpointSlices {
		useReconnecting(c.factory, client, "endpointslices")
		inf := c.factory.Discovery().V1().EndpointSlices().Informer()
		c.sliceIndex = inf.GetIndexer()
		if err := c.setup(resource{"endpointslices", inf, transformEndpointSlice,
			c.handler("endpointslices", markSliceService, versionChanged)},
			cache.Indexers{serviceIndex: indexByService}); err != nil {
			return nil, err
		}
	} else {
		useReconnecting(c.factory, client, "endpoints")
		ep := core.Endpoints()
		c.endpoints = ep.Lister()
		if err := c.setup(resource{"endpoints", ep.Informer(), transformEndpoints,
			c.handler("endpoints", markService, versionChanged)}, nil); err != nil {
			return nil, err
		}
	}
	if cfg.Pods == records.PodsVerified {
		useReconnecting(c.factory, client, "pods")
		pods := core.Pods()
		c.pods = pods.Lister()
		if err := c.setup(resource{"pods", pods.Informer(), transformPod,
			c.handler("pods", markPods, podIPsChanged)}, nil); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// setup configures an informer before it starts.
func (c *Controller) setup(r resource, idx cache.Indexers) error {
	if err := r.informer.SetTransform(r.transform); err != nil {
		return fmt.Errorf("watch: %s transform: %w", r.name, err)
	}
	weh := &watchErrorHandler{resource: r.name}
	if err := r.informer.SetWatchErrorHandlerWithContext(weh.handle); err != nil {
		return fmt.Errorf("watch: %s error handler: %w", r.name, err)
	}
	if idx != nil {
		if err := r.informer.AddIndexers(idx); err != nil {
			return fmt.Errorf("watch: %s indexers: %w", r.name, err)
		}
	}
	if _, err := r.informer.AddEventHandler(r.handler); err != nil {
		return fmt.Errorf("watch: %s event handler: %w", r.name, err)
	}
	c.watched = append(c.watched, r)
	return nil
}

// Run starts the informers, waits for their caches to sync, publishes the
// first snapshot and then keeps publishing until ctx is done, when it stops
// the informers and returns nil. If the caches do not sync within
// Options.InitialSyncTimeout it returns an error naming the laggards.
func (c *Controller) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called more than once")
	}
	logger := klog.FromContext(ctx)
	c.logger = logger
	ctx, cancel := context.WithCancel(ctx)
	defer func() {
		cancel()
		c.factory.Shutdown()
	}()
	c.factory.Start(ctx.Done())

	start := time.Now()
	fns := make([]cache.InformerSynced, len(c.watched))
	names := make([]string, len(c.watched))
	for i, r := range c.watched {
		fns[i], names[i] = r.informer.HasSynced, r.name
	}
	logger.V(2).Info("Waiting for informer caches to sync", "resources", names, "timeout", c.opts.InitialSyncTimeout)
	syncCtx, cancelSync := context.WithTimeout(ctx, c.opts.InitialSyncTimeout)
	synced := waitSynced(syncCtx, fns)
	cancelSync()
	if !synced {
		if ctx.Err() != nil {
			return nil // shut down while waiting
		}
		var lagging []string
		for _, r := range c.watched {
			if !r.informer.HasSynced() {
				lagging = append(lagging, r.name)
			}
		}
		return fmt.Errorf("watch: informer caches not synced within %v: %s",
			c.opts.InitialSyncTimeout, strings.Join(lagging, ", "))
	}
	logger.V(2).Info("Informer caches synced", "resources", names, "duration", time.Since(start))

	c.sync(ctx, true)
	c.loop(ctx)
	return nil
}

// syncPoll is how often the initial sync is checked. client-go's
// WaitForCacheSync checks every 100 ms, which would be most of the time to
// the first answer.
const syncPoll = 2 * time.Millisecond

// waitSynced reports whether every cache synced before ctx ended.
func waitSynced(ctx context.Context, fns []cache.InformerSynced) bool {
	t := time.NewTicker(syncPoll)
	defer t.Stop()
	for {
		done := true
		for _, f := range fns {
			if !f() {
				done = false
				break
			}
		}
		if done {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// Snapshot returns the latest published snapshot, or nil before the first.
func (c *Controller) Snapshot() *records.Snapshot { return c.snap.Load() }

// Ready reports whether the first snapshot has been published.
func (c *Controller) Ready() bool { return c.snap.Load() != nil }

// watchErrorHandler turns a Forbidden list/watch error (missing RBAC) into one
// clear log line per informer instead of a stream of repeated errors; every
// other error goes to client-go's default handler.
type watchErrorHandler struct {
	resource string
	report   func(ctx context.Context, resource string, err error) // nil: log it

	mu   sync.Mutex
	last string // message of the last Forbidden error reported
}

func (h *watchErrorHandler) handle(ctx context.Context, r *cache.Reflector, err error) {
	if !apierrors.IsForbidden(err) {
		h.mu.Lock()
		h.last = ""
		h.mu.Unlock()
		cache.DefaultWatchErrorHandler(ctx, r, err)
		return
	}
	msg := err.Error()
	h.mu.Lock()
	repeated := msg == h.last
	h.last = msg
	h.mu.Unlock()
	if repeated {
		return
	}
	if h.report != nil {
		h.report(ctx, h.resource, err)
		return
	}
	klog.FromContext(ctx).Error(err, "kubedns cannot watch; check the ClusterRole", "resource", h.resource)
}
