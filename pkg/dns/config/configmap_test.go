package config

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8swatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
)

const ns, cmName = "kube-system", "kube-dns"

// cmHarness is a fake API server holding ConfigMaps.
type cmHarness struct {
	t        *testing.T
	client   *fake.Clientset
	rv       atomic.Int64
	watching chan struct{} // closed once the ConfigMap watch exists
	once     sync.Once
}

func newCMHarness(t *testing.T, objs ...runtime.Object) *cmHarness {
	t.Helper()
	h := &cmHarness{t: t, client: fake.NewClientset(objs...), watching: make(chan struct{})}
	h.rv.Store(100)
	// The fake watch ignores resourceVersion: writes between the informer's
	// list and its watch would be lost. Tell the tests when the watch exists.
	h.client.PrependWatchReactor("configmaps", func(a k8stesting.Action) (bool, k8swatch.Interface, error) {
		w, err := h.client.Tracker().Watch(a.GetResource(), a.GetNamespace())
		if err != nil {
			return false, nil, err
		}
		h.once.Do(func() { close(h.watching) })
		return true, w, nil
	})
	return h
}

func configMap(name, rv string, data map[string]string) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, ResourceVersion: rv,
			Labels: map[string]string{"dropped": "by the transform"}},
		Data: data,
	}
}

// start runs a source on the fake and waits until its watch exists.
func (h *cmHarness) start(m *Metrics) <-chan *Config {
	h.t.Helper()
	return h.startSource(NewConfigMapSource(fakeapi.New(h.t, h.client), ns, cmName, m))
}

// startSource runs src and waits until its watch exists.
func (h *cmHarness) startSource(src Source) <-chan *Config {
	h.t.Helper()
	ch := run(h.t, src)
	select {
	case <-h.watching:
	case <-time.After(deadline):
		h.t.Fatal("the ConfigMap watch was not started")
	}
	return ch
}

// apply creates or updates a ConfigMap in the namespace, with a new resourceVersion.
func (h *cmHarness) apply(name string, data map[string]string) {
	h.t.Helper()
	cm := configMap(name, fmt.Sprint(h.rv.Add(1)), data)
	cms := h.client.CoreV1().ConfigMaps(ns)
	_, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{})
	if err != nil {
		_, err = cms.Create(context.Background(), cm, metav1.CreateOptions{})
	}
	must(h.t, err)
}

func (h *cmHarness) delete(name string) {
	h.t.Helper()
	must(h.t, h.client.CoreV1().ConfigMaps(ns).Delete(context.Background(), name, metav1.DeleteOptions{}))
}

// checkSelectors checks that every list and watch was of the one ConfigMap.
func (h *cmHarness) checkSelectors() {
	h.t.Helper()
	var lists, watches int
	for _, a := range h.client.Actions() {
		var fields string
		switch a := a.(type) {
		case k8stesting.ListAction:
			lists++
			fields = a.GetListRestrictions().Fields.String()
		case k8stesting.WatchAction:
			watches++
			fields = a.GetWatchRestrictions().Fields.String()
		default:
			continue
		}
		if a.GetResource().Resource != "configmaps" || a.GetNamespace() != ns || fields != "metadata.name=kube-dns" {
			h.t.Errorf("%s %s in %q with field selector %q, want configmaps in %q with metadata.name=kube-dns",
				a.GetVerb(), a.GetResource().Resource, a.GetNamespace(), fields, ns)
		}
	}
	if lists == 0 || watches == 0 {
		h.t.Errorf("%d lists and %d watches, want some of each", lists, watches)
	}
}

func TestConfigMapSource(t *testing.T) {
	m, reg := newTestMetrics()
	h := newCMHarness(t, configMap("other", "1", map[string]string{KeyUpstreamNameservers: `["7.7.7.7"]`}))
	ch := h.start(m)
	if c := expect(t, ch, Default()); c.Version != "" {
		t.Errorf("absent ConfigMap: Version %q, want empty", c.Version)
	}

	valid := &Config{StubDomains: map[string][]string{"acme.local": {"1.2.3.4"}}, UpstreamNameservers: []string{"8.8.8.8:53"}}
	steps := []struct {
		name     string
		do       func()
		want     *Config // nil: nothing sent
		rejected string  // key whose counter goes up
	}{
		{
			name: "created",
			do: func() {
				h.apply(cmName, map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4"]}`, KeyUpstreamNameservers: `["8.8.8.8"]`})
			},
			want: valid,
		},
		{
			name: "updated",
			do:   func() { h.apply(cmName, map[string]string{KeyUpstreamNameservers: `["8.8.4.4:5353"]`}) },
			want: &Config{UpstreamNameservers: []string{"8.8.4.4:5353"}},
		},
		{
			name: "another ConfigMap changes: ignored",
			do: func() {
				h.apply("other", map[string]string{KeyUpstreamNameservers: `["6.6.6.6"]`})
				h.apply("coredns", nil)
				h.delete("other")
			},
		},
		{
			name:     "invalid update rejected",
			do:       func() { h.apply(cmName, map[string]string{KeyUpstreamNameservers: `["dns.google"]`}) },
			rejected: KeyUpstreamNameservers,
		},
		{
			name: "labels only, same effect: nothing sent",
			do:   func() { h.apply(cmName, map[string]string{KeyUpstreamNameservers: `["8.8.4.4:5353"]`}) },
		},
		{
			name: "later valid update applied",
			do:   func() { h.apply(cmName, map[string]string{KeyFederations: "f=example.com"}) },
			want: &Config{Federations: map[string]string{"f": "example.com"}},
		},
		{
			name: "deleted",
			do:   func() { h.delete(cmName) },
			want: Default(),
		},
		{
			name: "re-created",
			do: func() {
				h.apply(cmName, map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4"]}`, KeyUpstreamNameservers: `["8.8.8.8"]`})
			},
			want: valid,
		},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := rejected(t, reg, st.rejected)
			st.do()
			switch {
			case st.want != nil:
				c := expect(t, ch, st.want)
				wantVersion := fmt.Sprint(h.rv.Load())
				if st.name == "deleted" {
					wantVersion = ""
				}
				if c.Version != wantVersion {
					t.Errorf("Version %q, want %q", c.Version, wantVersion)
				}
			case st.rejected != "":
				waitFor(t, "the rejection", func() bool { return rejected(t, reg, st.rejected) == before+1 })
				expectNothing(t, ch)
			}
			// Nothing else comes: the next step's change is the next configuration.
		})
	}
	expectNothing(t, ch)
	if got := updates(t, reg); got != 6 {
		t.Errorf("updates_total = %v, want 6 (the valid configurations sent, the first default included)", got)
	}
	h.checkSelectors()
}

