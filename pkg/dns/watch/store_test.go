package watch

import (
	"context"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	k8swatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// recorder collects what a store notifies: "event key@version" per object.
type recorder struct {
	mu  sync.Mutex
	got []string
}

func (r *recorder) notify(event string, objs ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range objs {
		s := o.(*kubeclient.EndpointSlice)
		r.got = append(r.got, event+" "+keyOf(o)+"@"+s.ResourceVersion)
	}
}

// take waits until n notifications are in and returns them sorted.
func (r *recorder) take(t *testing.T, n int) []string {
	t.Helper()
	_ = wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.got) >= n, nil
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	sort.Strings(out)
	return out
}

func fullSlice(name, service, version string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, ResourceVersion: version}}
	if service != "" {
		s.Labels = map[string]string{discoveryv1.LabelServiceName: service}
	}
	return s
}

// fakeAPI is a ListerWatcher whose list the test sets and whose watch it
// drives; ending a watch with 410 Gone makes the informer list again.
type fakeAPI struct {
	mu      sync.Mutex
	items   []discoveryv1.EndpointSlice
	rv      string
	watches chan *k8swatch.FakeWatcher
}

func (f *fakeAPI) set(rv string, items ...*discoveryv1.EndpointSlice) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rv, f.items = rv, nil
	for _, s := range items {
		f.items = append(f.items, *s)
	}
}

func (f *fakeAPI) lw() cache.ListerWatcher {
	return listInitialObjects(&cache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			return &discoveryv1.EndpointSliceList{ListMeta: metav1.ListMeta{ResourceVersion: f.rv}, Items: slices.Clone(f.items)}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (k8swatch.Interface, error) {
			w := k8swatch.NewFakeWithChanSize(10, false)
			f.watches <- w
			return w, nil
		},
	})
}

// A relist marks only what differs from what the informer held: new
// objects, changed ones (both versions, as an update does) and the ones
// gone; and the index by Service follows.
func TestStoreRelistMarksTheDifference(t *testing.T) {
	r := &recorder{}
	api := &fakeAPI{watches: make(chan *k8swatch.FakeWatcher, 4)}
	api.set("1", fullSlice("a", "web", "1"), fullSlice("b", "web", "1"), fullSlice("c", "api", "1"))
	s, err := newStore("endpointslices", api.lw(), &discoveryv1.EndpointSlice{}, r.notify, versionChanged, sliceService)
	if err != nil {
		t.Fatal(err)
	}
	if s.HasSynced() {
		t.Fatal("synced before the first list")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.informer.RunWithContext(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	if got, want := r.take(t, 3), []string{"add ns/a@1", "add ns/b@1", "add ns/c@1"}; !slices.Equal(got, want) {
		t.Errorf("first list notified %v, want %v", got, want)
	}
	if !s.HasSynced() {
		t.Fatal("not synced after the first list")
	}
	w := <-api.watches
	gone := func(w *k8swatch.FakeWatcher) {
		w.Error(&apierrors.NewResourceExpired("too old").ErrStatus)
	}

	// b changed (and moved to api), c is gone, d is new, a is as it was.
	api.set("2", fullSlice("a", "web", "1"), fullSlice("b", "api", "2"), fullSlice("d", "api", "1"))
	gone(w)
	if got, want := r.take(t, 4), []string{"add ns/d@1", "delete ns/c@1", "update ns/b@1", "update ns/b@2"}; !slices.Equal(got, want) {
		t.Errorf("relist notified %v, want %v", got, want)
	}
	names := func(svc string) []string {
		var out []string
		for _, o := range s.byServiceKey(svc) {
			out = append(out, o.(*kubeclient.EndpointSlice).Name)
		}
		sort.Strings(out)
		return out
	}
	if got := names("ns/web"); !slices.Equal(got, []string{"a"}) {
		t.Errorf("web's slices = %v, want [a]", got)
	}
	if got := names("ns/api"); !slices.Equal(got, []string{"b", "d"}) {
		t.Errorf("api's slices = %v, want [b d]", got)
	}

	// The same list again marks nothing; watch events mark what they change.
	w = <-api.watches
	api.set("3", fullSlice("a", "web", "1"), fullSlice("b", "api", "2"), fullSlice("d", "api", "1"))
	gone(w)
	w = <-api.watches
	w.Modify(fullSlice("a", "web", "1")) // same version: nothing
	w.Modify(fullSlice("a", "", "5"))    // loses its Service label
	w.Delete(fullSlice("d", "api", "1"))
	if got, want := r.take(t, 3), []string{"delete ns/d@1", "update ns/a@1", "update ns/a@5"}; !slices.Equal(got, want) {
		t.Errorf("an unchanged relist and watch events notified %v, want %v", got, want)
	}
	if got := names("ns/web"); len(got) != 0 {
		t.Errorf("web's slices = %v after a's label went", got)
	}
	// What the informer stores is slim.
	if _, ok := s.get("ns/b").(*kubeclient.EndpointSlice); !ok {
		t.Errorf("stored %T, want the slim type", s.get("ns/b"))
	}
}

// Unless told to stream, the reflectors are given ListerWatchers that say
// they cannot stream the initial list, so client-go lists.
func TestListInitialObjects(t *testing.T) {
	lw := &cache.ListWatch{}
	if watchlist.DoesClientNotSupportWatchListSemantics(lw) {
		t.Fatal("a plain ListWatch already refuses to stream")
	}
	if !watchlist.DoesClientNotSupportWatchListSemantics(listInitialObjects(lw)) {
		t.Error("listInitialObjects: the reflector would stream")
	}
}
