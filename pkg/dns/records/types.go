package records

import "net/netip"

// Kind says how a Service is published in DNS.
type Kind uint8

const (
	// ClusterIP is any Service with cluster IPs (ClusterIP, NodePort, LoadBalancer).
	ClusterIP Kind = iota
	// Headless is a Service with clusterIP None: its names answer endpoint addresses.
	Headless
	// ExternalName is an alias to another name (or, as the original allowed, an IP).
	ExternalName
)

func (k Kind) String() string {
	switch k {
	case ClusterIP:
		return "ClusterIP"
	case Headless:
		return "Headless"
	case ExternalName:
		return "ExternalName"
	}
	return "unknown"
}

// Port is a Service or endpoint port as DNS sees it.
type Port struct {
	Name     string // may be empty: unnamed ports get no _port._proto name
	Protocol string // lower case: "tcp", "udp" or "sctp"
	Port     int32
}

// Service holds the fields of a core/v1 Service that DNS needs, and nothing else.
type Service struct {
	Namespace string
	Name      string
	Kind      Kind
	// ClusterIPs are the Service's addresses (spec.clusterIPs), for ClusterIP kind.
	ClusterIPs []netip.Addr
	Ports      []Port
	// ExternalName is spec.externalName, for ExternalName kind.
	ExternalName string
	// PublishNotReady is spec.publishNotReadyAddresses: every endpoint counts as ready.
	PublishNotReady bool
}

// Endpoint is one backend of a headless Service.
type Endpoint struct {
	Addresses []netip.Addr
	Hostname  string // endpoint hostname; empty means the dashed address names it
	Ready     bool   // EndpointSlice conditions.ready unset or true, or Endpoints "addresses"
}

// EndpointSet is one EndpointSlice, or one subset of a core/v1 Endpoints object:
// a group of endpoints sharing one list of ports.
type EndpointSet struct {
	Ports     []Port
	Endpoints []Endpoint
	// Cluster is the source cluster of a ServiceImport's set (the slice's
	// label multicluster.kubernetes.io/source-cluster); "" for the
	// cluster's own.
	Cluster string
}

// Pod is a pod address, used only in verified pod-record mode.
type Pod struct {
	Namespace string
	IP        netip.Addr
}

// PodMode selects how <dashed-ip>.<ns>.pod.<domain> names are answered.
type PodMode uint8

const (
	// PodsInsecure answers any address in an existing namespace.
	PodsInsecure PodMode = iota
	// PodsVerified answers only addresses of pods that exist in that namespace.
	PodsVerified
	// PodsDisabled answers no pod names.
	PodsDisabled
)

func (m PodMode) String() string {
	switch m {
	case PodsInsecure:
		return "insecure"
	case PodsVerified:
		return "verified"
	case PodsDisabled:
		return "disabled"
	}
	return "unknown"
}

// ServiceImport holds the fields of a multicluster.x-k8s.io ServiceImport
// (KEP-1645) that DNS needs.
type ServiceImport struct {
	Namespace string
	Name      string
	// Headless is spec.type Headless; otherwise it is a ClusterSetIP import.
	Headless bool
	// IPs are the ClusterSetIPs (spec.ips) of a ClusterSetIP import.
	IPs   []netip.Addr
	Ports []Port
}
