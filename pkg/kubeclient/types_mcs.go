package kubeclient

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ServiceImport is a multicluster.x-k8s.io/v1alpha1 ServiceImport (KEP-1645)
// cut down to what DNS answers from. It is read as JSON: custom resources
// have no protobuf encoding.
type ServiceImport struct {
	Meta
	// Type is spec.type: "ClusterSetIP" or "Headless".
	Type string
	// IPs is spec.ips, the ClusterSetIPs.
	IPs   []string
	Ports []ServicePort
}

// ServiceImportList is a list of ServiceImports.
type ServiceImportList struct {
	metav1.ListMeta
	Items []*ServiceImport
}

var (
	_ runtime.Object = (*ServiceImport)(nil)
	_ runtime.Object = (*ServiceImportList)(nil)
)

// DeepCopyObject implements runtime.Object.
func (s *ServiceImport) DeepCopyObject() runtime.Object { return s.DeepCopy() }

// DeepCopy returns a copy sharing no memory with s.
func (s *ServiceImport) DeepCopy() *ServiceImport {
	if s == nil {
		return nil
	}
	out := *s
	out.IPs = clone(s.IPs)
	out.Ports = clone(s.Ports)
	return &out
}

// GetObjectKind returns schema.EmptyObjectKind: slim objects carry no type meta.
func (l *ServiceImportList) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object.
func (l *ServiceImportList) DeepCopyObject() runtime.Object {
	return &ServiceImportList{ListMeta: *l.ListMeta.DeepCopy(), Items: cloneItems(l.Items, (*ServiceImport).DeepCopy)}
}
