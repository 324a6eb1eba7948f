package watch

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// The transforms below run at the informer edge, before an object reaches the
// store: each returns a new, stripped copy of the real API type (so listers and
// indexers keep working) holding only what DNS reads. Everything else —
// managedFields, annotations, most labels, status, owner references, target
// references — is dropped to keep the cache small in large clusters.
//
// They never modify their input, and applying one twice gives the same result,
// as client-go asks of a TransformFunc. Anything that is not the expected type,
// notably a cache.DeletedFinalStateUnknown tombstone, passes through untouched.

// slimMeta keeps the identity of an object: name and namespace form the store
// key, and resourceVersion lets the event handlers drop no-op updates.
func slimMeta(m *metav1.ObjectMeta) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:            m.Name,
		Namespace:       m.Namespace,
		ResourceVersion: m.ResourceVersion,
	}
}

func transformService(obj any) (any, error) {
	s, ok := obj.(*corev1.Service)
	if !ok {
		return obj, nil // tombstones and anything unexpected pass through
	}
	out := &corev1.Service{
		ObjectMeta: slimMeta(&s.ObjectMeta),
		Spec: corev1.ServiceSpec{
			// Type tells ExternalName apart from the kinds with cluster IPs.
			Type: s.Spec.Type,
			// ClusterIP(s) answer A/AAAA and PTR; "None" marks a headless Service.
			ClusterIP:  s.Spec.ClusterIP,
			ClusterIPs: s.Spec.ClusterIPs,
			// ExternalName is the CNAME target of an ExternalName Service.
			ExternalName: s.Spec.ExternalName,
			// PublishNotReadyAddresses makes every endpoint of a headless Service count.
			PublishNotReadyAddresses: s.Spec.PublishNotReadyAddresses,
		},
	}
	if len(s.Spec.Ports) > 0 {
		// Ports give the SRV records of a ClusterIP Service.
		out.Spec.Ports = make([]corev1.ServicePort, len(s.Spec.Ports))
		for i, p := range s.Spec.Ports {
			out.Spec.Ports[i] = corev1.ServicePort{Name: p.Name, Protocol: p.Protocol, Port: p.Port}
		}
	}
	return out, nil
}

func transformEndpointSlice(obj any) (any, error) {
	s, ok := obj.(*discoveryv1.EndpointSlice)
	if !ok {
		return obj, nil
	}
	out := &discoveryv1.EndpointSlice{
		ObjectMeta: slimMeta(&s.ObjectMeta),
		// AddressType lets FQDN slices be skipped.
		AddressType: s.AddressType,
	}
	// The service-name label ties the slice to its Service (and feeds the index).
	if name, ok := s.Labels[discoveryv1.LabelServiceName]; ok {
		out.Labels = map[string]string{discoveryv1.LabelServiceName: name}
	}
	if len(s.Endpoints) > 0 {
		// Addresses, hostname and readiness are what a headless Service answers.
		out.Endpoints = make([]discoveryv1.Endpoint, len(s.Endpoints))
		for i, e := range s.Endpoints {
			out.Endpoints[i] = discoveryv1.Endpoint{
				Addresses:  e.Addresses,
				Hostname:   e.Hostname,
				Conditions: discoveryv1.EndpointConditions{Ready: e.Conditions.Ready},
			}
		}
	}
	if len(s.Ports) > 0 {
		// Ports give the SRV records of the endpoints.
		out.Ports = make([]discoveryv1.EndpointPort, len(s.Ports))
		for i, p := range s.Ports {
			out.Ports[i] = discoveryv1.EndpointPort{Name: p.Name, Protocol: p.Protocol, Port: p.Port}
		}
	}
	return out, nil
}

func transformEndpoints(obj any) (any, error) {
	e, ok := obj.(*corev1.Endpoints)
	if !ok {
		return obj, nil
	}
	out := &corev1.Endpoints{ObjectMeta: slimMeta(&e.ObjectMeta)}
	if len(e.Subsets) > 0 {
		// Each subset is one endpoint set: ready and not-ready addresses
		// (IP and hostname name the endpoint) sharing one list of ports.
		out.Subsets = make([]corev1.EndpointSubset, len(e.Subsets))
		for i, ss := range e.Subsets {
			out.Subsets[i] = corev1.EndpointSubset{
				Addresses:         slimAddresses(ss.Addresses),
				NotReadyAddresses: slimAddresses(ss.NotReadyAddresses),
			}
			if len(ss.Ports) > 0 {
				ports := make([]corev1.EndpointPort, len(ss.Ports))
				for j, p := range ss.Ports {
					ports[j] = corev1.EndpointPort{Name: p.Name, Protocol: p.Protocol, Port: p.Port}
				}
				out.Subsets[i].Ports = ports
			}
		}
	}
	return out, nil
}

func slimAddresses(in []corev1.EndpointAddress) []corev1.EndpointAddress {
	if len(in) == 0 {
		return nil
	}
	out := make([]corev1.EndpointAddress, len(in))
	for i, a := range in {
		out[i] = corev1.EndpointAddress{IP: a.IP, Hostname: a.Hostname}
	}
	return out
}

func transformNamespace(obj any) (any, error) {
	n, ok := obj.(*corev1.Namespace)
	if !ok {
		return obj, nil
	}
	// Only the name matters: it makes <ns>.svc and <ns>.pod exist.
	return &corev1.Namespace{ObjectMeta: slimMeta(&n.ObjectMeta)}, nil
}

func transformPod(obj any) (any, error) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	out := &corev1.Pod{ObjectMeta: slimMeta(&p.ObjectMeta)}
	// The pod IPs are what verified pod names answer. A finished pod keeps
	// reporting its addresses, which may already belong to another pod: it
	// answers nothing.
	switch {
	case p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed:
	case len(p.Status.PodIPs) > 0:
		out.Status.PodIPs = make([]corev1.PodIP, len(p.Status.PodIPs))
		for i, ip := range p.Status.PodIPs {
			out.Status.PodIPs[i] = corev1.PodIP{IP: ip.IP}
		}
	case p.Status.PodIP != "":
		// Old API servers set only podIP.
		out.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	return out, nil
}

var (
	_ cache.TransformFunc = transformService
	_ cache.TransformFunc = transformEndpointSlice
	_ cache.TransformFunc = transformEndpoints
	_ cache.TransformFunc = transformNamespace
	_ cache.TransformFunc = transformPod
)
