package kubeclient

import (
	"bytes"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// protobufMagic starts every object the API server encodes as protobuf; a
// runtime.Unknown message follows it.
var protobufMagic = []byte("k8s\x00")

// kind is a kind the slim decoder handles.
type kind uint8

const (
	kindNone kind = iota
	kindService
	kindServiceList
	kindEndpointSlice
	kindEndpointSliceList
	kindEndpoints
	kindEndpointsList
	kindNamespace
	kindNamespaceList
	kindPod
	kindPodList
)

// slimKind maps a group, version and kind to the kind decoded here.
func slimKind(gvk schema.GroupVersionKind) kind {
	switch {
	case gvk.Group == "" && gvk.Version == "v1":
		switch gvk.Kind {
		case "Service":
			return kindService
		case "ServiceList":
			return kindServiceList
		case "Endpoints":
			return kindEndpoints
		case "EndpointsList":
			return kindEndpointsList
		case "Namespace":
			return kindNamespace
		case "NamespaceList":
			return kindNamespaceList
		case "Pod":
			return kindPod
		case "PodList":
			return kindPodList
		}
	case gvk.Group == discoveryv1.GroupName && gvk.Version == "v1":
		switch gvk.Kind {
		case "EndpointSlice":
			return kindEndpointSlice
		case "EndpointSliceList":
			return kindEndpointSliceList
		}
	}
	return kindNone
}

// kindOf returns the kind of a slim object, kindNone for anything else.
func kindOf(obj runtime.Object) kind {
	switch obj.(type) {
	case *Service:
		return kindService
	case *ServiceList:
		return kindServiceList
	case *EndpointSlice:
		return kindEndpointSlice
	case *EndpointSliceList:
		return kindEndpointSliceList
	case *Endpoints:
		return kindEndpoints
	case *EndpointsList:
		return kindEndpointsList
	case *Namespace:
		return kindNamespace
	case *NamespaceList:
		return kindNamespaceList
	case *Pod:
		return kindPod
	case *PodList:
		return kindPodList
	}
	return kindNone
}

var kindGVK = [...]schema.GroupVersionKind{
	kindService:           {Version: "v1", Kind: "Service"},
	kindServiceList:       {Version: "v1", Kind: "ServiceList"},
	kindEndpointSlice:     {Group: discoveryv1.GroupName, Version: "v1", Kind: "EndpointSlice"},
	kindEndpointSliceList: {Group: discoveryv1.GroupName, Version: "v1", Kind: "EndpointSliceList"},
	kindEndpoints:         {Version: "v1", Kind: "Endpoints"},
	kindEndpointsList:     {Version: "v1", Kind: "EndpointsList"},
	kindNamespace:         {Version: "v1", Kind: "Namespace"},
	kindNamespaceList:     {Version: "v1", Kind: "NamespaceList"},
	kindPod:               {Version: "v1", Kind: "Pod"},
	kindPodList:           {Version: "v1", Kind: "PodList"},
}

// envelope is the runtime.Unknown wrapped around every protobuf object.
type envelope struct {
	apiVersion, kind []byte
	raw              []byte
}

// parseEnvelope reads a runtime.Unknown (after the magic). contentEncoding and
// contentType are read and ignored, as the API machinery does.
func parseEnvelope(b []byte) (envelope, error) {
	var env envelope
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1: // typeMeta
			if m, ok := p.bytesField(); ok {
				p.err = parseTypeMeta(m, &env)
			}
		case 2: // raw
			env.raw, _ = p.bytesField()
		case 3, 4: // contentEncoding, contentType
			p.bytesField()
		}
	}
	return env, p.err
}

func parseTypeMeta(b []byte, env *envelope) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			env.apiVersion, _ = p.bytesField()
		case 2:
			env.kind, _ = p.bytesField()
		}
	}
	return p.err
}

// gvk is the group, version and kind an envelope names, defaulted from
// defaults and then from the kind of into, as the protobuf serializer does.
func (env *envelope) gvk(defaults *schema.GroupVersionKind, into kind) schema.GroupVersionKind {
	gvk := schema.FromAPIVersionAndKind(intern(env.apiVersion), intern(env.kind))
	copyKindDefaults(&gvk, defaults)
	if into != kindNone {
		copyKindDefaults(&gvk, &kindGVK[into])
		if gvk.Version == "" && gvk.Group == "" {
			gvk.Group = kindGVK[into].Group
		}
	}
	return gvk
}

func copyKindDefaults(dst, src *schema.GroupVersionKind) {
	if src == nil {
		return
	}
	if dst.Kind == "" {
		dst.Kind = src.Kind
	}
	if dst.Version == "" && src.Version != "" {
		dst.Group = src.Group
		dst.Version = src.Version
	}
}

// hasMagic reports whether data starts with the protobuf magic.
func hasMagic(data []byte) bool { return bytes.HasPrefix(data, protobufMagic) }
