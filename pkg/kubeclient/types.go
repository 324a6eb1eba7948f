package kubeclient

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Meta is what a store keys by and a reflector resumes from.
//
// *Meta implements metav1.Object. Name, Namespace and ResourceVersion are
// real; the annotations only remember whether the watch-list bookmark
// annotation metav1.InitialEventsAnnotationKey was "true"; every other getter
// returns the zero value and every other setter does nothing.
type Meta struct {
	Name, Namespace, ResourceVersion string

	initialEventsEnd bool
	// Created is metadata.creationTimestamp in Unix seconds, 0 when unset
	// (it fits in the padding after the bool: objects stay the same size).
	Created uint32
}

// Service is a core/v1 Service cut down to what DNS answers from.
type Service struct {
	Meta
	// Type is spec.type ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName" or "").
	Type string
	// ClusterIP is spec.clusterIP; "None" for a headless service.
	ClusterIP string
	// ClusterIPs is spec.clusterIPs, one per IP family.
	ClusterIPs []string
	// Ports is spec.ports, for SRV records.
	Ports []ServicePort
	// ExternalName is spec.externalName, the CNAME target of an ExternalName service.
	ExternalName string
	// PublishNotReadyAddresses is spec.publishNotReadyAddresses.
	PublishNotReadyAddresses bool
}

// ServicePort is a named port of a Service, or a core/v1 EndpointPort.
type ServicePort struct {
	Name     string
	Protocol string
	Port     int32
}

// EndpointSlice is a discovery/v1 EndpointSlice cut down to what DNS answers from.
type EndpointSlice struct {
	Meta
	// ChangeTrigger is the endpoints controller's annotation
	// endpoints.kubernetes.io/last-change-trigger-time in Unix nanoseconds:
	// when the change this version carries began. 0 when absent or not a
	// time.
	ChangeTrigger int64
	// ServiceName is the label discoveryv1.LabelServiceName, "" when absent.
	ServiceName string
	// AddressType is "IPv4", "IPv6" or "FQDN".
	AddressType string
	Endpoints   []Endpoint
	Ports       []EndpointPort
	// Import is set on the slices an MCS controller writes for a
	// ServiceImport (labelled multicluster.kubernetes.io/service-name), nil
	// on all others.
	Import *ImportSource
}

// ImportSource is what ties an EndpointSlice to a ServiceImport: its
// labels multicluster.kubernetes.io/service-name and
// multicluster.kubernetes.io/source-cluster ("" when absent).
type ImportSource struct {
	ServiceName, Cluster string
}

// Endpoint is one endpoint of an EndpointSlice.
type Endpoint struct {
	Addresses []string
	Hostname  *string
	// Ready is conditions.ready; nil means unknown.
	Ready *bool
}

// EndpointPort is a port of an EndpointSlice.
type EndpointPort struct {
	Name     *string
	Protocol *string
	Port     *int32
}

// Endpoints is a core/v1 Endpoints cut down to what DNS answers from.
type Endpoints struct {
	Meta
	// ChangeTrigger is as EndpointSlice's.
	ChangeTrigger int64
	Subsets       []EndpointSubset
}

// EndpointSubset is a group of addresses sharing ports.
type EndpointSubset struct {
	Addresses         []EndpointAddress
	NotReadyAddresses []EndpointAddress
	Ports             []ServicePort
}

// EndpointAddress is one address of an EndpointSubset.
type EndpointAddress struct {
	IP       string
	Hostname string
}

// Namespace is a core/v1 Namespace; only its identity matters.
type Namespace struct {
	Meta
}

// Pod is a core/v1 Pod cut down to what pod records need.
type Pod struct {
	Meta
	// Phase is status.phase.
	Phase string
	// PodIPs is status.podIPs[].ip, or status.podIP alone when podIPs is empty.
	PodIPs []string
}

// The items of the lists are pointers: a cache.Reflector takes them as they
// are (meta.ExtractListWithAlloc copies only items held by value), so each
// decoded object is allocated once.

// ServiceList is a list of Services.
type ServiceList struct {
	metav1.ListMeta
	Items []*Service
}

// EndpointSliceList is a list of EndpointSlices.
type EndpointSliceList struct {
	metav1.ListMeta
	Items []*EndpointSlice
}

