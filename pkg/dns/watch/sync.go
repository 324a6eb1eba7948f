package watch

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// dirtySet is the work the event handlers leave for the builder. Each entry
// holds the time of its first event; a zero time means clean.
type dirtySet struct {
	services   map[string]time.Time // Service "namespace/name"
	namespaces time.Time
	pods       time.Time
}

func newDirtySet() dirtySet { return dirtySet{services: map[string]time.Time{}} }

func (d *dirtySet) service(key string, at time.Time) {
	if _, ok := d.services[key]; !ok {
		d.services[key] = at
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
	m, ok := unwrap(obj).(metav1.Object)
	if !ok {
		return false
	}
	d.service(m.GetNamespace()+"/"+m.GetName(), at)
	return true
}

// markSliceService marks the Service named by an EndpointSlice's label.
func markSliceService(d *dirtySet, obj any, at time.Time) bool {
	keys, _ := indexByService(unwrap(obj))
	for _, k := range keys {
		d.service(k, at)
	}
	return len(keys) > 0
}

func markNamespaces(d *dirtySet, _ any, at time.Time) bool { firstTime(&d.namespaces, at); return true }
func markPods(d *dirtySet, _ any, at time.Time) bool       { firstTime(&d.pods, at); return true }

// versionChanged drops updates that did not change the resourceVersion, such
// as informer resyncs.
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
	o, ok1 := old.(*corev1.Pod)
	n, ok2 := cur.(*corev1.Pod)
	if !ok1 || !ok2 {
		return true
	}
	if !versionChanged(old, cur) {
		return false
	}
	return !slices.Equal(o.Status.PodIPs, n.Status.PodIPs)
}

// handler returns event handlers that only mark work and wake the builder.
// changed filters updates; an update marks for both versions of the object
// (an EndpointSlice may move to another Service).
func (c *Controller) handler(resource string, mark markFunc, changed func(old, cur any) bool) cache.ResourceEventHandler {
	on := func(event string, objs ...any) {
		if c.logger.V(4).Enabled() {
			key, _ := cache.DeletionHandlingMetaNamespaceKeyFunc(objs[len(objs)-1])
			c.logger.V(4).Info("Watch event", "resource", resource, "event", event, "key", key)
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
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { on("add", obj) },
		UpdateFunc: func(old, cur any) {
			if changed(old, cur) {
				on("update", old, cur)
			}
		},
		DeleteFunc: func(obj any) { on("delete", obj) },
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
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.signal:
			c.sync(ctx, false)
		case <-tick:
			c.sync(ctx, true)
		}
	}
}

func (c *Controller) take() dirtySet {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.dirty
	c.dirty = newDirtySet()
	return d
}

// sync recomputes the dirty Services, namespaces and pods from the informer
// caches and publishes a snapshot if any of them changed. full recomputes
// everything (the first snapshot, and resyncs). The dirty set is taken before
// reading the caches, so an event racing with sync is handled by the next one.
func (c *Controller) sync(ctx context.Context, full bool) {
	d := c.take()
	start := time.Now()
	first := c.snap.Load() == nil
	if full {
		svcs, _ := c.services.List(labels.Everything())
		for _, s := range svcs {
			d.service(s.Namespace+"/"+s.Name, time.Time{})
		}
		for key := range c.index.Services() {
			d.service(key, time.Time{})
		}
	}
	var pending []time.Time // first-event times of what changed
	changed := 0
	frags := c.fragments(d.services)
	for key, at := range d.services {
		if !c.index.SetService(key, frags[key]) {
			continue
		}
		changed++
		if !at.IsZero() {
			pending = append(pending, at)
		}
	}
	if (full || !d.namespaces.IsZero()) && c.index.SetNamespaces(c.listNamespaces()) {
		changed++
		if !d.namespaces.IsZero() {
			pending = append(pending, d.namespaces)
		}
	}
	if c.pods != nil && (full || !d.pods.IsZero()) {
		list, _ := c.pods.List(labels.Everything())
		if c.index.SetPods(convertPods(list)) {
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
		pending = nil // initial list events measure sync time, not programming
	}
	c.publish(ctx, start, changed, pending)
}

// parallelAbove is the number of dirty Services (the first sync, resyncs,
// bursts) from which their records are computed on every CPU.
const parallelAbove = 256

// fragments recomputes the records of the given Services, in parallel when
// there are many: the informer caches are safe for concurrent reads, and
// applying the results to the index stays on the builder goroutine.
func (c *Controller) fragments(keys map[string]time.Time) map[string]*records.Fragment {
	out := make(map[string]*records.Fragment, len(keys))
	workers := min(runtime.GOMAXPROCS(0), len(keys)/parallelAbove+1)
	if workers <= 1 {
		for key := range keys {
			out[key] = c.fragment(key)
		}
		return out
	}
	work := make(chan string, workers)
	type result struct {
		key string
		f   *records.Fragment
	}
	results := make(chan result, workers)
	for range workers {
		go func() {
			for key := range work {
				results <- result{key, c.fragment(key)}
			}
		}()
	}
	go func() {
		for key := range keys {
			work <- key
		}
		close(work)
	}()
	for range keys {
		r := <-results
		out[r.key] = r.f
	}
	return out
}

// fragment recomputes the records of one Service, or returns nil when the
// Service does not exist (deleted, or its endpoints arrived first).
func (c *Controller) fragment(key string) *records.Fragment {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	svc, err := c.services.Services(ns).Get(name)
	if err != nil {
		return nil // NotFound: the only error a cache lister returns
	}
	rs := convertService(svc)
	var sets []records.EndpointSet
	if rs.Kind == records.Headless { // only headless names answer endpoints
		sets = c.endpointSets(key, ns, name)
	}
	return c.cfg.ServiceRecords(rs, sets)
}

func (c *Controller) endpointSets(key, ns, name string) []records.EndpointSet {
	if c.sliceIndex == nil {
		ep, err := c.endpoints.Endpoints(ns).Get(name)
		if err != nil {
			return nil
		}
		return convertEndpoints(ep)
	}
	objs, _ := c.sliceIndex.ByIndex(serviceIndex, key)
	list := make([]*discoveryv1.EndpointSlice, 0, len(objs))
	for _, o := range objs {
		if s, ok := o.(*discoveryv1.EndpointSlice); ok {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b *discoveryv1.EndpointSlice) int { return strings.Compare(a.Name, b.Name) })
	return convertSlices(list)
}

func (c *Controller) listNamespaces() []string {
	list, _ := c.namespaces.List(labels.Everything())
	out := make([]string, 0, len(list))
	for _, n := range list {
		out = append(out, n.Name)
	}
	slices.Sort(out)
	return out
}

// publish stores a snapshot of the index; start is when the changes it
// carries began to be applied.
func (c *Controller) publish(ctx context.Context, start time.Time, changed int, pending []time.Time) {
	serial := nextSerial(c.serial, start)
	snap := c.index.Publish(serial)
	c.serial = serial
	c.snap.Store(snap)
	done := time.Now()

	c.metrics.buildDuration.Observe(done.Sub(start).Seconds())
	c.metrics.publishes.Inc()
	c.metrics.names.Set(float64(snap.Len()))
	for _, at := range pending {
		c.metrics.programmingDuration.Observe(done.Sub(at).Seconds())
	}
	klog.FromContext(ctx).V(2).Info("Published DNS snapshot", "serial", serial, "names", snap.Len(),
		"services", c.index.Len(), "changes", changed, "duration", done.Sub(start))
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
