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
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

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
}

// resource is one watched API resource.
type resource struct {
	name  string // plural resource name, as in RBAC rules
	obj   runtime.Object
	store *store
	retry *apiretry.Retrier // retries outages, reports other errors
	// absent is set for an optional resource, a custom resource whose CRD
	// may be missing, and closed once the API server says it does not serve
	// it: the first snapshot waits for its first list only until then, and
	// its lists are retried more often, so that a CRD installed later is
	// picked up within optionalRetryCap.
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
	c.services = c.watch("services", &kubeclient.Service{}, markService, versionChanged, nil)
	c.services.fresh = c.serviceCreated
	c.namespaces = c.watch("namespaces", &kubeclient.Namespace{}, markNamespaces, never, nil)
	if opts.EndpointsSource == SourceEndpointSlices {
		c.slices = c.watch("endpointslices", &kubeclient.EndpointSlice{}, markSliceService, versionChanged, sliceService)
		c.slices.fresh = c.endpointsChanged(sliceService)
	} else {
		c.endpoints = c.watch("endpoints", &kubeclient.Endpoints{}, markService, versionChanged, nil)
		c.endpoints.fresh = c.endpointsChanged(func(obj any) (string, string) { return keyOf(obj), "" })
	}
	if cfg.Pods == records.PodsVerified {
		c.pods = c.watch("pods", &kubeclient.Pod{}, markPods, podIPsChanged, nil)
	}
	if cfg.Multicluster != "" {
		c.imports = c.watchOptional("serviceimports", crdMissing, &kubeclient.ServiceImport{}, markImport, versionChanged)
		c.imports.fresh = c.importCreated
	}
	return c, nil
}

// watch sets up the store of one resource.
func (c *Controller) watch(name string, obj runtime.Object, mark markFunc, changed func(old, cur any) bool, serviceOf func(any) (string, string)) *store {
	s := newStore(c.marker(name, mark), changed, serviceOf)
	retry := apiretry.New(name, apiretry.Options{Meanwhile: "the last snapshot", Metrics: c.api})
	c.watched = append(c.watched, &resource{name: name, obj: obj, store: s, retry: retry})
	return s
}

// watchOptional sets up the store of an optional resource, whose 404
// notFound explains.
func (c *Controller) watchOptional(name, notFound string, obj runtime.Object, mark markFunc, changed func(old, cur any) bool) *store {
	s := newStore(c.marker(name, mark), changed, nil)
	retry := apiretry.New(name, apiretry.Options{Meanwhile: "the last snapshot", Metrics: c.api, NotFound: notFound})
	c.watched = append(c.watched, &resource{name: name, obj: obj, store: s, retry: retry, absent: make(chan struct{})})
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
		lw := apiretry.ListerWatcher(c.client.ListWatchKnown(r.name, "", "", r.store.known), r.retry)
		if !c.opts.StreamInitialList {
			lw = listInitialObjects(lw)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.reflect(ctx, lw)
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

// waitSynced reports whether every store had its first list (or, for an
// optional resource, was found not to be served) before ctx ended.
func (c *Controller) waitSynced(ctx context.Context) bool {
	for _, r := range c.watched {
		select {
		case <-r.store.Synced():
		case <-r.absent: // nil unless optional
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// reflect runs a client-go reflector from lw into the resource's store
// until ctx is done. The loop is Reflector.RunWithContext's, with client-go's
// backoff between failed list-and-watch rounds, but errors go to the
// retrier's handler, which does not log again what it has reported (a bare
// Reflector has no setter for its handler).
func (r *resource) reflect(ctx context.Context, lw cache.ListerWatcher) {
	refl := cache.NewReflectorWithOptions(lw, r.obj, r.store, cache.ReflectorOptions{
		Name:            "kubedns " + r.name,
		TypeDescription: r.name,
	})
	// The reflector's own backoff: 800 ms doubling to 30 s, jittered, reset
	// after 2 minutes without a failure.
	backoff := wait.Backoff{Duration: 800 * time.Millisecond, Cap: 30 * time.Second, Steps: 38, Factor: 2, Jitter: 1}
	if r.absent != nil {
		backoff.Cap = optionalRetryCap
	}
	delay := backoff.DelayWithReset(clock.RealClock{}, 2*time.Minute)
	for {
		if err := refl.ListAndWatchWithContext(ctx); err != nil {
			if r.absent != nil && apierrors.IsNotFound(err) {
				r.absentOnce.Do(func() { close(r.absent) })
			}
			r.retry.HandleWatchError(ctx, refl, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay()):
		}
	}
}

// listInitialObjects makes a reflector list its initial objects rather than
// stream them over a watch (client-go's WatchListClient, on by default in
// 1.35): at 10,000 Services kube-dns answered first 199 ms after its start
// when listing, 402 ms when streaming (make bench, 2026-12-07, medians of 5
// alternating starts; hack/bench/history.md), and the initial sync is most
// of the time to the first answer. client-go takes a ListerWatcher's word
// that it cannot stream.
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
