package kubeclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// fakeAPI serves one namespace's Services the way kube-apiserver does: a
// list, a watch stream, and with watchList the streamed initial events
// ended by a bookmark carrying the initial-events-end annotation.
type fakeAPI struct {
	t         *testing.T
	mediaType string
	watchList bool
	list      *corev1.ServiceList
	events    []watch.Event
	status    *metav1.Status // when set, every request fails with it

	mu   sync.Mutex
	seen []string // requests, "list" or "watch" plus "+initial"
}

const fieldSelector = "metadata.name!=ignored"

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.Header.Get("Accept"), runtime.ContentTypeProtobuf) {
		f.t.Errorf("Accept = %q, want protobuf first", r.Header.Get("Accept"))
	}
	if f.status != nil {
		f.write(w, int(f.status.Code), f.status)
		return
	}
	if r.URL.Path != "/api/v1/namespaces/shop/services" {
		f.write(w, http.StatusNotFound, &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound})
		return
	}
	q := r.URL.Query()
	if q.Get("fieldSelector") != fieldSelector {
		f.t.Errorf("fieldSelector = %q, want %q", q.Get("fieldSelector"), fieldSelector)
	}
	if q.Get("watch") != "true" {
		f.record("list")
		f.write(w, http.StatusOK, f.list)
		return
	}
	var events []watch.Event
	if q.Get("sendInitialEvents") == "true" {
		f.record("watch+initial")
		if !f.watchList {
			f.write(w, http.StatusUnprocessableEntity, &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid})
			return
		}
		for i := range f.list.Items {
			events = append(events, watch.Event{Type: watch.Added, Object: &f.list.Items[i]})
		}
		events = append(events, watch.Event{Type: watch.Bookmark, Object: &corev1.Service{ObjectMeta: metav1.ObjectMeta{
			ResourceVersion: f.list.ResourceVersion,
			Annotations:     map[string]string{metav1.InitialEventsAnnotationKey: "true"},
		}}})
	} else {
		f.record("watch")
		if rv := q.Get("resourceVersion"); rv != f.list.ResourceVersion {
			f.t.Errorf("watch from resourceVersion %q, want %q", rv, f.list.ResourceVersion)
		}
	}
	events = append(events, f.events...)

	info := refInfo(f.t, f.mediaType)
	w.Header().Set("Content-Type", f.mediaType+";stream=watch")
	w.WriteHeader(http.StatusOK)
	enc := streaming.NewEncoder(info.StreamSerializer.Framer.NewFrameWriter(w), info.StreamSerializer.Serializer)
	for _, e := range events {
		ev := &metav1.WatchEvent{Type: string(e.Type), Object: runtime.RawExtension{Raw: encode(f.t, f.mediaType, e.Object)}}
		if err := enc.Encode(ev); err != nil {
			f.t.Errorf("encode watch event: %v", err)
			return
		}
		w.(http.Flusher).Flush()
	}
	<-r.Context().Done()
}

func (f *fakeAPI) write(w http.ResponseWriter, code int, obj runtime.Object) {
	w.Header().Set("Content-Type", f.mediaType)
	w.WriteHeader(code)
	if _, err := w.Write(encode(f.t, f.mediaType, obj)); err != nil {
		f.t.Errorf("write: %v", err)
	}
}

func (f *fakeAPI) record(req string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen = append(f.seen, req)
}

func (f *fakeAPI) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func service(name, rv string, ports ...int32) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "shop", ResourceVersion: rv, UID: types.UID("uid-" + name),
			Labels:        map[string]string{"app": name},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:spec":{}}`)}}},
		},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"}},
	}
	for _, p := range ports {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "p", Protocol: corev1.ProtocolTCP, Port: p})
	}
	return s
}

// sentinelStore closes done once the object named "sentinel" is added: the
// server sends it last, so every earlier event has been handled by then.
type sentinelStore struct {
	cache.Store
	once sync.Once
	done chan struct{}
}

func (s *sentinelStore) Add(obj any) error {
	err := s.Store.Add(obj)
	if m, ok := obj.(*Service); ok && m.Name == "sentinel" {
		s.once.Do(func() { close(s.done) })
	}
	return err
}

