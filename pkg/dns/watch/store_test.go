package watch

import (
	"slices"
	"sort"
	"testing"

	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// recorder collects what a store notifies: "event key@version" per object.
type recorder struct{ got []string }

func (r *recorder) notify(event string, objs ...any) {
	for _, o := range objs {
		s := o.(*kubeclient.EndpointSlice)
		r.got = append(r.got, event+" "+keyOf(o)+"@"+s.ResourceVersion)
	}
}

func (r *recorder) take() []string {
	out := r.got
	r.got = nil
	sort.Strings(out)
	return out
}

func slice(name, service, version string) *kubeclient.EndpointSlice {
	return &kubeclient.EndpointSlice{Meta: kubeclient.Meta{Namespace: "ns", Name: name, ResourceVersion: version}, ServiceName: service}
}

// A relist (Replace) marks only what differs from what the store held:
// new objects, changed ones (both versions, as an update does) and the ones
// gone; and it rebuilds the index by Service.
func TestStoreReplaceMarksTheDifference(t *testing.T) {
	r := &recorder{}
	s := newStore(r.notify, versionChanged, sliceService)
	if s.HasSynced() {
		t.Fatal("synced before the first list")
	}
	if err := s.Replace([]any{slice("a", "web", "1"), slice("b", "web", "1"), slice("c", "api", "1")}, "1"); err != nil {
		t.Fatal(err)
	}
	if !s.HasSynced() {
		t.Fatal("not synced after the first list")
	}
	if got, want := r.take(), []string{"list ns/a@1", "list ns/b@1", "list ns/c@1"}; !slices.Equal(got, want) {
		t.Errorf("first list notified %v, want %v", got, want)
	}

	// b changed (and moved to api), c is gone, d is new, a is as it was.
	if err := s.Replace([]any{slice("a", "web", "1"), slice("b", "api", "2"), slice("d", "api", "1")}, "2"); err != nil {
		t.Fatal(err)
	}
	if got, want := r.take(), []string{"list ns/b@1", "list ns/b@2", "list ns/c@1", "list ns/d@1"}; !slices.Equal(got, want) {
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
	if err := s.Replace([]any{slice("a", "web", "1"), slice("b", "api", "2"), slice("d", "api", "1")}, "3"); err != nil {
		t.Fatal(err)
	}
	if got := r.take(); len(got) != 0 {
		t.Errorf("an unchanged relist notified %v", got)
	}
	_ = s.Update(slice("a", "web", "1")) // same version: nothing
	_ = s.Update(slice("a", "", "5"))    // loses its Service label
	_ = s.Delete(slice("d", "api", "1"))
	_ = s.Delete(slice("zz", "api", "1")) // not held: nothing
	if got, want := r.take(), []string{"delete ns/d@1", "update ns/a@1", "update ns/a@5"}; !slices.Equal(got, want) {
		t.Errorf("watch events notified %v, want %v", got, want)
	}
	if got := names("ns/web"); len(got) != 0 {
		t.Errorf("web's slices = %v after a's label went", got)
	}
	// A new version of one of a Service's slices replaces it in the index.
	_ = s.Update(slice("e", "api", "1"))
	_ = s.Update(slice("b", "api", "4"))
	if got := names("ns/api"); !slices.Equal(got, []string{"b", "e"}) {
		t.Errorf("api's slices = %v, want [b e]", got)
	}
	for _, o := range s.byServiceKey("ns/api") {
		if sl := o.(*kubeclient.EndpointSlice); sl.Name == "b" && sl.ResourceVersion != "4" {
			t.Errorf("the index holds b@%s, want b@4", sl.ResourceVersion)
		}
	}
}

// The first list closes Synced; nothing before it does.
func TestStoreSyncedOnFirstList(t *testing.T) {
	s := newStore((&recorder{}).notify, versionChanged, sliceService)
	_ = s.Add(slice("a", "svc", "1"))
	select {
	case <-s.Synced():
		t.Fatal("synced by a watch event")
	default:
	}
	_ = s.Replace(nil, "2")
	_ = s.Replace(nil, "3") // a relist closes nothing twice
	select {
	case <-s.Synced():
	default:
		t.Fatal("not synced after the first list")
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
