package watch

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// store is one watched resource: a client-go shared informer whose
// transform slims each object as it arrives (kubeclient.Transform), whose
// indexer is the cache the builder reads, and whose one event handler only
// tells the Controller what work a change causes. A relist reaches the
// handler as updates (filtered by changed) and deletes of what is gone.
type store struct {
	informer cache.SharedIndexInformer
	indexer  cache.Indexer
	reg      cache.ResourceEventHandlerRegistration
	// notify is told the objects an event concerns (for an update, both
	// versions); changed filters updates.
	notify  func(event string, objs ...any)
	changed func(old, cur any) bool
	// fresh, when set, is told every object that is new (created true) or
	// changed, not the versions they replace nor deleted ones: what the
	// DNS programming latency is measured from.
	fresh func(obj any, created bool)
}

// byService is the index of EndpointSlices by the "namespace/name" of
// their Service and the key of their ServiceImport.
const byService = "service"

// newStore sets up the informer of one resource over lw; serviceOf, when
// set, indexes objects by their Service and ServiceImport keys ("" for
// none): EndpointSlices.
func newStore(name string, lw cache.ListerWatcher, example runtime.Object, notify func(string, ...any), changed func(old, cur any) bool, serviceOf func(any) (string, string)) (*store, error) {
	indexers := cache.Indexers{}
	if serviceOf != nil {
		indexers[byService] = func(obj any) ([]string, error) {
			svc, imp := serviceOf(obj)
			keys := make([]string, 0, 2)
			for _, k := range [...]string{svc, imp} {
				if k != "" {
					keys = append(keys, k)
				}
			}
			return keys, nil
		}
	}
	inf := cache.NewSharedIndexInformerWithOptions(lw, example, cache.SharedIndexInformerOptions{
		Indexers: indexers, ObjectDescription: name,
	})
	if err := inf.SetTransform(kubeclient.Transform()); err != nil {
		return nil, err
	}
	s := &store{informer: inf, indexer: inf.GetIndexer(), notify: notify, changed: changed}
	reg, err := inf.AddEventHandler(s)
	if err != nil {
		return nil, err
	}
	s.reg = reg
	return s, nil
}

// keyOf is the store key of a slim object: "namespace/name", or "name".
func keyOf(obj any) string {
	k, _ := cache.DeletionHandlingMetaNamespaceKeyFunc(obj)
	return k
}

// OnAdd, OnUpdate and OnDelete are the informer's event handler.
func (s *store) OnAdd(obj any, _ bool) {
	s.isFresh(obj, true) // before the mark, so that the same sync sees both
	s.notify("add", obj)
}

func (s *store) OnUpdate(old, cur any) {
	if s.changed(old, cur) {
		s.isFresh(cur, false)
		s.notify("update", old, cur)
	}
}

func (s *store) OnDelete(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj // deleted while the watch was down: its last known state
	}
	s.notify("delete", obj)
}

func (s *store) isFresh(obj any, created bool) {
	if s.fresh != nil {
		s.fresh(obj, created)
	}
}

// HasSynced reports whether the first list has been stored and handled.
func (s *store) HasSynced() bool { return s.reg.HasSynced() }

// get returns the object stored under key, or nil.
func (s *store) get(key string) any {
	obj, _, _ := s.indexer.GetByKey(key)
	return obj
}

// len returns how many objects are stored.
func (s *store) len() int { return len(s.indexer.ListKeys()) }

// eachKey calls fn with the key of every object stored.
func (s *store) eachKey(fn func(key string)) {
	for _, key := range s.indexer.ListKeys() {
		fn(key)
	}
}

// list returns every object stored.
func (s *store) list() []any { return s.indexer.List() }

// byServiceKey returns the objects indexed under a Service or
// ServiceImport key.
func (s *store) byServiceKey(svc string) []any {
	objs, _ := s.indexer.ByIndex(byService, svc)
	return objs
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

var _ cache.ResourceEventHandler = (*store)(nil)
