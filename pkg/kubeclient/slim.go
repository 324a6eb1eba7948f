package kubeclient

import (
	"math"
	"strings"
	"time"

	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Slim converts a full core/v1 or discovery/v1 object, or a list of them, to
// its slim type. It reports false for any other object. The protobuf
// decoder unmarshals each object with k8s.io/api's generated code and
// slims it here, so Slim is the one definition of the slim types' content:
// empty slices become nil, pointers are copied, the full object is not
// referenced.
func Slim(obj runtime.Object) (runtime.Object, bool) {
	var s slimmer
	switch o := obj.(type) {
	case *corev1.Service:
		return s.service(o, new(Service)), true
	case *corev1.ServiceList:
		return &ServiceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).service)}, true
	case *discoveryv1.EndpointSlice:
		return s.endpointSlice(o, new(EndpointSlice)), true
	case *discoveryv1.EndpointSliceList:
		return &EndpointSliceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).endpointSlice)}, true
	case *corev1.Endpoints:
		return s.endpoints(o, new(Endpoints)), true
	case *corev1.EndpointsList:
		return &EndpointsList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).endpoints)}, true
	case *corev1.Namespace:
		return s.namespace(o, new(Namespace)), true
	case *corev1.NamespaceList:
		return &NamespaceList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).namespace)}, true
	case *corev1.Pod:
		return s.pod(o, new(Pod)), true
	case *corev1.PodList:
		return &PodList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).pod)}, true
	case *mcsv1alpha1.ServiceImport:
		return s.serviceImport(o, new(ServiceImport)), true
	case *mcsv1alpha1.ServiceImportList:
		return &ServiceImportList{ListMeta: slimListMeta(o.ListMeta), Items: slimItems(&s, o.Items, (*slimmer).serviceImport)}, true
	}
	return nil, false
}

// slimmer fills slim objects from full ones. The strings an object keeps
// are copied into one allocation per object (done), so that a slim object
// holds no memory of the full one, even where the allocator packed the full
// object's short strings together; values that repeat across objects
// (types, protocols, common port names) are constants, and consecutive
// objects share their namespace and service name strings.
type slimmer struct {
	pending                    []*string
	lastNamespace, lastService string
}

// keep marks *p to be copied into the object's string block.
func (s *slimmer) keep(p *string) {
	if *p != "" {
		s.pending = append(s.pending, p)
	}
}

// value sets *p to v as a constant when v is a common value, else marks it.
func (s *slimmer) value(p *string, v string) {
	*p = v
	if c, ok := constant(v); ok {
		*p = c
		return
	}
	s.keep(p)
}

