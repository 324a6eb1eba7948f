package kubeclient

import (
	"fmt"
	"io"
	"reflect"
	"sync"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// NegotiatedSerializer returns the serializers of a rest.RESTClient that
// reads slim objects. For protobuf, the kinds with a slim type are decoded
// object by object and slimmed as they are read; for JSON they are decoded in full and passed
// through Slim. Everything else (metav1.Status, metav1.WatchEvent,
// corev1.ConfigMap, ...) and all encoding goes to the standard serializers
// over a scheme holding only meta/v1, core/v1, discovery/v1 and the
// Multi-Cluster Services API's multicluster.x-k8s.io/v1alpha1 (JSON only).
func NegotiatedSerializer() runtime.NegotiatedSerializer { return negotiated() }

var negotiated = sync.OnceValue(func() runtime.NegotiatedSerializer {
	scheme := runtime.NewScheme()
	metav1.AddToGroupVersion(scheme, schema.GroupVersion{Version: "v1"})
	utilruntime.Must(corev1.AddToScheme(scheme))
	utilruntime.Must(discoveryv1.AddToScheme(scheme))
	utilruntime.Must(mcsv1alpha1.AddToScheme(scheme))
	codecs := serializer.NewCodecFactory(scheme)

	var infos []runtime.SerializerInfo
	for _, info := range codecs.SupportedMediaTypes() {
		switch info.MediaType {
		case runtime.ContentTypeProtobuf:
			info.Serializer = protobufSerializer{std: info.Serializer}
		case runtime.ContentTypeJSON:
			info.Serializer = jsonSerializer{std: info.Serializer}
		default:
			continue
		}
		info.StrictSerializer = nil
		infos = append(infos, info)
	}
	return negotiatedSerializer{NegotiatedSerializer: codecs.WithoutConversion(), infos: infos}
})

type negotiatedSerializer struct {
	runtime.NegotiatedSerializer
	infos []runtime.SerializerInfo
}

func (n negotiatedSerializer) SupportedMediaTypes() []runtime.SerializerInfo { return n.infos }

// protobufSerializer decodes the slim kinds itself and delegates the rest.
type protobufSerializer struct{ std runtime.Serializer }

func (s protobufSerializer) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	intoKind := kindOf(into)
	if (into != nil && intoKind == kindNone) || !hasMagic(data) {
		return s.std.Decode(data, defaults, stdInto(into))
	}
	env, err := parseEnvelope(data[len(protobufMagic):])
	if err != nil {
		// The standard decoder rejects it too, with its own message.
		return s.std.Decode(data, defaults, stdInto(into))
	}
	gvk := env.gvk(defaults, intoKind)
	k := slimKind(gvk)
	if k == kindNone {
		return s.std.Decode(data, defaults, stdInto(into))
	}
	obj, err := decodeSlim(k, env.raw, into)
	if err != nil {
		return nil, &gvk, err
	}
	return obj, &gvk, nil
}

func (s protobufSerializer) Encode(obj runtime.Object, w io.Writer) error {
	return s.std.Encode(obj, w)
}

func (s protobufSerializer) Identifier() runtime.Identifier { return "kubeclient-slim-protobuf" }

// jsonSerializer decodes with the standard JSON serializer, then slims.
type jsonSerializer struct{ std runtime.Serializer }

func (s jsonSerializer) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	if into != nil && kindOf(into) == kindNone {
		return s.std.Decode(data, defaults, into)
	}
	obj, gvk, err := s.std.Decode(data, defaults, nil)
	if err != nil {
		return obj, gvk, err
	}
	if slim, ok := Slim(obj); ok {
		obj = slim
		if dst := reflect.ValueOf(into); into != nil && dst.Type() == reflect.TypeOf(obj) && !dst.IsNil() {
			dst.Elem().Set(reflect.ValueOf(obj).Elem())
			obj = into
		}
	}
	return obj, gvk, nil
}

func (s jsonSerializer) Encode(obj runtime.Object, w io.Writer) error { return s.std.Encode(obj, w) }

func (s jsonSerializer) Identifier() runtime.Identifier { return "kubeclient-slim-json" }

// stdInto drops a slim into, which the standard serializers cannot fill.
func stdInto(into runtime.Object) runtime.Object {
	if kindOf(into) != kindNone {
		return nil
	}
	return into
}

// decodeBody decodes a response body read by the client itself: protobuf
// when it starts with the protobuf magic, JSON otherwise.
func decodeBody(data []byte) (runtime.Object, error) {
	want := runtime.ContentTypeJSON
	if hasMagic(data) {
		want = runtime.ContentTypeProtobuf
	}
	for _, info := range negotiated().SupportedMediaTypes() {
		if info.MediaType == want {
			obj, _, err := info.Serializer.Decode(data, nil, nil)
			return obj, err
		}
	}
	return nil, fmt.Errorf("kubeclient: no decoder for %s", want)
}
