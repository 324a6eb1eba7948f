// Package fakeapi serves a client-go fake clientset over HTTP the way
// kube-apiserver does (lists, and watches as protobuf streams), so that
// tests read through kube-dns's own client, kubeclient.Client: the path
// that ships. Requests go through the clientset's reactors, so a test's
// reactors (errors, recording watches) apply: an API error is sent as the
// API server's Status, any other error (a refused connection, a TLS
// failure) comes out of the client's transport, as it would.
package fakeapi

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"

	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// New serves cs until the test ends and returns a kubeclient.Client for it.
// ServiceImports are not served: a cluster without the CRD.
func New(t testing.TB, cs *fake.Clientset) *kubeclient.Client {
	t.Helper()
	s := &server{t: t, cs: cs, faults: map[string]error{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	c, err := kubeclient.New(&rest.Config{Host: srv.URL, WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
		return &faultTransport{next: rt, s: s}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type server struct {
	t  testing.TB
	cs *fake.Clientset

	mu     sync.Mutex
	faults map[string]error // transport errors to give, by faultHeader
	next   int
}

// faultHeader names, in a reply, the transport error the client gets
// instead of it.
const faultHeader = "X-Fakeapi-Fault"

// faultTransport turns a reply naming a fault into that error.
type faultTransport struct {
	next http.RoundTripper
	s    *server
}

func (f *faultTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := f.next.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	id := resp.Header.Get(faultHeader)
	if id == "" {
		return resp, nil
	}
	resp.Body.Close()
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	err = f.s.faults[id]
	delete(f.s.faults, id)
	return nil, err
}

// kinds are the resources served, by plural name.
var kinds = map[string]schema.GroupVersionKind{
	"services":       corev1.SchemeGroupVersion.WithKind("Service"),
	"endpoints":      corev1.SchemeGroupVersion.WithKind("Endpoints"),
	"namespaces":     corev1.SchemeGroupVersion.WithKind("Namespace"),
	"pods":           corev1.SchemeGroupVersion.WithKind("Pod"),
	"configmaps":     corev1.SchemeGroupVersion.WithKind("ConfigMap"),
	"endpointslices": discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice"),
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	gvr, ns, ok := parsePath(r.URL.Path)
	gvk, served := kinds[gvr.Resource]
	if !ok || !served || gvk.GroupVersion() != gvr.GroupVersion() {
		s.fail(w, apierrors.NewNotFound(gvr.GroupResource(), ""))
		return
	}
	var opts metav1.ListOptions
	if err := scheme.ParameterCodec.DecodeParameters(r.URL.Query(), corev1.SchemeGroupVersion, &opts); err != nil {
		s.fail(w, apierrors.NewBadRequest(err.Error()))
		return
	}
	if !opts.Watch {
		obj, err := s.cs.Invokes(k8stesting.NewListActionWithOptions(gvr, gvk, ns, opts), nil)
		if err == nil && obj == nil {
			err = apierrors.NewInternalError(errors.New("fakeapi: no reactor answered"))
		}
		if err != nil {
			s.fail(w, err)
			return
		}
		s.write(w, http.StatusOK, obj)
		return
	}
	if opts.SendInitialEvents != nil && *opts.SendInitialEvents {
		// As the fake clientset: streaming the initial list is not
		// supported, and the reflector falls back to a list.
		s.fail(w, apierrors.NewBadRequest("fakeapi: sendInitialEvents is not supported"))
		return
	}
	wi, err := s.cs.InvokesWatch(k8stesting.NewWatchActionWithOptions(gvr, ns, opts))
	if err != nil {
		s.fail(w, err)
		return
	}
	defer wi.Stop()
	s.stream(r.Context(), w, wi.ResultChan())
}

// stream writes watch events as kube-apiserver does, until the watch ends
// or the client goes.
func (s *server) stream(ctx context.Context, w http.ResponseWriter, events <-chan watch.Event) {
	info := protobuf()
	w.Header().Set("Content-Type", runtime.ContentTypeProtobuf+";stream=watch")
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	enc := streaming.NewEncoder(info.StreamSerializer.Framer.NewFrameWriter(w), info.StreamSerializer.Serializer)
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				return
			}
			raw, err := runtime.Encode(encoder(e.Object), e.Object)
			if err != nil {
				s.t.Errorf("fakeapi: encoding a watch event: %v", err)
				return
			}
			if err := enc.Encode(&metav1.WatchEvent{Type: string(e.Type), Object: runtime.RawExtension{Raw: raw}}); err != nil {
				return // the client went
			}
			w.(http.Flusher).Flush()
		}
	}
}

// fail writes err as the Status kube-apiserver would send, or, when it is
// not an API error, has the client's transport return it.
func (s *server) fail(w http.ResponseWriter, err error) {
	var st apierrors.APIStatus
	if !errors.As(err, &st) {
		s.mu.Lock()
		s.next++
		id := strconv.Itoa(s.next)
		s.faults[id] = err
		s.mu.Unlock()
		w.Header().Set(faultHeader, id)
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	status := st.Status()
	s.write(w, int(status.Code), &status)
}

func (s *server) write(w http.ResponseWriter, code int, obj runtime.Object) {
	body, err := runtime.Encode(encoder(obj), obj)
	if err != nil {
		s.t.Errorf("fakeapi: encoding %T: %v", obj, err)
		code, body = http.StatusInternalServerError, nil
	}
	w.Header().Set("Content-Type", runtime.ContentTypeProtobuf)
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func protobuf() runtime.SerializerInfo {
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	return info
}

// encoder encodes obj with its apiVersion and kind, as the API server does.
func encoder(obj runtime.Object) runtime.Encoder {
	gv := metav1.SchemeGroupVersion // Status
	if gvks, _, err := scheme.Scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		gv = gvks[0].GroupVersion()
	}
	return scheme.Codecs.EncoderForVersion(protobuf().Serializer, gv)
}

// parsePath reads /api/v1[/namespaces/NS]/RESOURCE and
// /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE.
func parsePath(path string) (gvr schema.GroupVersionResource, ns string, ok bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		gvr.Version, parts = parts[1], parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		gvr.Group, gvr.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return gvr, "", false
	}
	if len(parts) == 3 && parts[0] == "namespaces" {
		ns, parts = parts[1], parts[2:]
	}
	if len(parts) != 1 {
		return gvr, "", false
	}
	gvr.Resource = parts[0]
	return gvr, ns, true
}
