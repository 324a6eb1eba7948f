package watch

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"k8s.io/client-go/tools/cache"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// store is the cache of one watched resource: the cache.ReflectorStore a
// client-go reflector writes into. It applies each change the moment the
// reflector delivers it and tells the Controller what work the change
// causes; there is no queue and no event fan-out in between. A relist
// (Replace) is compared with what the store held, so only what differs is
// marked.
type store struct {
	// notify is told the objects an event concerns (for an update, both
	// versions); changed filters updates.
	notify  func(event string, objs ...any)
	changed func(old, cur any) bool
	// serviceOf, when set, indexes objects by the "namespace/name" of their
	// Service and the key of their ServiceImport ("" for none):
	// EndpointSlices.
	serviceOf func(obj any) (svc, imp string)
	// fresh, when set, is told every object that is new (created true) or
	// changed, not the versions they replace nor deleted ones: what the
	// DNS programming latency is measured from.
	fresh func(obj any, created bool)

	mu        sync.RWMutex
	items     map[string]any
	byService map[string][]keyed // only with serviceOf

	syncOnce sync.Once
	synced   chan struct{} // closed when the first list is in
}

func newStore(notify func(string, ...any), changed func(old, cur any) bool, serviceOf func(any) (string, string)) *store {
	s := &store{notify: notify, changed: changed, serviceOf: serviceOf,
		items: map[string]any{}, synced: make(chan struct{})}
	if serviceOf != nil {
		s.byService = map[string][]keyed{}
	}
	return s
}

// keyOf is the store key of a slim object: "namespace/name", or "name".
func keyOf(obj any) string {
	k, _ := cache.MetaNamespaceKeyFunc(obj)
	return k
}

// put stores obj under key and returns what it replaced; s.mu is held.
func (s *store) put(key string, obj any) (old any) {
	old = s.items[key]
	s.items[key] = obj
	if s.serviceOf != nil {
		if old != nil {
			s.unindex(key, old)
		}
		s.index(key, obj)
	}
	return old
}

// remove deletes key and returns what it held; s.mu is held.
func (s *store) remove(key string) (old any) {
	old, ok := s.items[key]
	if !ok {
		return nil
	}
	delete(s.items, key)
	if s.serviceOf != nil {
		s.unindex(key, old)
	}
	return old
}

// keyed is an object of the index with its key. A Service has few
// EndpointSlices, most one: a short list of them costs a tenth of a map.
type keyed struct {
	key string
	obj any
}

func (s *store) index(key string, obj any) {
	svc, imp := s.serviceOf(obj)
	for _, k := range [...]string{svc, imp} {
		if k != "" {
			s.byService[k] = append(s.byService[k], keyed{key, obj})
		}
	}
}

func (s *store) unindex(key string, obj any) {
	svc, imp := s.serviceOf(obj)
	for _, k := range [...]string{svc, imp} {
		l := s.byService[k]
		i := slices.IndexFunc(l, func(e keyed) bool { return e.key == key })
		switch {
		case i < 0:
		case len(l) == 1:
			delete(s.byService, k)
		default:
			s.byService[k] = slices.Delete(l, i, i+1)
		}
	}
}

// Add and Update store an object from the watch.
func (s *store) Add(obj any) error { return s.Update(obj) }
func (s *store) Update(obj any) error {
	key := keyOf(obj)
	s.mu.Lock()
	old := s.put(key, obj)
	s.mu.Unlock()
	switch {
	case old == nil:
		s.isFresh(obj, true) // before the mark, so that the same sync sees both
		s.notify("add", obj)
	case s.changed(old, obj):
		s.isFresh(obj, false)
		s.notify("update", old, obj)
	}
	return nil
}

func (s *store) isFresh(obj any, created bool) {
	if s.fresh != nil {
		s.fresh(obj, created)
	}
}

