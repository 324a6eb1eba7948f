package watch

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
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
	// Resync, when positive, recomputes every record from the stores
	// at this interval and publishes if anything differs. Zero disables it.
	Resync time.Duration
	// InitialSyncTimeout bounds Run's wait for the first cache sync
	// (the original's --initial-sync-timeout). Zero means 60s.
	InitialSyncTimeout time.Duration
	// Registerer receives the controller's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// Notify, if set, is called from the builder goroutine after each publish.
	Notify func()
	// StreamInitialList lets the reflectors stream their initial objects
	// over a watch when client-go's WatchListClient feature is on; by
	// default they list them (see listInitialObjects).
	StreamInitialList bool
	// Wildcards keeps the view wildcard queries read (Controller.Wildcards)
	// up to date, at most every WildcardEvery.
	Wildcards bool
}

// WildcardEvery is how often at most the wildcard view is rebuilt: it costs
// a sort of every Service (BenchmarkWildcardView), so under a stream of
// changes it is paced, and wildcard answers lag the snapshot by up to this.
const WildcardEvery = time.Second

// Controller watches the API server and publishes record snapshots.
type Controller struct {
	cfg     *records.Config
	opts    Options
	client  kubeclient.Interface
	watched []*resource // in setup order
	metrics *metrics
	api     *apiretry.Metrics // of every watch's calls

	services   *store
	slices     *store // EndpointSlices, indexed by Service; nil with the endpoints source
	endpoints  *store // nil with the endpointslices source
	namespaces *store
	pods       *store      // nil unless pod names are verified
	imports    *store      // ServiceImports; nil unless the multicluster zone is served
	logger     klog.Logger // set by Run before the watches start
	started    atomic.Bool // Run was called
	snap       atomic.Pointer[records.Snapshot]
	wild       atomic.Pointer[records.Wildcards]

	mu     sync.Mutex
	dirty  dirtySet      // guarded by mu
	signal chan struct{} // capacity 1: coalesces marks

	// Owned by the builder goroutine.
	index     *records.Index
	serial    uint32
	wildAt    time.Time                  // when the wildcard view was last built
	wildTimer *time.Timer                // set while a rebuild waits for WildcardEvery to pass
	wildWork  chan records.WildcardInput // to the goroutine that builds the views after the first

	setupErr error // of New's informers
}

// resource is one watched API resource.
type resource struct {
	name  string // plural resource name, as in RBAC rules
	store *store
	retry *apiretry.Retrier // retries outages, reports other errors
	// absent is set for an optional resource, a custom resource whose CRD
	// may be missing, and closed once the API server says it does not serve
	// it: the first snapshot waits for its first list only until then, and
	// its lists are retried more often (retryAbsent), so that a CRD
	// installed later is picked up within optionalRetryCap.
	absent     chan struct{}
	absentOnce sync.Once
}

// optionalRetryCap caps the backoff between lists of an optional resource.
const optionalRetryCap = 5 * time.Second

// crdMissing is what a 404 for ServiceImports means.
const crdMissing = "the ServiceImport CRD (serviceimports.multicluster.x-k8s.io, from sigs.k8s.io/mcs-api) is not installed: " +
	"the multicluster zone serves no imports until it is, and kubedns keeps asking"

