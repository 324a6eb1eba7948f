package watch

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// dirtySet is the work the event handlers leave for the builder. Each entry
// holds the time of its first event; a zero time means clean.
type dirtySet struct {
	services   map[string]time.Time // Service "namespace/name"
	imports    map[string]time.Time // ServiceImport importKey
	namespaces time.Time
	pods       time.Time
	// triggers holds, by Service, the earliest time in the API of the
	// changes marked: what DNS programming latency is measured from.
	triggers map[string]time.Time
}

func newDirtySet() dirtySet {
	return dirtySet{services: map[string]time.Time{}, imports: map[string]time.Time{}, triggers: map[string]time.Time{}}
}

func (d *dirtySet) trigger(key string, at time.Time) {
	if t, ok := d.triggers[key]; !ok || at.Before(t) {
		d.triggers[key] = at
	}
}

func (d *dirtySet) service(key string, at time.Time) {
	if _, ok := d.services[key]; !ok {
		d.services[key] = at
	}
}

func (d *dirtySet) serviceImport(key string, at time.Time) {
	if _, ok := d.imports[key]; !ok {
		d.imports[key] = at
	}
}

func firstTime(t *time.Time, at time.Time) {
	if t.IsZero() {
		*t = at
	}
}

// A markFunc records in d the work an object's event causes, and reports
// whether there is any.
type markFunc func(d *dirtySet, obj any, at time.Time) bool

func unwrap(obj any) any {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return t.Obj
	}
	return obj
}

// markService marks the Service of the same namespace and name as obj: obj is
// the Service itself, or its core/v1 Endpoints.
func markService(d *dirtySet, obj any, at time.Time) bool {
	key := keyOf(unwrap(obj))
	if key == "" {
		return false
	}
	d.service(key, at)
	return true
}

// markSliceService marks the Service named by an EndpointSlice's label, and
// the ServiceImport named by its multicluster label.
func markSliceService(d *dirtySet, obj any, at time.Time) bool {
	svc, imp := sliceService(unwrap(obj))
	if svc != "" {
		d.service(svc, at)
	}
	if imp != "" {
		d.serviceImport(imp, at)
	}
	return svc != "" || imp != ""
}

// markImport marks a ServiceImport.
func markImport(d *dirtySet, obj any, at time.Time) bool {
	o, ok := unwrap(obj).(*kubeclient.ServiceImport)
	if !ok {
		return false
	}
	d.serviceImport(importKey(o.Namespace, o.Name), at)
	return true
}

func markNamespaces(d *dirtySet, _ any, at time.Time) bool { firstTime(&d.namespaces, at); return true }
func markPods(d *dirtySet, _ any, at time.Time) bool       { firstTime(&d.pods, at); return true }

// versionChanged drops updates that did not change the resourceVersion, such
// as a relist of unchanged objects.
func versionChanged(old, cur any) bool {
	o, ok1 := old.(metav1.Object)
	n, ok2 := cur.(metav1.Object)
	return !ok1 || !ok2 || o.GetResourceVersion() != n.GetResourceVersion()
}

// never drops every update: a slim Namespace holds nothing but its name.
func never(_, _ any) bool { return false }

// podIPsChanged drops pod updates that leave the addresses alone, which is
// nearly all of them (status churn).
func podIPsChanged(old, cur any) bool {
	o, ok1 := old.(*kubeclient.Pod)
	n, ok2 := cur.(*kubeclient.Pod)
	if !ok1 || !ok2 {
		return true
	}
	if !versionChanged(old, cur) {
		return false
	}
	return !slices.Equal(podIPs(o), podIPs(n))
}

// marker returns what a store calls with the objects of each event: it only
// marks work and wakes the builder. An update passes both versions of the
// object (an EndpointSlice may move to another Service).
func (c *Controller) marker(resource string, mark markFunc) func(event string, objs ...any) {
	return func(event string, objs ...any) {
		if c.logger.V(4).Enabled() {
			c.logger.V(4).Info("Watch event", "resource", resource, "event", event, "key", keyOf(objs[len(objs)-1]), "objects", len(objs))
		}
		now := time.Now()
		marked := false
		c.mu.Lock()
		for _, o := range objs {
			marked = mark(&c.dirty, o, now) || marked
		}
		c.mu.Unlock()
		if marked {
			select {
			case c.signal <- struct{}{}:
			default:
			}
		}
	}
}

// loop is the builder goroutine: it wakes on marks (and on the resync tick)
// and publishes what changed, until ctx is done.
func (c *Controller) loop(ctx context.Context) {
	var tick <-chan time.Time
	if c.opts.Resync > 0 {
		t := time.NewTicker(c.opts.Resync)
		defer t.Stop()
		tick = t.C
	}
	// Wildcard views after the first are built on their own goroutine,
	// from the latest input: the builder only copies the list of fragments.
	c.wildWork = make(chan records.WildcardInput, 1)
	defer close(c.wildWork)
	go func() {
		for in := range c.wildWork {
			c.wild.Store(records.BuildWildcards(in))
		}
	}()
	defer func() {
		if c.wildTimer != nil {
			c.wildTimer.Stop()
		}
	}()
	for {
		var wildDue <-chan time.Time
		if c.wildTimer != nil {
			wildDue = c.wildTimer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-c.signal:
			c.sync(ctx, false)
		case <-tick:
			c.sync(ctx, true)
		case <-wildDue:
			c.wildTimer = nil
			c.buildWildcards(ctx)
		}
	}
}