// TestReflector runs a cache.Reflector over the client against a fake API
// server speaking protobuf or JSON, with and without watch-list support.
func TestReflector(t *testing.T) {
	tests := []struct {
		name         string
		mediaType    string
		watchList    bool
		wantRequests []string
	}{
		{name: "protobuf watch-list", mediaType: runtime.ContentTypeProtobuf, watchList: true, wantRequests: []string{"watch+initial"}},
		{name: "protobuf list then watch", mediaType: runtime.ContentTypeProtobuf, wantRequests: []string{"watch+initial", "list", "watch"}},
		{name: "json watch-list", mediaType: runtime.ContentTypeJSON, watchList: true, wantRequests: []string{"watch+initial"}},
		{name: "json list then watch", mediaType: runtime.ContentTypeJSON, wantRequests: []string{"watch+initial", "list", "watch"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{
				t: t, mediaType: tc.mediaType, watchList: tc.watchList,
				list: &corev1.ServiceList{
					ListMeta: metav1.ListMeta{ResourceVersion: "10"},
					Items:    []corev1.Service{*service("a", "3", 80), *service("b", "4", 80), *service("c", "5")},
				},
				events: []watch.Event{
					{Type: watch.Modified, Object: service("b", "11", 8080, 8443)},
					{Type: watch.Deleted, Object: service("c", "12")},
					{Type: watch.Bookmark, Object: &corev1.Service{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "13"}}},
					{Type: watch.Added, Object: service("d", "14", 53)},
					{Type: watch.Added, Object: service("sentinel", "15")},
				},
			}
			srv := httptest.NewServer(api)
			defer srv.Close()

			client, err := New(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			store := &sentinelStore{Store: cache.NewStore(cache.MetaNamespaceKeyFunc), done: make(chan struct{})}
			r := cache.NewReflectorWithOptions(client.ListWatch("services", "shop", fieldSelector), &Service{}, store, cache.ReflectorOptions{Name: tc.name})

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				r.RunWithContext(ctx)
			}()
			select {
			case <-store.done:
			case <-ctx.Done():
				t.Fatalf("the last event never reached the store; requests %v", api.requests())
			}
			cancel()
			<-stopped

			var want []*Service
			for _, s := range []*corev1.Service{service("a", "3", 80), service("b", "11", 8080, 8443), service("d", "14", 53), service("sentinel", "15")} {
				slim, _ := Slim(s)
				want = append(want, slim.(*Service))
			}
			var got []*Service
			for _, obj := range store.List() {
				got = append(got, obj.(*Service))
			}
			sort.Slice(got, func(i, j int) bool { return got[i].Name < got[j].Name })
			if !reflect.DeepEqual(got, want) {
				t.Errorf("store holds\n%#v\nwant\n%#v", got, want)
			}
			if rv := r.LastSyncResourceVersion(); rv != "15" {
				t.Errorf("last synced resource version %q, want 15", rv)
			}
			if got := api.requests(); !reflect.DeepEqual(got, tc.wantRequests) {
				t.Errorf("requests %v, want %v", got, tc.wantRequests)
			}
		})
	}
}

