package watch

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	k8swatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"
)

const domain = "cluster.local."

// harness runs a Controller against a fake clientset with real informers.
type harness struct {
	t      *testing.T
	client *fake.Clientset
	c      *Controller
	reg    *prometheus.Registry
	rv     atomic.Int64

	mu       sync.Mutex
	watching map[string]bool // resources with an established watch
	serials  []uint32        // serial of every publish, in order
}

// newHarness creates the fake client and the Controller but does not run it.
func newHarness(t *testing.T, opts Options, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{t: t, reg: prometheus.NewRegistry(), watching: map[string]bool{}}
	h.rv.Store(100)
	h.client = fake.NewClientset(objs...)
	// The fake watch ignores resourceVersion: anything written between the
	// informer's list and its watch is lost. Record when each watch exists so
	// tests write only after that.
	h.client.PrependWatchReactor("*", func(a k8stesting.Action) (bool, k8swatch.Interface, error) {
		w, err := h.client.Tracker().Watch(a.GetResource(), a.GetNamespace())
		if err != nil {
			return false, nil, err
		}
		h.mu.Lock()
		h.watching[a.GetResource().Resource] = true
		h.mu.Unlock()
		return true, w, nil
	})
	if opts.Records == nil {
		opts.Records = &records.Config{Domain: domain, TTL: 30, Pods: records.PodsDisabled}
	}
	opts.Registerer = h.reg
	opts.Notify = func() {
		s := h.c.Snapshot().Serial()
		h.mu.Lock()
		h.serials = append(h.serials, s)
		h.mu.Unlock()
	}
	c, err := New(fakeapi.New(h.t, h.client), opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.c = c
	return h
}

// run starts the Controller; the test's cleanup stops it and checks Run's result.
func (h *harness) run() {
	h.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- h.c.Run(ctx) }()
	h.t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				h.t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			h.t.Error("Run did not return after cancel")
		}
	})
}

// start runs the Controller and waits for the first snapshot and every watch.
func (h *harness) start() *harness {
	h.t.Helper()
	h.run()
	h.poll("first snapshot and watches", func() bool {
		if !h.c.Ready() {
			return false
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, r := range h.c.watched {
			if !h.watching[r.name] {
				return false
			}
		}
		return true
	})
	return h
}

func startHarness(t *testing.T, opts Options, objs ...runtime.Object) *harness {
	t.Helper()
	return newHarness(t, opts, objs...).start()
}

// poll waits up to 10s for cond.
func (h *harness) poll(what string, cond func() bool) {
	h.t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 5*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		h.t.Fatalf("timed out waiting for %s", what)
	}
}

// waitFor waits until the published snapshot satisfies cond.
func (h *harness) waitFor(what string, cond func(s *records.Snapshot) bool) {
	h.t.Helper()
	h.poll(what, func() bool { s := h.c.Snapshot(); return s != nil && cond(s) })
}

// waitAddrs waits until name answers exactly the given A/AAAA addresses.
func (h *harness) waitAddrs(name string, want ...string) {
	h.t.Helper()
	slices.Sort(want)
	h.poll(fmt.Sprintf("%s to answer %v", name, want), func() bool {
		s := h.c.Snapshot()
		return s != nil && slices.Equal(addrsOf(s, name), want)
	})
}

func (h *harness) publishes() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.serials)
}

// addrsOf returns the sorted A and AAAA addresses of name.
func addrsOf(s *records.Snapshot, name string) []string {
	n := s.Lookup(name)
	if n == nil {
		return nil
	}
	var out []string
	for _, rr := range append(n.RRs(dns.TypeA), n.RRs(dns.TypeAAAA)...) {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	slices.Sort(out)
	return out
}

func gvrOf(t testing.TB, obj runtime.Object) schema.GroupVersionResource {
	t.Helper()
	v1 := corev1.SchemeGroupVersion
	switch obj.(type) {
	case *corev1.Service:
		return v1.WithResource("services")
	case *corev1.Endpoints:
		return v1.WithResource("endpoints")
	case *corev1.Namespace:
		return v1.WithResource("namespaces")
	case *corev1.Pod:
		return v1.WithResource("pods")
	case *discoveryv1.EndpointSlice:
		return discoveryv1.SchemeGroupVersion.WithResource("endpointslices")
	case *mcsv1alpha1.ServiceImport:
		return mcsv1alpha1.SchemeGroupVersion.WithResource("serviceimports")
	}
	t.Fatalf("no resource for %T", obj)
	return schema.GroupVersionResource{}
}

// put creates or updates obj with a fresh resourceVersion.
func (h *harness) put(obj runtime.Object) {
	h.t.Helper()
	m := obj.(metav1.Object)
	m.SetResourceVersion(strconv.FormatInt(h.rv.Add(1), 10))
	h.write(obj)
}

// write creates or updates obj as it is, resourceVersion included.
func (h *harness) write(obj runtime.Object) {
	h.t.Helper()
	obj = obj.DeepCopyObject()
	gvr, ns := gvrOf(h.t, obj), obj.(metav1.Object).GetNamespace()
	err := h.client.Tracker().Create(gvr, obj, ns)
	if apierrors.IsAlreadyExists(err) {
		err = h.client.Tracker().Update(gvr, obj, ns)
	}
	if err != nil {
		h.t.Fatalf("writing %T: %v", obj, err)
	}
}

func (h *harness) del(obj runtime.Object) {
	h.t.Helper()
	m := obj.(metav1.Object)
	if err := h.client.Tracker().Delete(gvrOf(h.t, obj), m.GetNamespace(), m.GetName()); err != nil {
		h.t.Fatalf("deleting %T %s: %v", obj, m.GetName(), err)
	}
}

// touched reports whether the client saw any request for resource.
func (h *harness) touched(resource string) bool {
	for _, a := range h.client.Actions() {
		if a.GetResource().Resource == resource {
			return true
		}
	}
	return false
}

// Object builders.

func clusterIPService(ns, name string, ips ...string) *corev1.Service {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIPs: ips,
			Ports: []corev1.ServicePort{{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80}}}}
	if len(ips) > 0 {
		s.Spec.ClusterIP = ips[0]
	}
	return s
}

func headlessService(ns, name string) *corev1.Service {
	return clusterIPService(ns, name, corev1.ClusterIPNone)
}

func externalService(ns, name, target string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target}}
}

// endpointSlice returns a slice of svc whose endpoints are named by hostname=ip pairs
// ("=ip" for no hostname).
func endpointSlice(ns, svc, name string, at discoveryv1.AddressType, eps ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: at,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	for _, e := range eps {
		host, ip := splitEndpoint(e)
		ep := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}
		if host != "" {
			ep.Hostname = ptr.To(host)
		}
		s.Endpoints = append(s.Endpoints, ep)
	}
	return s
}

func endpoints(ns, name string, eps ...string) *corev1.Endpoints {
	e := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Subsets: []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Name: "http", Port: 8080}}}}}
	for _, s := range eps {
		host, ip := splitEndpoint(s)
		e.Subsets[0].Addresses = append(e.Subsets[0].Addresses, corev1.EndpointAddress{IP: ip, Hostname: host})
	}
	return e
}

func splitEndpoint(s string) (host, ip string) {
	for i := range len(s) {
		if s[i] == '=' {
			return s[:i], s[i+1:]
		}
	}
	return "", s
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func pod(ns, name string, ips ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	return p
}
