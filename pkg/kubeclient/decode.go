package kubeclient

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Decoding a slim object: the runtime.Unknown envelope and a list's fields
// are read here (envelope.go, wire.go, stream.go), each object is
// unmarshalled by k8s.io/api's generated code and slimmed (slim.go). So a
// list costs one full object at a time, never the whole full list.

// decodeSlim decodes the message of kind k into into when into is of that
// kind, else into a new object.
func decodeSlim(k kind, b []byte, into runtime.Object) (runtime.Object, error) {
	var (
		d   decoder
		obj runtime.Object
		err error
	)
	if kindOf(into) != k {
		into = nil
	}
	switch k {
	case kindService:
		o := reset[Service](into)
		_, err = d.service(b, o)
		obj = o
	case kindEndpointSlice:
		o := reset[EndpointSlice](into)
		_, err = d.endpointSlice(b, o)
		obj = o
	case kindEndpoints:
		o := reset[Endpoints](into)
		_, err = d.endpoints(b, o)
		obj = o
	case kindNamespace:
		o := reset[Namespace](into)
		_, err = d.namespace(b, o)
		obj = o
	case kindPod:
		o := reset[Pod](into)
		_, err = d.pod(b, o)
		obj = o
	default:
		t, ok := newList(k, into)
		if !ok {
			return nil, fmt.Errorf("kubeclient: no slim decoder for kind %d", k)
		}
		obj, err = t.obj, decodeList(&d, b, t)
	}
	if err != nil {
		return nil, fmt.Errorf("kubeclient: decoding %s: %w", kindGVK[k].Kind, err)
	}
	return obj, nil
}

// reset returns into emptied, or a new T when into is nil.
func reset[T any, P interface {
	*T
	runtime.Object
}](into runtime.Object) *T {
	if into == nil {
		return new(T)
	}
	o := (*T)(into.(P))
	if o == nil {
		return new(T)
	}
	var zero T
	*o = zero
	return o
}

// decoder holds what one decode call shares between objects: the slimmer,
// whose namespace and service name strings consecutive list items share
// (lists come sorted by namespace).
type decoder struct {
	s slimmer
	// known, when set, gives the object a store already holds at the
	// version being decoded: a list item at that version is that object,
	// and no new one is made (see Known).
	known Known
	// The full objects items are unmarshalled into, reused (see reuse).
	svc   corev1.Service
	slice discoveryv1.EndpointSlice
}

// metadata is the metadata field of an object, unmarshalled through keep.
func metadata(m *metav1.ObjectMeta, keep selection) subMessage {
	return subMessage{num: metadataField, m: m, keep: keep}
}

// addEndpoint appends an endpoint to the EndpointSlice being unmarshalled.
func (d *decoder) addEndpoint() unmarshaler {
	d.slice.Endpoints = append(d.slice.Endpoints, discoveryv1.Endpoint{})
	return &d.slice.Endpoints[len(d.slice.Endpoints)-1]
}

// reuse empties a full object's metadata for the next item but keeps its
// maps, so that the generated Unmarshal fills them again rather than
// allocating new ones.
func reuse(m *metav1.ObjectMeta) {
	labels, annotations := m.Labels, m.Annotations
	clear(labels)
	clear(annotations)
	*m = metav1.ObjectMeta{Labels: labels, Annotations: annotations}
}

// The item decoders unmarshal one object with k8s.io/api's generated code
// and slim it; only one full object is alive at a time. They unmarshal only
// the fields the slim types are made from (the selections in fields.go):
// the rest, managedFields and status above all, are skipped unread.

func (d *decoder) service(b []byte, out *Service) (*Service, error) {
	full := &d.svc
	reuse(&full.ObjectMeta)
	ports := full.Spec.Ports[:0]
	full.Spec = corev1.ServiceSpec{Ports: ports}
	if err := serviceFields.unmarshal(b, full, metadata(&full.ObjectMeta, metaFields), subMessage{num: specField, m: &full.Spec, keep: specFields}); err != nil {
		return nil, err
	}
	if old, ok := knownAs[Service](d, &full.ObjectMeta); ok {
		return old, nil
	}
	return d.s.service(full, out), nil
}

func (d *decoder) endpointSlice(b []byte, out *EndpointSlice) (*EndpointSlice, error) {
	full := &d.slice
	reuse(&full.ObjectMeta)
	endpoints, ports := full.Endpoints[:0], full.Ports[:0]
	*full = discoveryv1.EndpointSlice{ObjectMeta: full.ObjectMeta, Endpoints: endpoints, Ports: ports}
	if err := sliceFields.unmarshal(b, full, metadata(&full.ObjectMeta, sliceMetaFields),
		subMessage{num: endpointField, add: d.addEndpoint, keep: endpointFields}); err != nil {
		return nil, err
	}
	if old, ok := knownAs[EndpointSlice](d, &full.ObjectMeta); ok {
		return old, nil
	}
	return d.s.endpointSlice(full, out), nil
}