func TestConfigMapSourceStartup(t *testing.T) {
	tests := []struct {
		name     string
		data     map[string]string
		want     *Config
		rejected string
	}{
		{"valid", map[string]string{KeyUpstreamNameservers: `["1.1.1.1"]`}, &Config{UpstreamNameservers: []string{"1.1.1.1:53"}}, ""},
		{"empty", nil, Default(), ""},
		{"invalid means the defaults", map[string]string{KeyFederations: "nonsense"}, Default(), KeyFederations},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, reg := newTestMetrics()
			h := newCMHarness(t, configMap(cmName, "5", tt.data))
			ch := h.start(m)
			expect(t, ch, tt.want)
			if tt.rejected != "" {
				if got := rejected(t, reg, tt.rejected); got != 1 {
					t.Errorf("rejected = %v, want 1", got)
				}
			}
			// Valid data later are applied.
			h.apply(cmName, map[string]string{KeyUpstreamNameservers: `["9.9.9.9"]`})
			expect(t, ch, &Config{UpstreamNameservers: []string{"9.9.9.9:53"}})
		})
	}
}

// TestConfigMapSourceNoResourceVersion: objects without a resourceVersion
// (not from a real API server) are told apart by content.
func TestConfigMapSourceNoResourceVersion(t *testing.T) {
	h := newCMHarness(t, configMap(cmName, "", map[string]string{KeyUpstreamNameservers: `["1.1.1.1"]`}))
	ch := h.start(nil)
	expect(t, ch, &Config{UpstreamNameservers: []string{"1.1.1.1:53"}})
	_, err := h.client.CoreV1().ConfigMaps(ns).Update(context.Background(),
		configMap(cmName, "", map[string]string{KeyUpstreamNameservers: `["2.2.2.2"]`}), metav1.UpdateOptions{})
	must(t, err)
	expect(t, ch, &Config{UpstreamNameservers: []string{"2.2.2.2:53"}})
}

func TestConfigMapSourceReconnects(t *testing.T) {
	h := newCMHarness(t, configMap(cmName, "5", map[string]string{KeyUpstreamNameservers: `["1.1.1.1"]`}))
	var lists atomic.Int32
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}
	h.client.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		if lists.Add(1) <= 5 {
			return true, nil, refused
		}
		return false, nil, nil
	})
	m, reg := newTestMetrics()
	src := NewConfigMapSource(fakeapi.New(h.t, h.client), ns, cmName, m).(*configMapSource)
	src.backoff = apiretry.Backoff{Initial: time.Millisecond, Max: time.Millisecond}
	ch := h.startSource(src)
	expect(t, ch, &Config{UpstreamNameservers: []string{"1.1.1.1:53"}})
	if n := lists.Load(); n < 6 {
		t.Errorf("%d list calls, want 5 refused and one answered", n)
	}
	if n := metricValue(t, reg, "kubedns_api_errors_total", "resource", "configmaps", "cause", "unreachable"); n != 5 {
		t.Errorf("%v refused lists counted, want 5", n)
	}
}

func TestConfigMapSourceStopsBeforeSync(t *testing.T) {
	h := newCMHarness(t)
	h.client.PrependReactor("list", "configmaps", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewConfigMapSource(fakeapi.New(h.t, h.client), ns, cmName, nil).Run(ctx, make(chan *Config))
	}()
	waitFor(t, "a list call", func() bool { return len(h.client.Actions()) > 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(deadline):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestSlimConfigMap(t *testing.T) {
	in := configMap(cmName, "7", map[string]string{"a": "b"})
	in.Annotations = map[string]string{"x": "y"}
	out, err := slimConfigMap(in)
	must(t, err)
	cm := out.(*corev1.ConfigMap)
	if cm.Name != cmName || cm.Namespace != ns || cm.ResourceVersion != "7" || cm.Data["a"] != "b" || cm.Labels != nil || cm.Annotations != nil {
		t.Errorf("slimConfigMap = %+v", cm)
	}
	tomb := "not a ConfigMap"
	if got, _ := slimConfigMap(tomb); got != tomb {
		t.Errorf("slimConfigMap(%v) = %v, want it unchanged", tomb, got)
	}
	if in.Labels == nil {
		t.Error("slimConfigMap modified its input")
	}
}