// refreshWildcards rebuilds the wildcard view after a publish: at once when
// the last build is WildcardEvery old, else when it will be.
func (c *Controller) refreshWildcards(ctx context.Context) {
	if !c.opts.Wildcards || c.wildTimer != nil {
		return
	}
	if wait := WildcardEvery - time.Since(c.wildAt); c.wild.Load() != nil && wait > 0 {
		c.wildTimer = time.NewTimer(wait)
		return
	}
	c.buildWildcards(ctx)
}

// buildWildcards builds the wildcard view: the first on the builder
// goroutine, so that it is there with the first snapshot, the others on
// their own, from the input this takes now.
func (c *Controller) buildWildcards(ctx context.Context) {
	in := c.index.WildcardInput()
	c.wildAt = time.Now()
	if c.wild.Load() == nil || c.wildWork == nil {
		c.wild.Store(records.BuildWildcards(in))
		if logger := klog.FromContext(ctx); logger.V(4).Enabled() {
			logger.V(4).Info("Built the wildcard view", "services", c.index.Len(), "duration", time.Since(c.wildAt))
		}
		return
	}
	select {
	case <-c.wildWork: // not taken yet: this input replaces it
	default:
	}
	c.wildWork <- in
}

func (c *Controller) take() dirtySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirty
	c.dirty = newDirtySet()
	return d
}

// sync recomputes the dirty Services, namespaces and pods from the stores
// and publishes a snapshot if any of them changed. full recomputes
// everything (the first snapshot, and resyncs). The dirty set is taken before
// reading the stores, so an event racing with sync is handled by the next one.
func (c *Controller) sync(ctx context.Context, full bool) {
	d := c.take()
	start := time.Now()
	first := c.snap.Load() == nil
	if full {
		if first {
			c.index.Grow(c.services.len())
		}
		// The first lists' events marked nearly all of these already.
		c.services.eachKey(func(key string) { d.service(key, time.Time{}) })
		for key := range c.index.Services() {
			d.service(key, time.Time{})
		}
	}
	var pending []time.Time // first-event times of what changed
	var measured []programmed
	changed := 0
	c.fragments(d.services, func(key string, f *records.Fragment) {
		if !c.index.SetService(key, f) {
			return
		}
		changed++
		if at := d.services[key]; !at.IsZero() {
			pending = append(pending, at)
		}
		if p, ok := c.programmedOf(&d, key); ok {
			measured = append(measured, p)
		}
	})
	if c.imports != nil {
		if full {
			for _, obj := range c.imports.list() {
				markImport(&d, obj, time.Time{})
			}
			for key := range c.index.Imports() {
				d.serviceImport(key, time.Time{})
			}
		}
		for key, at := range d.imports {
			if !c.index.SetImport(key, c.importFragment(key)) {
				continue
			}
			changed++
			if !at.IsZero() {
				pending = append(pending, at)
			}
			if p, ok := c.programmedOf(&d, key); ok {
				measured = append(measured, p)
			}
		}
	}
	if (full || !d.namespaces.IsZero()) && c.index.SetNamespaces(c.listNamespaces()) {
		changed++
		if !d.namespaces.IsZero() {
			pending = append(pending, d.namespaces)
		}
	}
	if c.pods != nil && (full || !d.pods.IsZero()) {
		if c.index.SetPods(convertPods(c.pods.list())) {
			changed++
			if !d.pods.IsZero() {
				pending = append(pending, d.pods)
			}
		}
	}
	if changed == 0 && !first {
		if logger := klog.FromContext(ctx); logger.V(4).Enabled() {
			logger.V(4).Info("No DNS change", "dirtyServices", len(d.services))
		}
		return
	}
	if first {
		pending, measured = nil, nil // initial list events measure sync time, not programming
	}
	c.publish(ctx, start, changed, pending, measured)
}

// parallelAbove is the number of dirty Services (the first sync, resyncs,
// bursts) from which their records are computed on every CPU.
const parallelAbove = 256

// fragmentBatch is how many Services a worker takes, and hands back, at once.
const fragmentBatch = 64