// EndpointsList is a list of Endpoints.
type EndpointsList struct {
	metav1.ListMeta
	Items []*Endpoints
}

// NamespaceList is a list of Namespaces.
type NamespaceList struct {
	metav1.ListMeta
	Items []*Namespace
}

// PodList is a list of Pods.
type PodList struct {
	metav1.ListMeta
	Items []*Pod
}

var (
	_ metav1.Object = (*Meta)(nil)

	_ runtime.Object = (*Service)(nil)
	_ runtime.Object = (*EndpointSlice)(nil)
	_ runtime.Object = (*Endpoints)(nil)
	_ runtime.Object = (*Namespace)(nil)
	_ runtime.Object = (*Pod)(nil)
	_ runtime.Object = (*ServiceList)(nil)
	_ runtime.Object = (*EndpointSliceList)(nil)
	_ runtime.Object = (*EndpointsList)(nil)
	_ runtime.Object = (*NamespaceList)(nil)
	_ runtime.Object = (*PodList)(nil)
)

// GetObjectKind returns schema.EmptyObjectKind: slim objects carry no type meta.
func (m *Meta) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// GetObjectKind returns schema.EmptyObjectKind.
func (l *ServiceList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// GetObjectKind returns schema.EmptyObjectKind.
func (l *EndpointSliceList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// GetObjectKind returns schema.EmptyObjectKind.
func (l *EndpointsList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// GetObjectKind returns schema.EmptyObjectKind.
func (l *NamespaceList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// GetObjectKind returns schema.EmptyObjectKind.
func (l *PodList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// Name, Namespace and ResourceVersion are real.

func (m *Meta) GetName() string                   { return m.Name }
func (m *Meta) SetName(name string)               { m.Name = name }
func (m *Meta) GetNamespace() string              { return m.Namespace }
func (m *Meta) SetNamespace(namespace string)     { m.Namespace = namespace }
func (m *Meta) GetResourceVersion() string        { return m.ResourceVersion }
func (m *Meta) SetResourceVersion(version string) { m.ResourceVersion = version }

// GetAnnotations reports the watch-list bookmark annotation, the only one kept.
func (m *Meta) GetAnnotations() map[string]string {
	if !m.initialEventsEnd {
		return nil
	}
	return map[string]string{metav1.InitialEventsAnnotationKey: "true"}
}

// SetAnnotations keeps whether the watch-list bookmark annotation is "true".
func (m *Meta) SetAnnotations(annotations map[string]string) {
	m.initialEventsEnd = annotations[metav1.InitialEventsAnnotationKey] == "true"
}

// The rest of metav1.Object is not kept: getters return zero values and
// setters do nothing.

func (m *Meta) GetGenerateName() string                       { return "" }
func (m *Meta) SetGenerateName(string)                        {}
func (m *Meta) GetUID() types.UID                             { return "" }
func (m *Meta) SetUID(types.UID)                              {}
func (m *Meta) GetGeneration() int64                          { return 0 }
func (m *Meta) SetGeneration(int64)                           {}
func (m *Meta) GetSelfLink() string                           { return "" }
func (m *Meta) SetSelfLink(string)                            {}
func (m *Meta) GetCreationTimestamp() metav1.Time             { return metav1.Time{} }
func (m *Meta) SetCreationTimestamp(metav1.Time)              {}
func (m *Meta) GetDeletionTimestamp() *metav1.Time            { return nil }
func (m *Meta) SetDeletionTimestamp(*metav1.Time)             {}
func (m *Meta) GetDeletionGracePeriodSeconds() *int64         { return nil }
func (m *Meta) SetDeletionGracePeriodSeconds(*int64)          {}
func (m *Meta) GetLabels() map[string]string                  { return nil }
func (m *Meta) SetLabels(map[string]string)                   {}
func (m *Meta) GetFinalizers() []string                       { return nil }
func (m *Meta) SetFinalizers([]string)                        {}
func (m *Meta) GetOwnerReferences() []metav1.OwnerReference   { return nil }
func (m *Meta) SetOwnerReferences([]metav1.OwnerReference)    {}
func (m *Meta) GetManagedFields() []metav1.ManagedFieldsEntry { return nil }
func (m *Meta) SetManagedFields([]metav1.ManagedFieldsEntry)  {}

// DeepCopyObject implements runtime.Object.
func (s *Service) DeepCopyObject() runtime.Object { return s.DeepCopy() }

// DeepCopy returns a copy sharing no memory with s.
func (s *Service) DeepCopy() *Service {
	if s == nil {
		return nil
	}
	out := *s
	out.ClusterIPs = clone(s.ClusterIPs)
	out.Ports = clone(s.Ports)
	return &out
}

// DeepCopyObject implements runtime.Object.
func (e *EndpointSlice) DeepCopyObject() runtime.Object { return e.DeepCopy() }

// DeepCopy returns a copy sharing no memory with e.
func (e *EndpointSlice) DeepCopy() *EndpointSlice {
	if e == nil {
		return nil
	}
	out := *e
	out.Import = clonePtr(e.Import)
	if e.Endpoints != nil {
		out.Endpoints = make([]Endpoint, len(e.Endpoints))
		for i, ep := range e.Endpoints {
			out.Endpoints[i] = Endpoint{Addresses: clone(ep.Addresses), Hostname: clonePtr(ep.Hostname), Ready: clonePtr(ep.Ready)}
		}
	}
	if e.Ports != nil {
		out.Ports = make([]EndpointPort, len(e.Ports))
		for i, p := range e.Ports {
			out.Ports[i] = EndpointPort{Name: clonePtr(p.Name), Protocol: clonePtr(p.Protocol), Port: clonePtr(p.Port)}
		}
	}
	return &out
}

// DeepCopyObject implements runtime.Object.
func (e *Endpoints) DeepCopyObject() runtime.Object { return e.DeepCopy() }

// DeepCopy returns a copy sharing no memory with e.
func (e *Endpoints) DeepCopy() *Endpoints {
	if e == nil {
		return nil
	}
	out := *e
	if e.Subsets != nil {
		out.Subsets = make([]EndpointSubset, len(e.Subsets))
		for i, s := range e.Subsets {
			out.Subsets[i] = EndpointSubset{Addresses: clone(s.Addresses), NotReadyAddresses: clone(s.NotReadyAddresses), Ports: clone(s.Ports)}
		}
	}
	return &out
}

// DeepCopyObject implements runtime.Object.
func (n *Namespace) DeepCopyObject() runtime.Object { return n.DeepCopy() }

// DeepCopy returns a copy of n.
func (n *Namespace) DeepCopy() *Namespace {
	if n == nil {
		return nil
	}
	out := *n
	return &out
}

// DeepCopyObject implements runtime.Object.
func (p *Pod) DeepCopyObject() runtime.Object { return p.DeepCopy() }

// DeepCopy returns a copy sharing no memory with p.
func (p *Pod) DeepCopy() *Pod {
	if p == nil {
		return nil
	}
	out := *p
	out.PodIPs = clone(p.PodIPs)
	return &out
}

// DeepCopyObject implements runtime.Object.
func (l *ServiceList) DeepCopyObject() runtime.Object {
	return &ServiceList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*Service).DeepCopy)}
}

// DeepCopyObject implements runtime.Object.
func (l *EndpointSliceList) DeepCopyObject() runtime.Object {
	return &EndpointSliceList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*EndpointSlice).DeepCopy)}
}

// DeepCopyObject implements runtime.Object.
func (l *EndpointsList) DeepCopyObject() runtime.Object {
	return &EndpointsList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*Endpoints).DeepCopy)}
}

// DeepCopyObject implements runtime.Object.
func (l *NamespaceList) DeepCopyObject() runtime.Object {
	return &NamespaceList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*Namespace).DeepCopy)}
}

// DeepCopyObject implements runtime.Object.
func (l *PodList) DeepCopyObject() runtime.Object {
	return &PodList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*Pod).DeepCopy)}
}

// clone copies a slice of values holding no pointers; nil stays nil.
func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneItems[T any](items []*T, deepCopy func(*T) *T) []*T {
	if items == nil {
		return nil
	}
	out := make([]*T, len(items))
	for i, item := range items {
		out[i] = deepCopy(item)
	}
	return out
}
