package kubeclient

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// The decoders read the messages of k8s.io/api's core/v1 and discovery/v1
// generated.proto (and ObjectMeta and ListMeta from apimachinery's meta/v1)
// by field number, keeping the fields the slim types hold and skipping the
// rest. A repeated occurrence of a singular message merges into the first, a
// repeated scalar overwrites it, as in the generated decoders.

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
		obj, err = o, d.service(b, o)
	case kindEndpointSlice:
		o := reset[EndpointSlice](into)
		obj, err = o, d.endpointSlice(b, o)
	case kindEndpoints:
		o := reset[Endpoints](into)
		obj, err = o, d.endpoints(b, o)
	case kindNamespace:
		o := reset[Namespace](into)
		obj, err = o, d.namespace(b, o)
	case kindPod:
		o := reset[Pod](into)
		obj, err = o, d.pod(b, o)
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

// decoder holds what one decode call shares between objects: consecutive
// list items usually share their namespace (lists come sorted by it), and
// the strings are reused rather than allocated again.
type decoder struct {
	lastNamespace, lastService string
}

func (d *decoder) ns(b []byte) string {
	if string(b) != d.lastNamespace {
		d.lastNamespace = intern(b)
	}
	return d.lastNamespace
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

func listOf[T any](obj runtime.Object, lm *metav1.ListMeta, items *[]*T, item func(*decoder, []byte, *T) error) listDec {
	return listDec{
		obj:  obj,
		meta: lm,
		add: func(d *decoder, b []byte) error {
			it := new(T)
			*items = append(*items, it)
			return item(d, b, it)
		},
		grow: func(n int) {
			if *items == nil && n > 0 {
				*items = make([]*T, 0, n)
			}
		},
	}
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

func listMeta(b []byte, lm *metav1.ListMeta) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				lm.SelfLink = string(m)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				lm.ResourceVersion = string(m)
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				lm.Continue = string(m)
			}
		case 4:
			if v, ok := p.varintField(); ok {
				n := int64(v)
				lm.RemainingItemCount = &n
			}
		}
	}
	return p.err
}

// objectMeta decodes an ObjectMeta into m. Each of the others, when not
// nil, receives: serviceName the discoveryv1.LabelServiceName label,
// trigger the last-change-trigger-time annotation (see
// EndpointSlice.ChangeTrigger).
func (d *decoder) objectMeta(b []byte, m *Meta, serviceName *string, trigger *int64) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if s, ok := p.bytesField(); ok {
				m.Name = string(s)
			}
		case 3:
			if s, ok := p.bytesField(); ok {
				m.Namespace = d.ns(s)
			}
		case 6:
			if s, ok := p.bytesField(); ok {
				m.ResourceVersion = string(s)
			}
		case 8: // creationTimestamp, a Time: seconds (1), nanos (2)
			if t, ok := p.bytesField(); ok {
				var sec int64
				p.err = timeSeconds(t, &sec)
				m.Created = created(metav1.Unix(sec, 0))
			}
		case 11: // labels, skipped unless serviceName is wanted
			if serviceName == nil {
				break
			}
			if k, v, ok := p.entryField(); ok && string(k) == discoveryv1.LabelServiceName {
				*serviceName = d.serviceLabel(v, m.Name)
			}
		case 12: // annotations
			k, v, ok := p.entryField()
			switch {
			case !ok:
			case string(k) == metav1.InitialEventsAnnotationKey:
				m.initialEventsEnd = string(v) == "true"
			case trigger != nil && string(k) == corev1.EndpointsLastChangeTriggerTime:
				*trigger = changeTrigger(v)
			}
		}
	}
	return p.err
}

// timeSeconds reads the seconds of a metav1.Time message; a repeated
// field overwrites, as in the generated decoders.
func timeSeconds(b []byte, sec *int64) error {
	*sec = 0
	p := fields{buf: buf{b: b}}
	for p.next() {
		if p.num == 1 {
			if v, ok := p.varintField(); ok {
				*sec = int64(v)
			}
		}
	}
	return p.err
}

// serviceLabel returns the service name label value, sharing memory with the
// previous one or with the slice's own name ("<service>-<suffix>") if it can.
func (d *decoder) serviceLabel(v []byte, name string) string {
	switch {
	case string(v) == d.lastService:
	case len(name) >= len(v) && name[:len(v)] == string(v):
		d.lastService = name[:len(v)]
	default:
		d.lastService = string(v)
	}
	return d.lastService
}

func (d *decoder) service(b []byte, s *Service) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				p.err = d.objectMeta(m, &s.Meta, nil, nil)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				p.err = serviceSpec(m, s)
			}
		}
	}
	return p.err
}

func serviceSpec(b []byte, s *Service) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1: // ports
			if m, ok := p.bytesField(); ok {
				if s.Ports == nil {
					s.Ports = make([]ServicePort, 0, count(b, 1))
				}
				s.Ports = append(s.Ports, ServicePort{})
				p.err = servicePort(m, &s.Ports[len(s.Ports)-1])
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				s.ClusterIP = intern(m)
			}
		case 4:
			if m, ok := p.bytesField(); ok {
				s.Type = intern(m)
			}
		case 10:
			if m, ok := p.bytesField(); ok {
				s.ExternalName = string(m)
			}
		case 13:
			if v, ok := p.varintField(); ok {
				s.PublishNotReadyAddresses = v != 0
			}
		case 18: // clusterIPs
			if m, ok := p.bytesField(); ok {
				ip := s.ClusterIP
				if string(m) != ip {
					ip = intern(m)
				}
				s.ClusterIPs = append(s.ClusterIPs, ip)
			}
		}
	}
	return p.err
}

func servicePort(b []byte, sp *ServicePort) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				sp.Name = intern(m)
			}
		case 2:
			if m, ok := p.bytesField(); ok {
				sp.Protocol = intern(m)
			}
		case 3:
			if v, ok := p.varintField(); ok {
				sp.Port = int32(v)
			}
		}
	}
	return p.err
}

func (d *decoder) namespace(b []byte, n *Namespace) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		if p.num == 1 {
			if m, ok := p.bytesField(); ok {
				p.err = d.objectMeta(m, &n.Meta, nil, nil)
			}
		}
	}
	return p.err
}

func (d *decoder) pod(b []byte, pod *Pod) error {
	var podIP []byte
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				p.err = d.objectMeta(m, &pod.Meta, nil, nil)
			}
		case 3:
			if m, ok := p.bytesField(); ok {
				p.err = podStatus(m, pod, &podIP)
			}
		}
	}
	if p.err != nil {
		return p.err
	}
	if len(pod.PodIPs) == 0 && len(podIP) > 0 {
		pod.PodIPs = []string{string(podIP)}
	}
	return nil
}

func podStatus(b []byte, pod *Pod, podIP *[]byte) error {
	p := fields{buf: buf{b: b}}
	for p.next() {
		switch p.num {
		case 1:
			if m, ok := p.bytesField(); ok {
				pod.Phase = intern(m)
			}
		case 6:
			*podIP, _ = p.bytesField()
		case 12: // podIPs
			if m, ok := p.bytesField(); ok {
				var ip []byte
				if ip, p.err = podIPField(m); p.err == nil {
					pod.PodIPs = append(pod.PodIPs, string(ip))
				}
			}
		}
	}
	return p.err
}

func podIPField(b []byte) ([]byte, error) {
	var ip []byte
	p := fields{buf: buf{b: b}}
	for p.next() {
		if p.num == 1 {
			ip, _ = p.bytesField()
		}
	}
	if p.err != nil {
		return nil, p.err
	}
	return ip, nil
}
