package kubeclient

import (
	"math"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Slim converts a full core/v1 or discovery/v1 object, or a list of them, to
// its slim type. It reports false for any other object. Slim defines what the
// protobuf decoder must produce: empty slices become nil, pointers are copied.
func Slim(obj runtime.Object) (runtime.Object, bool) {
	switch o := obj.(type) {
	case *corev1.Service:
		return slimService(o), true
	case *corev1.ServiceList:
		return &ServiceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(o.Items, slimService)}, true
	case *discoveryv1.EndpointSlice:
		return slimEndpointSlice(o), true
	case *discoveryv1.EndpointSliceList:
		return &EndpointSliceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(o.Items, slimEndpointSlice)}, true
	case *corev1.Endpoints:
		return slimEndpoints(o), true
	case *corev1.EndpointsList:
		return &EndpointsList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(o.Items, slimEndpoints)}, true
	case *corev1.Namespace:
		return slimNamespace(o), true
	case *corev1.NamespaceList:
		return &NamespaceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(o.Items, slimNamespace)}, true
	case *corev1.Pod:
		return slimPod(o), true
	case *corev1.PodList:
		return &PodList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(o.Items, slimPod)}, true
	}
	return nil, false
}

func slimMeta(m *metav1.ObjectMeta) Meta {
	return Meta{
		Name:             m.Name,
		Namespace:        m.Namespace,
		ResourceVersion:  m.ResourceVersion,
		initialEventsEnd: m.Annotations[metav1.InitialEventsAnnotationKey] == "true",
		Created:          created(m.CreationTimestamp),
	}
}

// created is a creation timestamp in Unix seconds, 0 when unset or outside
// 1970-2106.
func created(t metav1.Time) uint32 {
	if u := t.Unix(); !t.IsZero() && u > 0 && u <= math.MaxUint32 {
		return uint32(u)
	}
	return 0
}

// changeTrigger is the last-change-trigger-time annotation of m in Unix
// nanoseconds, 0 when absent or not an RFC 3339 time.
func changeTrigger[T string | []byte](v T) int64 {
	if len(v) == 0 {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

func slimListMeta(m metav1.ListMeta) metav1.ListMeta {
	m.RemainingItemCount = clonePtr(m.RemainingItemCount)
	return m
}

func slimItems[F, S any](items []F, slim func(*F) *S) []*S {
	if len(items) == 0 {
		return nil
	}
	out := make([]*S, len(items))
	for i := range items {
		out[i] = slim(&items[i])
	}
	return out
}

// nonEmpty returns a copy of s, or nil when s is empty.
func nonEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func slimService(s *corev1.Service) *Service {
	out := &Service{
		Meta:                     slimMeta(&s.ObjectMeta),
		Type:                     string(s.Spec.Type),
		ClusterIP:                s.Spec.ClusterIP,
		ClusterIPs:               nonEmpty(s.Spec.ClusterIPs),
		ExternalName:             s.Spec.ExternalName,
		PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
	}
	if len(s.Spec.Ports) > 0 {
		out.Ports = make([]ServicePort, len(s.Spec.Ports))
		for i, p := range s.Spec.Ports {
			out.Ports[i] = ServicePort{Name: p.Name, Protocol: string(p.Protocol), Port: p.Port}
		}
	}
	return out
}

func slimEndpointSlice(e *discoveryv1.EndpointSlice) *EndpointSlice {
	out := &EndpointSlice{
		Meta:          slimMeta(&e.ObjectMeta),
		ChangeTrigger: changeTrigger(e.Annotations[corev1.EndpointsLastChangeTriggerTime]),
		ServiceName:   e.Labels[discoveryv1.LabelServiceName],
		AddressType:   string(e.AddressType),
	}
	if len(e.Endpoints) > 0 {
		out.Endpoints = make([]Endpoint, len(e.Endpoints))
		for i, ep := range e.Endpoints {
			out.Endpoints[i] = Endpoint{
				Addresses: nonEmpty(ep.Addresses),
				Hostname:  clonePtr(ep.Hostname),
				Ready:     clonePtr(ep.Conditions.Ready),
			}
		}
	}
	if len(e.Ports) > 0 {
		out.Ports = make([]EndpointPort, len(e.Ports))
		for i, p := range e.Ports {
			out.Ports[i] = EndpointPort{
				Name:     clonePtr(p.Name),
				Protocol: clonePtr((*string)(p.Protocol)),
				Port:     clonePtr(p.Port),
			}
		}
	}
	return out
}

func slimEndpoints(e *corev1.Endpoints) *Endpoints {
	out := &Endpoints{Meta: slimMeta(&e.ObjectMeta), ChangeTrigger: changeTrigger(e.Annotations[corev1.EndpointsLastChangeTriggerTime])}
	if len(e.Subsets) > 0 {
		out.Subsets = make([]EndpointSubset, len(e.Subsets))
		for i, s := range e.Subsets {
			sub := EndpointSubset{
				Addresses:         slimAddresses(s.Addresses),
				NotReadyAddresses: slimAddresses(s.NotReadyAddresses),
			}
			if len(s.Ports) > 0 {
				sub.Ports = make([]ServicePort, len(s.Ports))
				for j, p := range s.Ports {
					sub.Ports[j] = ServicePort{Name: p.Name, Protocol: string(p.Protocol), Port: p.Port}
				}
			}
			out.Subsets[i] = sub
		}
	}
	return out
}

func slimAddresses(as []corev1.EndpointAddress) []EndpointAddress {
	if len(as) == 0 {
		return nil
	}
	out := make([]EndpointAddress, len(as))
	for i, a := range as {
		out[i] = EndpointAddress{IP: a.IP, Hostname: a.Hostname}
	}
	return out
}

func slimNamespace(n *corev1.Namespace) *Namespace {
	return &Namespace{Meta: slimMeta(&n.ObjectMeta)}
}

func slimPod(p *corev1.Pod) *Pod {
	out := &Pod{Meta: slimMeta(&p.ObjectMeta), Phase: string(p.Status.Phase)}
	switch {
	case len(p.Status.PodIPs) > 0:
		out.PodIPs = make([]string, len(p.Status.PodIPs))
		for i, ip := range p.Status.PodIPs {
			out.PodIPs[i] = ip.IP
		}
	case p.Status.PodIP != "":
		out.PodIPs = []string{p.Status.PodIP}
	}
	return out
}
