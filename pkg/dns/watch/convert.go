package watch

import (
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// The functions in this file are pure: they turn slim API objects into the
// records types and never look anything up.

// parseAddr parses one address, rejecting empty, malformed and zoned values.
func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// protocol lower-cases a protocol; empty means TCP, as the API defaults it.
func protocol(p string) string {
	switch p {
	case "", string(corev1.ProtocolTCP):
		return "tcp"
	case string(corev1.ProtocolUDP):
		return "udp"
	}
	return strings.ToLower(p)
}

// convertService returns what DNS needs of a Service.
// serviceKind is how a Service is published: ExternalName by its type,
// Headless when its cluster IP is None, else ClusterIP.
func serviceKind(s *kubeclient.Service) records.Kind {
	switch {
	case s.Type == string(corev1.ServiceTypeExternalName):
		return records.ExternalName
	case s.ClusterIP == corev1.ClusterIPNone ||
		(s.ClusterIP == "" && len(s.ClusterIPs) > 0 && s.ClusterIPs[0] == corev1.ClusterIPNone):
		return records.Headless
	}
	return records.ClusterIP
}

func convertService(s *kubeclient.Service) *records.Service {
	out := &records.Service{
		Namespace:       s.Namespace,
		Name:            s.Name,
		PublishNotReady: s.PublishNotReadyAddresses,
		Kind:            serviceKind(s),
	}
	switch out.Kind {
	case records.ExternalName:
		out.ExternalName = s.ExternalName
	case records.ClusterIP:
		ips := s.ClusterIPs
		if len(ips) == 0 && s.ClusterIP != "" {
			ips = []string{s.ClusterIP}
		}
		for _, v := range ips {
			if a, ok := parseAddr(v); ok {
				out.ClusterIPs = append(out.ClusterIPs, a)
			}
		}
	}
	if len(s.Ports) > 0 {
		out.Ports = make([]records.Port, 0, len(s.Ports))
		for _, p := range s.Ports {
			out.Ports = append(out.Ports, records.Port{Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port})
		}
	}
	return out
}

// convertImport converts a ServiceImport; addresses that do not parse are
// dropped.
func convertImport(s *kubeclient.ServiceImport) *records.ServiceImport {
	out := &records.ServiceImport{Namespace: s.Namespace, Name: s.Name, Headless: headlessImport(s)}
	for _, v := range s.IPs {
		if a, ok := parseAddr(v); ok {
			out.IPs = append(out.IPs, a)
		}
	}
	for _, p := range s.Ports {
		out.Ports = append(out.Ports, records.Port{Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port})
	}
	return out
}

// headlessImport reports whether a ServiceImport is of type Headless.
func headlessImport(s *kubeclient.ServiceImport) bool { return s.Type == string(mcsv1alpha1.Headless) }

// convertSlices returns one endpoint set per EndpointSlice, in the given order.
// FQDN slices are skipped. A ServiceImport's slice carries its source
// cluster.
func convertSlices(in []*kubeclient.EndpointSlice) []records.EndpointSet {
	var out []records.EndpointSet
	for _, s := range in {
		if s.AddressType != string(discoveryv1.AddressTypeIPv4) && s.AddressType != string(discoveryv1.AddressTypeIPv6) {
			continue
		}
		set := records.EndpointSet{}
		if s.Import != nil {
			set.Cluster = s.Import.Cluster
		}
		for _, p := range s.Ports {
			if p.Port == nil {
				continue // a port without a number has no SRV record
			}
			port := records.Port{Port: *p.Port, Protocol: "tcp"}
			if p.Name != nil {
				port.Name = *p.Name
			}
			if p.Protocol != nil {
				port.Protocol = protocol(*p.Protocol)
			}
			set.Ports = append(set.Ports, port)
		}
		for _, e := range s.Endpoints {
			ep := records.Endpoint{Ready: e.Ready == nil || *e.Ready}
			if e.Hostname != nil {
				ep.Hostname = *e.Hostname
			}
			for _, v := range e.Addresses {
				if a, ok := parseAddr(v); ok {
					ep.Addresses = append(ep.Addresses, a)
				}
			}
			if len(ep.Addresses) > 0 {
				set.Endpoints = append(set.Endpoints, ep)
			}
		}
		out = append(out, set)
	}
	return out
}

// convertEndpoints returns one endpoint set per subset of a core/v1 Endpoints:
// "addresses" are ready, "notReadyAddresses" are not.
func convertEndpoints(e *kubeclient.Endpoints) []records.EndpointSet {
	if e == nil {
		return nil
	}
	var out []records.EndpointSet
	for _, ss := range e.Subsets {
		set := records.EndpointSet{}
		for _, p := range ss.Ports {
			set.Ports = append(set.Ports, records.Port{Name: p.Name, Protocol: protocol(p.Protocol), Port: p.Port})
		}
		set.Endpoints = appendAddresses(set.Endpoints, ss.Addresses, true)
		set.Endpoints = appendAddresses(set.Endpoints, ss.NotReadyAddresses, false)
		out = append(out, set)
	}
	return out
}

func appendAddresses(out []records.Endpoint, in []kubeclient.EndpointAddress, ready bool) []records.Endpoint {
	for _, a := range in {
		if ip, ok := parseAddr(a.IP); ok {
			out = append(out, records.Endpoint{Addresses: []netip.Addr{ip}, Hostname: a.Hostname, Ready: ready})
		}
	}
	return out
}

// podIPs returns the addresses a pod answers: none once it has finished,
// as they may already belong to another pod.
func podIPs(p *kubeclient.Pod) []string {
	if p.Phase == string(corev1.PodSucceeded) || p.Phase == string(corev1.PodFailed) {
		return nil
	}
	return p.PodIPs
}

// convertPods returns every pod address, sorted by namespace then address and
// without duplicates, so that two pod sets can be compared with slices.Equal.
func convertPods(in []any) []records.Pod {
	var out []records.Pod
	for _, obj := range in {
		p, ok := obj.(*kubeclient.Pod)
		if !ok {
			continue
		}
		for _, ip := range podIPs(p) {
			if a, ok := parseAddr(ip); ok {
				out = append(out, records.Pod{Namespace: p.Namespace, IP: a})
			}
		}
	}
	slices.SortFunc(out, comparePods)
	return slices.Compact(out)
}

func comparePods(a, b records.Pod) int {
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return a.IP.Compare(b.IP)
}