// done copies the marked strings of the object whose meta is m into one
// allocation.
func (s *slimmer) done(m *Meta) {
	n := 0
	for _, p := range s.pending {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range s.pending {
		b.WriteString(*p)
	}
	block := b.String()
	for i, p := range s.pending {
		*p, block = block[:len(*p)], block[len(*p):]
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
	s.lastNamespace = m.Namespace
}

func (s *slimmer) meta(m *metav1.ObjectMeta, out *Meta) {
	out.Name = m.Name
	s.keep(&out.Name)
	if m.Namespace == s.lastNamespace {
		out.Namespace = s.lastNamespace
	} else {
		s.value(&out.Namespace, m.Namespace)
	}
	out.ResourceVersion = m.ResourceVersion
	s.keep(&out.ResourceVersion)
	out.initialEventsEnd = m.Annotations[metav1.InitialEventsAnnotationKey] == "true"
	out.Created = created(m.CreationTimestamp)
}

// serviceName sets out.ServiceName to the service name label, sharing memory
// with the previous slice's or marked to be kept, and reports whether it is
// rather to be cut from the slice's own name ("<service>-<suffix>") once
// done.
func (s *slimmer) serviceName(m *metav1.ObjectMeta, out *EndpointSlice) (fromName bool) {
	v := m.Labels[discoveryv1.LabelServiceName]
	out.ServiceName = v
	switch {
	case v == s.lastService:
		out.ServiceName = s.lastService
	case strings.HasPrefix(m.Name, v):
		return true
	default:
		s.keep(&out.ServiceName)
	}
	return false
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
func changeTrigger(m *metav1.ObjectMeta) int64 {
	v := m.Annotations[corev1.EndpointsLastChangeTriggerTime]
	if v == "" {
		return 0
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return 0
	}
	return t.UnixNano()
}

func slimListMeta(m metav1.ListMeta) metav1.ListMeta {
	m.RemainingItemCount = clonePtr(m.RemainingItemCount)
	return m
}

func slimItems[F, S any](s *slimmer, items []F, slim func(*slimmer, *F, *S) *S) []*S {
	if len(items) == 0 {
		return nil
	}
	out := make([]*S, len(items))
	for i := range items {
		out[i] = slim(s, &items[i], new(S))
	}
	return out
}

// strs returns a copy of ss marked to be kept, or nil when ss is empty.
func (s *slimmer) strs(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := append(make([]string, 0, len(ss)), ss...)
	for i := range out {
		s.keep(&out[i])
	}
	return out
}

func (s *slimmer) service(in *corev1.Service, out *Service) *Service {
	s.meta(&in.ObjectMeta, &out.Meta)
	spec := &in.Spec
	s.value(&out.Type, string(spec.Type))
	s.value(&out.ClusterIP, spec.ClusterIP)
	if len(spec.ClusterIPs) > 0 {
		out.ClusterIPs = make([]string, len(spec.ClusterIPs))
		for i, ip := range spec.ClusterIPs {
			if i == 0 && ip == spec.ClusterIP {
				continue // shares ClusterIP's memory once done
			}
			s.value(&out.ClusterIPs[i], ip)
		}
	}
	out.ExternalName = spec.ExternalName
	s.keep(&out.ExternalName)
	out.PublishNotReadyAddresses = spec.PublishNotReadyAddresses
	out.Ports = slimPorts(s, spec.Ports, func(p *corev1.ServicePort) (string, corev1.Protocol, int32) { return p.Name, p.Protocol, p.Port })
	s.done(&out.Meta)
	if len(out.ClusterIPs) > 0 && spec.ClusterIPs[0] == spec.ClusterIP {
		out.ClusterIPs[0] = out.ClusterIP
	}
	return out
}

func (s *slimmer) endpointSlice(in *discoveryv1.EndpointSlice, out *EndpointSlice) *EndpointSlice {
	s.meta(&in.ObjectMeta, &out.Meta)
	out.ChangeTrigger = changeTrigger(&in.ObjectMeta)
	fromName := s.serviceName(&in.ObjectMeta, out)
	s.value(&out.AddressType, string(in.AddressType))
	if len(in.Endpoints) > 0 {
		out.Endpoints = make([]Endpoint, len(in.Endpoints))
		for i := range in.Endpoints {
			ep, e := &in.Endpoints[i], &out.Endpoints[i]
			e.Addresses = s.strs(ep.Addresses)
			if ep.Hostname != nil {
				e.Hostname = new(string)
				*e.Hostname = *ep.Hostname
				s.keep(e.Hostname)
			}
			e.Ready = clonePtr(ep.Conditions.Ready)
		}
	}
	if len(in.Ports) > 0 {
		out.Ports = make([]EndpointPort, len(in.Ports))
		for i := range in.Ports {
			p, ep := &in.Ports[i], &out.Ports[i]
			if p.Name != nil {
				ep.Name = new(string)
				s.value(ep.Name, *p.Name)
			}
			if p.Protocol != nil {
				ep.Protocol = new(string)
				s.value(ep.Protocol, string(*p.Protocol))
			}
			ep.Port = clonePtr(p.Port)
		}
	}
	if v, ok := in.Labels[mcsv1alpha1.LabelServiceName]; ok {
		out.Import = &ImportSource{ServiceName: v, Cluster: in.Labels[mcsv1alpha1.LabelSourceCluster]}
		s.keep(&out.Import.ServiceName)
		s.keep(&out.Import.Cluster)
	}
	s.done(&out.Meta)
	if fromName {
		out.ServiceName = out.Name[:len(out.ServiceName)]
	}
	s.lastService = out.ServiceName
	return out
}

func (s *slimmer) endpoints(in *corev1.Endpoints, out *Endpoints) *Endpoints {
	s.meta(&in.ObjectMeta, &out.Meta)
	out.ChangeTrigger = changeTrigger(&in.ObjectMeta)
	if len(in.Subsets) > 0 {
		out.Subsets = make([]EndpointSubset, len(in.Subsets))
		for i := range in.Subsets {
			ss, sub := &in.Subsets[i], &out.Subsets[i]
			sub.Addresses = s.addresses(ss.Addresses)
			sub.NotReadyAddresses = s.addresses(ss.NotReadyAddresses)
			sub.Ports = slimPorts(s, ss.Ports, func(p *corev1.EndpointPort) (string, corev1.Protocol, int32) { return p.Name, p.Protocol, p.Port })
		}
	}
	s.done(&out.Meta)
	return out
}

// slimPorts converts the ports of a Service, an Endpoints subset or a
// ServiceImport, which get reads; nil when there are none.
func slimPorts[P any](s *slimmer, in []P, get func(*P) (string, corev1.Protocol, int32)) []ServicePort {
	if len(in) == 0 {
		return nil
	}
	out := make([]ServicePort, len(in))
	for i := range in {
		name, proto, port := get(&in[i])
		s.value(&out[i].Name, name)
		s.value(&out[i].Protocol, string(proto))
		out[i].Port = port
	}
	return out
}

func (s *slimmer) addresses(as []corev1.EndpointAddress) []EndpointAddress {
	if len(as) == 0 {
		return nil
	}
	out := make([]EndpointAddress, len(as))
	for i := range as {
		out[i] = EndpointAddress{IP: as[i].IP, Hostname: as[i].Hostname}
		s.keep(&out[i].IP)
		s.keep(&out[i].Hostname)
	}
	return out
}

func (s *slimmer) namespace(in *corev1.Namespace, out *Namespace) *Namespace {
	s.meta(&in.ObjectMeta, &out.Meta)
	s.done(&out.Meta)
	return out
}

func (s *slimmer) pod(in *corev1.Pod, out *Pod) *Pod {
	s.meta(&in.ObjectMeta, &out.Meta)
	s.value(&out.Phase, string(in.Status.Phase))
	switch {
	case len(in.Status.PodIPs) > 0:
		out.PodIPs = make([]string, len(in.Status.PodIPs))
		for i := range in.Status.PodIPs {
			out.PodIPs[i] = in.Status.PodIPs[i].IP
			s.keep(&out.PodIPs[i])
		}
	case in.Status.PodIP != "":
		out.PodIPs = []string{in.Status.PodIP}
		s.keep(&out.PodIPs[0])
	}
	s.done(&out.Meta)
	return out
}

func (s *slimmer) serviceImport(in *mcsv1alpha1.ServiceImport, out *ServiceImport) *ServiceImport {
	s.meta(&in.ObjectMeta, &out.Meta)
	s.value(&out.Type, string(in.Spec.Type))
	out.IPs = s.strs(in.Spec.IPs)
	out.Ports = slimPorts(s, in.Spec.Ports, func(p *mcsv1alpha1.ServicePort) (string, corev1.Protocol, int32) { return p.Name, p.Protocol, p.Port })
	s.done(&out.Meta)
	return out
}