// Delete removes an object deleted in the API.
func (s *store) Delete(obj any) error {
	s.mu.Lock()
	old := s.remove(keyOf(obj))
	s.mu.Unlock()
	if old != nil {
		s.notify("delete", old)
	}
	return nil
}

// Replace takes a full list (the first list, and relists after a watch
// could not resume) and marks what it changed, added and removed.
func (s *store) Replace(list []any, _ string) error {
	items := make(map[string]any, len(list))
	for _, obj := range list {
		items[keyOf(obj)] = obj
	}
	var touched []any
	s.mu.Lock()
	old := s.items
	s.items = items
	if s.serviceOf != nil {
		s.byService = map[string][]keyed{}
		for key, obj := range items {
			s.index(key, obj)
		}
	}
	s.mu.Unlock()
	for key, obj := range items {
		switch prev, ok := old[key]; {
		case !ok:
			touched = append(touched, obj)
			s.isFresh(obj, true)
		case s.changed(prev, obj):
			touched = append(touched, prev, obj)
			s.isFresh(obj, false)
		}
	}
	for key, prev := range old {
		if _, ok := items[key]; !ok {
			touched = append(touched, prev)
		}
	}
	if len(touched) > 0 {
		s.notify("list", touched...)
	}
	s.syncOnce.Do(func() { close(s.synced) })
	return nil
}

// Resync does nothing: the Controller resyncs itself (Options.Resync).
func (s *store) Resync() error { return nil }

// Synced is closed once the first list has been stored.
func (s *store) Synced() <-chan struct{} { return s.synced }

// HasSynced reports whether the first list has been stored.
func (s *store) HasSynced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// get returns the object stored under key, or nil.
func (s *store) get(key string) any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.items[key]
}

// known is the store's kubeclient.Known: a relist takes the objects whose
// version it holds rather than decode them again, so the objects it
// replaces are not held twice at its peak.
func (s *store) known(namespace, name, resourceVersion string) runtime.Object {
	s.mu.RLock()
	obj, ok := s.items[cache.NewObjectName(namespace, name).String()].(metav1.Object)
	s.mu.RUnlock()
	if !ok || obj.GetResourceVersion() != resourceVersion || resourceVersion == "" {
		return nil
	}
	ro, _ := obj.(runtime.Object)
	return ro
}

// len returns how many objects are stored.
func (s *store) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.items)
}

// eachKey calls fn with the key of every object stored; fn must not use s.
func (s *store) eachKey(fn func(key string)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for key := range s.items {
		fn(key)
	}
}

// list returns every object stored.
func (s *store) list() []any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]any, 0, len(s.items))
	for _, obj := range s.items {
		out = append(out, obj)
	}
	return out
}

// byServiceKey returns the objects indexed under a Service or
// ServiceImport key.
func (s *store) byServiceKey(svc string) []any {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l := s.byService[svc]
	out := make([]any, len(l))
	for i, e := range l {
		out[i] = e.obj
	}
	return out
}

// sliceService is the serviceOf of the EndpointSlice store: the key of the
// Service a slice belongs to, and of the ServiceImport (importKey) an MCS
// controller wrote it for.
func sliceService(obj any) (svc, imp string) {
	s, ok := obj.(*kubeclient.EndpointSlice)
	if !ok {
		return "", ""
	}
	if s.ServiceName != "" {
		svc = s.Namespace + "/" + s.ServiceName
	}
	if s.Import != nil && s.Import.ServiceName != "" {
		imp = importKey(s.Namespace, s.Import.ServiceName)
	}
	return svc, imp
}

// importKey is the key of a ServiceImport in the dirty set and the slices'
// index: its "namespace/name" with records.ImportKeyPrefix, so that it is
// never a Service's.
func importKey(ns, name string) string { return records.ImportKeyPrefix + ns + "/" + name }

// sliceServiceKey is the Service half of sliceService.
func sliceServiceKey(obj any) string {
	svc, _ := sliceService(obj)
	return svc
}

var _ cache.ReflectorStore = (*store)(nil)