// New sets up the watches (without starting them) for every namespace.
func New(client kubeclient.Interface, opts Options) (*Controller, error) {
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
	api, err := apiretry.NewMetrics(opts.Registerer)
	if err != nil {
		return nil, fmt.Errorf("watch: registering metrics: %w", err)
	}
	cfg := *opts.Records
	c := &Controller{
		cfg:     &cfg,
		opts:    opts,
		client:  client,
		metrics: m,
		api:     api,
		logger:  klog.Background(),
		dirty:   newDirtySet(),
		signal:  make(chan struct{}, 1),
		index:   records.NewIndex(opts.Records),
	}
	c.services = c.watch("services", &corev1.Service{}, markService, versionChanged, nil)
	c.services.fresh = c.serviceCreated
	c.namespaces = c.watch("namespaces", &corev1.Namespace{}, markNamespaces, never, nil)
	if opts.EndpointsSource == SourceEndpointSlices {
		c.slices = c.watch("endpointslices", &discoveryv1.EndpointSlice{}, markSliceService, versionChanged, sliceService)
		c.slices.fresh = c.endpointsChanged(sliceService)
	} else {
		c.endpoints = c.watch("endpoints", &corev1.Endpoints{}, markService, versionChanged, nil) //nolint:staticcheck // --endpoints-source=endpoints
		c.endpoints.fresh = c.endpointsChanged(func(obj any) (string, string) { return keyOf(obj), "" })
	}
	if cfg.Pods == records.PodsVerified {
		c.pods = c.watch("pods", &corev1.Pod{}, markPods, podIPsChanged, nil)
	}
	if cfg.Multicluster != "" {
		c.imports = c.watchOptional("serviceimports", crdMissing, &unstructured.Unstructured{}, markImport, versionChanged)
		c.imports.fresh = c.importCreated
	}
	if c.setupErr != nil {
		return nil, fmt.Errorf("watch: %w", c.setupErr)
	}
	return c, nil
}

// watch sets up the informer of one resource; example is the type the
// API server sends.
func (c *Controller) watch(name string, example runtime.Object, mark markFunc, changed func(old, cur any) bool, serviceOf func(any) (string, string)) *store {
	return c.add(&resource{name: name, retry: apiretry.New(name, apiretry.Options{Meanwhile: "the last snapshot", Metrics: c.api})},
		example, mark, changed, serviceOf)
}

// watchOptional sets up the informer of an optional resource, whose 404
// notFound explains.
func (c *Controller) watchOptional(name, notFound string, example runtime.Object, mark markFunc, changed func(old, cur any) bool) *store {
	retry := apiretry.New(name, apiretry.Options{Meanwhile: "the last snapshot", Metrics: c.api, NotFound: notFound})
	return c.add(&resource{name: name, retry: retry, absent: make(chan struct{})}, example, mark, changed, nil)
}

func (c *Controller) add(r *resource, example runtime.Object, mark markFunc, changed func(old, cur any) bool, serviceOf func(any) (string, string)) *store {
	lw := apiretry.ListerWatcher(c.client.ListWatch(r.name, "", ""), r.retry)
	if r.absent != nil {
		lw = retryAbsent(lw, func() { r.absentOnce.Do(func() { close(r.absent) }) })
	}
	if !c.opts.StreamInitialList {
		lw = listInitialObjects(lw)
	}
	s, err := newStore(r.name, lw, example, c.marker(r.name, mark), changed, serviceOf)
	if err != nil {
		c.setupErr = errors.Join(c.setupErr, fmt.Errorf("%s: %w", r.name, err))
		return &store{}
	}
	// Errors go to the retrier's handler, which does not log again what it
	// has reported.
	if err := s.informer.SetWatchErrorHandlerWithContext(r.retry.HandleWatchError); err != nil {
		c.setupErr = errors.Join(c.setupErr, fmt.Errorf("%s: %w", r.name, err))
	}
	r.store = s
	c.watched = append(c.watched, r)
	return s
}

