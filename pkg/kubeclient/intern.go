package kubeclient

// intern returns a constant for the short values that repeat across objects
// (types, protocols, phases, common port names), and a new string otherwise.
func intern(b []byte) string {
	if c, ok := constant(b); ok {
		return c
	}
	return string(b)
}

// constant returns the constant equal to v, if v is one of the values
// intern knows.
func constant[T string | []byte](v T) (string, bool) {
	switch string(v) {
	case "":
		return "", true
	case "v1":
		return "v1", true
	case "discovery.k8s.io/v1":
		return "discovery.k8s.io/v1", true
	case "Service":
		return "Service", true
	case "ServiceList":
		return "ServiceList", true
	case "EndpointSlice":
		return "EndpointSlice", true
	case "EndpointSliceList":
		return "EndpointSliceList", true
	case "Endpoints":
		return "Endpoints", true
	case "EndpointsList":
		return "EndpointsList", true
	case "Namespace":
		return "Namespace", true
	case "NamespaceList":
		return "NamespaceList", true
	case "Pod":
		return "Pod", true
	case "PodList":
		return "PodList", true
	case "ClusterIP":
		return "ClusterIP", true
	case "NodePort":
		return "NodePort", true
	case "LoadBalancer":
		return "LoadBalancer", true
	case "ExternalName":
		return "ExternalName", true
	case "None":
		return "None", true
	case "TCP":
		return "TCP", true
	case "UDP":
		return "UDP", true
	case "SCTP":
		return "SCTP", true
	case "IPv4":
		return "IPv4", true
	case "IPv6":
		return "IPv6", true
	case "FQDN":
		return "FQDN", true
	case "Pending":
		return "Pending", true
	case "Running":
		return "Running", true
	case "Succeeded":
		return "Succeeded", true
	case "Failed":
		return "Failed", true
	case "Unknown":
		return "Unknown", true
	case "default":
		return "default", true
	case "kube-system":
		return "kube-system", true
	case "dns":
		return "dns", true
	case "dns-tcp":
		return "dns-tcp", true
	case "http":
		return "http", true
	case "https":
		return "https", true
	case "grpc":
		return "grpc", true
	case "metrics":
		return "metrics", true
	case "http-metrics":
		return "http-metrics", true
	case "https-metrics":
		return "https-metrics", true
	case "tcp":
		return "tcp", true
	case "udp":
		return "udp", true
	case "web":
		return "web", true
	case "ClusterSetIP":
		return "ClusterSetIP", true
	case "Headless":
		return "Headless", true
	}
	return "", false
}