func (d *decoder) endpoints(b []byte, out *Endpoints) (*Endpoints, error) {
	var full corev1.Endpoints //nolint:staticcheck // a decoded kind
	if err := endpointsFields.unmarshal(b, &full, metadata(&full.ObjectMeta, metaFields)); err != nil {
		return nil, err
	}
	if old, ok := knownAs[Endpoints](d, &full.ObjectMeta); ok {
		return old, nil
	}
	return d.s.endpoints(&full, out), nil
}

func (d *decoder) namespace(b []byte, out *Namespace) (*Namespace, error) {
	var full corev1.Namespace
	if err := namespaceFields.unmarshal(b, &full, metadata(&full.ObjectMeta, metaFields)); err != nil {
		return nil, err
	}
	if old, ok := knownAs[Namespace](d, &full.ObjectMeta); ok {
		return old, nil
	}
	return d.s.namespace(&full, out), nil
}

func (d *decoder) pod(b []byte, out *Pod) (*Pod, error) {
	var full corev1.Pod
	if err := podFields.unmarshal(b, &full, metadata(&full.ObjectMeta, metaFields), subMessage{num: podStatusField, m: &full.Status, keep: podStatusFields}); err != nil {
		return nil, err
	}
	if old, ok := knownAs[Pod](d, &full.ObjectMeta); ok {
		return old, nil
	}
	return d.s.pod(&full, out), nil
}

// decodeList decodes a list message: its ListMeta (field 1) and its items
// (field 2), each allocated on its own so that the reflector's
// meta.ExtractListWithAlloc can keep it without copying.
// listDec is a list being decoded, buffered or streamed: its ListMeta, and add,
// which decodes one item and appends it to the list's items.
type listDec struct {
	obj  runtime.Object
	meta *metav1.ListMeta
	add  func(d *decoder, b []byte) error
	grow func(n int) // makes room for n items in a list still empty; decodeList calls it once
}

// newList returns into emptied (or a new list) of the list kind k, and
// false when k is not a list kind.
func newList(k kind, into runtime.Object) (listDec, bool) {
	switch k {
	case kindServiceList:
		o := reset[ServiceList](into)
		return listOf(o, &o.ListMeta, &o.Items, (*decoder).service), true
	case kindEndpointSliceList:
		o := reset[EndpointSliceList](into)
		return listOf(o, &o.ListMeta, &o.Items, (*decoder).endpointSlice), true
	case kindEndpointsList:
		o := reset[EndpointsList](into)
		return listOf(o, &o.ListMeta, &o.Items, (*decoder).endpoints), true
	case kindNamespaceList:
		o := reset[NamespaceList](into)
		return listOf(o, &o.ListMeta, &o.Items, (*decoder).namespace), true
	case kindPodList:
		o := reset[PodList](into)
		return listOf(o, &o.ListMeta, &o.Items, (*decoder).pod), true
	}
	return listDec{}, false
}

func listOf[T any](obj runtime.Object, lm *metav1.ListMeta, items *[]*T, item func(*decoder, []byte, *T) (*T, error)) listDec {
	var spare *T // not used by the last item: that was a known object
	return listDec{
		obj:  obj,
		meta: lm,
		add: func(d *decoder, b []byte) error {
			it := spare
			if it == nil {
				it = new(T)
			}
			got, err := item(d, b, it)
			if err != nil {
				return err
			}
			spare = nil
			if got != it {
				spare = it
			}
			*items = append(*items, got)
			return nil
		},
		grow: func(n int) {
			if *items == nil && n > 0 {
				*items = make([]*T, 0, n)
			}
		},
	}
}

// knownAs returns the object d.known gives for m's namespace, name and
// resourceVersion, when it is a *T.
func knownAs[T any](d *decoder, m *metav1.ObjectMeta) (*T, bool) {
	if d.known == nil {
		return nil, false
	}
	var obj any = d.known(m.Namespace, m.Name, m.ResourceVersion)
	o, ok := obj.(*T)
	return o, ok && o != nil
}

// decodeList decodes the ListMeta and the items of a list message.
func decodeList(d *decoder, b []byte, l listDec) error {
	p := fields{buf: buf{b: b}}
	sized := false
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				p.err = listMeta(m, l.meta)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				if !sized {
					l.grow(count(b, 2))
					sized = true
				}
				p.err = l.add(d, m)
			}
		}
	}
	return p.err
}

// listMeta decodes a list's ListMeta; a repeated one merges, as in the
// generated decoders.
func listMeta(b []byte, lm *metav1.ListMeta) error { return lm.Unmarshal(b) }