// TestAPIErrors checks that a metav1.Status answer surfaces as an apierrors
// error with its reason, from list and from watch.
func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name      string
		mediaType string
		status    metav1.Status
		is        func(error) bool
	}{
		{name: "protobuf forbidden", mediaType: runtime.ContentTypeProtobuf, status: metav1.Status{Code: 403, Reason: metav1.StatusReasonForbidden}, is: apierrors.IsForbidden},
		{name: "json forbidden", mediaType: runtime.ContentTypeJSON, status: metav1.Status{Code: 403, Reason: metav1.StatusReasonForbidden}, is: apierrors.IsForbidden},
		{name: "protobuf gone", mediaType: runtime.ContentTypeProtobuf, status: metav1.Status{Code: 410, Reason: metav1.StatusReasonExpired}, is: apierrors.IsResourceExpired},
		{name: "protobuf unauthorized", mediaType: runtime.ContentTypeProtobuf, status: metav1.Status{Code: 401, Reason: metav1.StatusReasonUnauthorized}, is: apierrors.IsUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status := tc.status
			status.Status = metav1.StatusFailure
			status.Message = "services is forbidden: no"
			srv := httptest.NewServer(&fakeAPI{t: t, mediaType: tc.mediaType, status: &status})
			defer srv.Close()
			client, err := New(&rest.Config{Host: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			lw := cache.ToListerWatcherWithContext(client.ListWatch("services", "shop", fieldSelector))
			ctx := context.Background()
			_, err = lw.ListWithContext(ctx, metav1.ListOptions{})
			if !tc.is(err) {
				t.Errorf("list: %v (%T), want reason %s", err, err, tc.status.Reason)
			}
			w, err := lw.WatchWithContext(ctx, metav1.ListOptions{})
			if w != nil {
				w.Stop()
			}
			if !tc.is(err) {
				t.Errorf("watch: %v (%T), want reason %s", err, err, tc.status.Reason)
			}
		})
	}
}

// TestListWatchResources checks the request path of every resource.
func TestListWatchResources(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		// Lists are asked for uncompressed (see New).
		if enc := r.Header.Get("Accept-Encoding"); enc != "identity" {
			t.Errorf("%s asked for Accept-Encoding %q", r.URL.Path, enc)
		}
		w.Header().Set("Content-Type", runtime.ContentTypeProtobuf)
		var obj runtime.Object
		switch {
		case strings.HasSuffix(r.URL.Path, "/configmaps"):
			obj = &corev1.ConfigMapList{Items: []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Name: "kube-dns"}}}}
		case strings.HasSuffix(r.URL.Path, "/endpointslices"):
			obj = newGen(1).object("EndpointSliceList")
		case strings.HasSuffix(r.URL.Path, "/endpoints"):
			obj = newGen(1).object("EndpointsList")
		case strings.HasSuffix(r.URL.Path, "/namespaces"):
			obj = newGen(1).object("NamespaceList")
		case strings.HasSuffix(r.URL.Path, "/pods"):
			obj = newGen(1).object("PodList")
		default:
			obj = newGen(1).object("ServiceList")
		}
		if _, err := w.Write(encode(t, runtime.ContentTypeProtobuf, obj)); err != nil {
			t.Error(err)
		}
	}))
	defer srv.Close()
	client, err := New(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		resource, namespace string
		wantPath            string
		wantType            runtime.Object
	}{
		{resource: "services", wantPath: "/api/v1/services", wantType: &ServiceList{}},
		{resource: "endpointslices", namespace: "shop", wantPath: "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", wantType: &EndpointSliceList{}},
		{resource: "endpoints", namespace: "shop", wantPath: "/api/v1/namespaces/shop/endpoints", wantType: &EndpointsList{}},
		{resource: "namespaces", namespace: "shop", wantPath: "/api/v1/namespaces", wantType: &NamespaceList{}},
		{resource: "pods", wantPath: "/api/v1/pods", wantType: &PodList{}},
		{resource: "configmaps", namespace: "kube-system", wantPath: "/api/v1/namespaces/kube-system/configmaps", wantType: &corev1.ConfigMapList{}},
	}
	for _, tc := range tests {
		t.Run(tc.resource, func(t *testing.T) {
			mu.Lock()
			paths = nil
			mu.Unlock()
			obj, err := cache.ToListerWatcherWithContext(client.ListWatch(tc.resource, tc.namespace, "")).ListWithContext(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(obj) != reflect.TypeOf(tc.wantType) {
				t.Errorf("list returned %T, want %T", obj, tc.wantType)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(paths) != 1 || paths[0] != tc.wantPath {
				t.Errorf("requested %v, want %s", paths, tc.wantPath)
			}
		})
	}
	t.Run("unknown", func(t *testing.T) {
		if _, err := cache.ToListerWatcherWithContext(client.ListWatch("nodes", "", "")).ListWithContext(context.Background(), metav1.ListOptions{}); err == nil {
			t.Error("listing an unknown resource succeeded")
		}
	})
}