// fragments recomputes the records of the given Services and calls apply
// with each, on the calling (builder) goroutine, which alone touches the
// index. When there are many, workers compute them on every CPU (the stores
// are safe for concurrent reads) while apply consumes the batches they
// finish, so computing and indexing overlap.
func (c *Controller) fragments(keys map[string]time.Time, apply func(key string, f *records.Fragment)) {
	workers := min(runtime.GOMAXPROCS(0), len(keys)/parallelAbove+1)
	if workers <= 1 {
		for key := range keys {
			apply(key, c.fragment(key))
		}
		return
	}
	all := make([]string, 0, len(keys))
	for key := range keys {
		all = append(all, key)
	}
	type result struct {
		keys  []string
		frags []*records.Fragment
	}
	work := make(chan []string, len(all)/fragmentBatch+1)
	for len(all) > 0 {
		n := min(fragmentBatch, len(all))
		work <- all[:n:n]
		all = all[n:]
	}
	close(work)
	results := make(chan result, cap(work))
	for range workers {
		go func() {
			for batch := range work {
				r := result{keys: batch, frags: make([]*records.Fragment, len(batch))}
				for i, key := range batch {
					r.frags[i] = c.fragment(key)
				}
				results <- r
			}
		}()
	}
	for done := 0; done < len(keys); {
		r := <-results
		for i, key := range r.keys {
			apply(key, r.frags[i])
		}
		done += len(r.keys)
	}
}

// fragment recomputes the records of one Service, or returns nil when the
// Service does not exist (deleted, or its endpoints arrived first).
func (c *Controller) fragment(key string) *records.Fragment {
	svc, ok := c.services.get(key).(*kubeclient.Service)
	if !ok {
		return nil
	}
	rs := convertService(svc)
	var sets []records.EndpointSet
	if rs.Kind == records.Headless { // only headless names answer endpoints
		sets = c.endpointSets(key)
	}
	return c.cfg.ServiceRecords(rs, sets)
}

// importFragment recomputes the records of one ServiceImport (by
// importKey), or returns nil when it does not exist.
func (c *Controller) importFragment(key string) *records.Fragment {
	imp, ok := c.imports.get(strings.TrimPrefix(key, records.ImportKeyPrefix)).(*kubeclient.ServiceImport)
	if !ok {
		return nil
	}
	ri := convertImport(imp)
	var sets []records.EndpointSet
	if ri.Headless {
		list := c.slicesOf(key)
		sets = convertSlices(list)
		c.logUnnamed(ri, list)
	}
	return c.cfg.ImportRecords(ri, sets)
}

// logUnnamed logs, at V(2), the slices of a headless import whose source
// cluster cannot name their endpoints (records.Config.CheckCluster): they
// are not served.
func (c *Controller) logUnnamed(imp *records.ServiceImport, list []*kubeclient.EndpointSlice) {
	logger := c.logger.V(2)
	if !logger.Enabled() {
		return
	}
	for _, s := range list {
		if s.Import == nil {
			continue
		}
		if err := c.cfg.CheckCluster(imp, s.Import.Cluster); err != nil {
			logger.Info("Not serving an imported EndpointSlice", "slice", klog.KRef(s.Namespace, s.Name), "err", err)
		}
	}
}

// slicesOf returns the EndpointSlices indexed under a Service or
// ServiceImport key, sorted by name.
func (c *Controller) slicesOf(key string) []*kubeclient.EndpointSlice {
	objs := c.slices.byServiceKey(key)
	list := make([]*kubeclient.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*kubeclient.EndpointSlice); ok {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b *kubeclient.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	return list
}

func (c *Controller) endpointSets(key string) []records.EndpointSet {
	if c.slices == nil {
		ep, _ := c.endpoints.get(key).(*kubeclient.Endpoints)
		return convertEndpoints(ep)
	}
	return convertSlices(c.slicesOf(key))
}

func (c *Controller) listNamespaces() []string {
	list := c.namespaces.list()
	out := make([]string, 0, len(list))
	for _, n := range list {
		if n, ok := n.(*kubeclient.Namespace); ok {
			out = append(out, n.Name)
		}
	}
	slices.Sort(out)
	return out
}

// publish stores a snapshot of the index; start is when the changes it
// carries began to be applied.
func (c *Controller) publish(ctx context.Context, start time.Time, changed int, pending []time.Time, measured []programmed) {
	serial := nextSerial(c.serial, start)
	snap := c.index.Publish(serial)
	c.serial = serial
	c.snap.Store(snap)
	done := time.Now()

	c.metrics.buildDuration.Observe(done.Sub(start).Seconds())
	c.metrics.publishes.Inc()
	c.metrics.names.Set(float64(snap.Len()))
	for _, at := range pending {
		c.metrics.watchToPublish.Observe(done.Sub(at).Seconds())
	}
	c.observeProgrammed(done, measured)
	klog.FromContext(ctx).V(2).Info("Published DNS snapshot", "serial", serial, "names", snap.Len(),
		"services", c.index.Len(), "changes", changed, "duration", done.Sub(start))
	c.refreshWildcards(ctx)
	if c.opts.Notify != nil {
		c.opts.Notify()
	}
}

// nextSerial returns the SOA serial after prev: the Unix time in seconds, but
// always greater than prev.
func nextSerial(prev uint32, now time.Time) uint32 {
	if s := uint32(now.Unix()); s > prev {
		return s
	}
	return prev + 1
}