// Run starts the watches, waits for the first lists, publishes the first
// snapshot and then keeps publishing until ctx is done, when it stops the
// watches and returns nil. If the lists are not in within
// Options.InitialSyncTimeout it returns an error naming the laggards.
func (c *Controller) Run(ctx context.Context) error {
	if !c.started.CompareAndSwap(false, true) {
		return errors.New("watch: Run called more than once")
	}
	logger := klog.FromContext(ctx)
	c.logger = logger
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	for _, r := range c.watched {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.store.informer.RunWithContext(ctx)
		}()
	}

	start := time.Now()
	names := make([]string, len(c.watched))
	for i, r := range c.watched {
		names[i] = r.name
	}
	logger.V(2).Info("Waiting for the first lists", "resources", names, "timeout", c.opts.InitialSyncTimeout)
	syncCtx, cancelSync := context.WithTimeout(ctx, c.opts.InitialSyncTimeout)
	synced := c.waitSynced(syncCtx)
	cancelSync()
	if !synced {
		if ctx.Err() != nil {
			return nil // shut down while waiting
		}
		var lagging []string
		for _, r := range c.watched {
			if !r.store.HasSynced() {
				lagging = append(lagging, r.name)
			}
		}
		return fmt.Errorf("watch: informer caches not synced within %v: %s",
			c.opts.InitialSyncTimeout, strings.Join(lagging, ", "))
	}
	logger.V(2).Info("First lists in", "resources", names, "duration", time.Since(start))

	c.sync(ctx, true)
	c.loop(ctx)
	return nil
}

// syncPoll is how often Run looks whether the first lists are in: the
// first answer waits for it.
const syncPoll = 5 * time.Millisecond

// waitSynced reports whether every informer had its first list handled
// (or, for an optional resource, was found not to be served) before ctx
// ended.
func (c *Controller) waitSynced(ctx context.Context) bool {
	err := wait.PollUntilContextCancel(ctx, syncPoll, true, func(context.Context) (bool, error) {
		for _, r := range c.watched {
			if !r.store.HasSynced() && !r.isAbsent() {
				return false, nil
			}
		}
		return true, nil
	})
	return err == nil
}

// isAbsent reports whether the API server said it does not serve an
// optional resource.
func (r *resource) isAbsent() bool {
	select {
	case <-r.absent: // nil, never ready, unless optional
		return true
	default:
		return false
	}
}

// retryAbsent makes lw's list ask again, every optionalRetryCap at most,
// while the API server does not serve the resource (404), calling absent
// each time, rather than hand the 404 to the reflector, whose backoff
// grows to 30 s.
func retryAbsent(lw cache.ListerWatcher, absent func()) cache.ListerWatcher {
	inner := cache.ToListerWatcherWithContext(lw)
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			backoff := wait.Backoff{Duration: 800 * time.Millisecond, Factor: 2, Jitter: 0.5, Steps: math.MaxInt32, Cap: optionalRetryCap}
			for {
				obj, err := inner.ListWithContext(ctx, opts)
				if !apierrors.IsNotFound(err) {
					return obj, err
				}
				absent()
				t := time.NewTimer(backoff.Step())
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, err
				case <-t.C:
				}
			}
		},
		WatchFuncWithContext: inner.WatchWithContext,
	}, lw)
}

// listInitialObjects makes a reflector list its initial objects rather than
// stream them over a watch (client-go's WatchListClient, on by default in
// 1.35): at 10,000 Services listing synced in about 350 ms against 550-950 ms
// streamed, and the initial sync is most of the time to the first answer.
// client-go takes a ListerWatcher's word that it cannot stream.
func listInitialObjects(lw cache.ListerWatcher) cache.ListerWatcher {
	inner := cache.ToListerWatcherWithContext(lw)
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc:  inner.ListWithContext,
		WatchFuncWithContext: inner.WatchWithContext,
	}, listOnly{})
}

// listOnly is a client that says it cannot stream a list.
type listOnly struct{}

func (listOnly) IsWatchListSemanticsUnSupported() bool { return true }

// Snapshot returns the latest published snapshot, or nil before the first.
func (c *Controller) Snapshot() *records.Snapshot { return c.snap.Load() }

// Wildcards returns the latest wildcard view, or nil before the first
// snapshot or without Options.Wildcards.
func (c *Controller) Wildcards() *records.Wildcards { return c.wild.Load() }

// Ready reports whether the first snapshot has been published.
func (c *Controller) Ready() bool { return c.snap.Load() != nil }
