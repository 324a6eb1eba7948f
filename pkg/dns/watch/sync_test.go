package watch

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"
)

// offline drives a Controller without starting its informers: the test writes
// their stores, calls the real event handlers and runs sync itself, so the
// order of events and builds is exact.
type offline struct {
	t  testing.TB
	c  *Controller
	rv int
}

func newOffline(t testing.TB, opts Options) *offline {
	t.Helper()
	if opts.Records == nil {
		opts.Records = &records.Config{Domain: domain, TTL: 30, Pods: records.PodsDisabled}
	}
	c, err := New(fakeapi.New(t, newClient()), opts)
	if err != nil {
		t.Fatal(err)
	}
	o := &offline{t: t, c: c}
	o.sync(true)
	return o
}

func (o *offline) store(obj runtime.Object) *store {
	o.t.Helper()
	name := gvrOf(o.t, obj).Resource
	for _, r := range o.c.watched {
		if r.name == name {
			return r.store
		}
	}
	o.t.Fatalf("%s not watched", name)
	return nil
}

// put hands the store obj as the client delivers it (slim), with a new
// resourceVersion, as the reflector does for a watch event.
func (o *offline) put(obj runtime.Object) {
	o.t.Helper()
	o.rv++
	obj = obj.DeepCopyObject()
	obj.(metav1.Object).SetResourceVersion(strconv.Itoa(o.rv))
	if err := o.store(obj).Update(slimObj(o.t, obj)); err != nil {
		o.t.Fatal(err)
	}
}

func (o *offline) del(obj runtime.Object) {
	o.t.Helper()
	s := o.store(obj)
	if s.get(keyOf(obj)) == nil {
		o.t.Fatalf("deleting a missing %T", obj)
	}
	if err := s.Delete(slimObj(o.t, obj)); err != nil {
		o.t.Fatal(err)
	}
}

func slimObj(t testing.TB, obj runtime.Object) runtime.Object {
	t.Helper()
	out, ok := kubeclient.Slim(obj)
	if !ok {
		t.Fatalf("kubeclient.Slim(%T) failed", obj)
	}
	return out
}

// sync runs one builder round and reports whether it published.
func (o *offline) sync(full bool) bool {
	before := o.c.Snapshot()
	o.c.sync(context.Background(), full)
	return o.c.Snapshot() != before
}

func (o *offline) addrs(name string) []string { return addrsOf(o.c.Snapshot(), name) }

func TestSyncOrdering(t *testing.T) {
	o := newOffline(t, Options{})
	a := endpointSlice("default", "web", "web-a", discoveryv1.AddressTypeIPv4, "10.1.0.1")
	b := endpointSlice("default", "web", "web-b", discoveryv1.AddressTypeIPv4, "10.1.0.2")

	o.put(a)
	o.put(b)
	if o.sync(false) {
		t.Error("slices without a Service published a snapshot")
	}
	o.put(headlessService("default", "web"))
	if !o.sync(false) || len(o.addrs(webName)) != 2 {
		t.Fatalf("Service with two slices answers %v", o.addrs(webName))
	}

	// A slice relabelled to another Service leaves the first one.
	moved := b.DeepCopy()
	moved.Labels[discoveryv1.LabelServiceName] = "api"
	o.put(moved)
	o.put(headlessService("default", "api"))
	o.sync(false)
	if got, api := o.addrs(webName), o.addrs("api.default.svc."+domain); len(got) != 1 || len(api) != 1 {
		t.Fatalf("after the move web answers %v and api %v", got, api)
	}

	o.del(headlessService("default", "web"))
	if !o.sync(false) || o.c.Snapshot().Lookup(webName) != nil {
		t.Fatal("deleted Service still answers")
	}
	a.Endpoints[0].Addresses = []string{"10.1.0.9"}
	o.put(a)
	if o.sync(false) || o.c.Snapshot().Lookup(webName) != nil {
		t.Fatal("a slice of a deleted Service published records")
	}
	o.del(a)
	if o.sync(false) {
		t.Fatal("deleting an orphan slice published a snapshot")
	}
	if keys := slices.Collect(o.c.index.Services()); len(keys) != 1 {
		t.Errorf("fragments left: %v", keys)
	}
}

func TestMarking(t *testing.T) {
	o := newOffline(t, Options{})
	svc := clusterIPService("default", "web", "10.0.0.1")
	o.put(svc)
	first := o.c.dirty.services["default/web"]
	svc.Spec.ClusterIP = "10.0.0.2"
	o.put(svc)
	o.put(endpointSlice("default", "web", "web-a", discoveryv1.AddressTypeIPv4, "10.1.0.1"))
	o.put(endpointSlice("default", "", "nolabel", discoveryv1.AddressTypeIPv4, "10.1.0.1"))
	if got := len(o.c.signal); got != 1 {
		t.Errorf("%d signals pending, want 1 (coalesced)", got)
	}
	if len(o.c.dirty.services) != 1 || o.c.dirty.services["default/web"] != first || first.IsZero() {
		t.Errorf("dirty = %v, want only default/web at its first event time %v", o.c.dirty.services, first)
	}
	o.sync(false)
	<-o.c.signal

	// An update with an unchanged resourceVersion marks nothing.
	st := o.store(svc)
	if err := st.Update(st.get("default/web")); err != nil {
		t.Fatal(err)
	}
	if len(o.c.signal) != 0 || len(o.c.dirty.services) != 0 {
		t.Error("same-version update marked work")
	}
	// Namespace updates carry nothing DNS uses.
	o.put(namespace("ns"))
	o.sync(false)
	<-o.c.signal
	o.put(namespace("ns"))
	if len(o.c.signal) != 0 || !o.c.dirty.namespaces.IsZero() {
		t.Error("namespace update marked work")
	}
}

func TestResyncPicksUpMissedChanges(t *testing.T) {
	o := newOffline(t, Options{})
	st := o.store(clusterIPService("", "", ""))
	st.mu.Lock()
	st.put("default/web", slimObj(t, clusterIPService("default", "web", "10.0.0.1"))) // no event
	st.mu.Unlock()
	if o.sync(false) {
		t.Fatal("published without a mark")
	}
	if !o.sync(true) || len(o.addrs(webName)) != 1 {
		t.Fatal("full sync missed the Service")
	}
	if o.sync(true) {
		t.Error("a full sync without changes published")
	}
}

func TestNextSerial(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	tests := []struct {
		prev, want uint32
	}{
		{0, 1_700_000_000},
		{1_600_000_000, 1_700_000_000},
		{1_700_000_000, 1_700_000_001}, // two publishes in one second
		{1_800_000_000, 1_800_000_001}, // clock went back
	}
	for _, tt := range tests {
		if got := nextSerial(tt.prev, now); got != tt.want {
			t.Errorf("nextSerial(%d) = %d, want %d", tt.prev, got, tt.want)
		}
	}
}
