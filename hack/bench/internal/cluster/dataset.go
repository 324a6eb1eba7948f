package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The data set: Service i is svc-<i> in namespace bench-<(i/10)%10>; i%10
// picks its kind, so each namespace holds the same mix.
const (
	namespaces  = 10
	managedBy   = "kubedns-bench" // endpointslice.kubernetes.io/managed-by of our slices
	loadWorkers = 32
	Domain      = "cluster.local."
)

// svcKind is how a Service of the data set is published.
type svcKind int

const (
	clusterIP svcKind = iota
	headless
	externalName
)

func kindOf(i int) svcKind {
	switch i % 10 {
	case 8:
		return headless
	case 9:
		return externalName
	default:
		return clusterIP
	}
}

// ServiceName, NamespaceOf and Fqdn name Service i and a Service's FQDN.
func ServiceName(i int) string    { return fmt.Sprintf("svc-%05d", i) }
func NamespaceOf(i int) string    { return fmt.Sprintf("bench-%d", (i/10)%namespaces) }
func Fqdn(name, ns string) string { return name + "." + ns + ".svc." + Domain }

// EndpointIP is the address of endpoint j (0..2) of headless Service i.
func EndpointIP(i, j int) string {
	return fmt.Sprintf("10.%d.%d.%d", 200+j, (i>>8)&255, i&255)
}

// ServicePorts are the ports of every Service the benchmark creates.
func ServicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP},
	}
}

// createService creates Service i through the API: a headless or
// ExternalName one, svc-00000 (the template of the others, written to etcd
// by etcdload.go, with the first static address), or a ClusterIP one whose
// static address is taken or beyond the range, for which the API server
// allocates one.
func (c *Cluster) createService(ctx context.Context, i int) error {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName(i), Namespace: NamespaceOf(i)},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ServicePorts()}}
	switch kindOf(i) {
	case clusterIP:
		if i == 0 {
			s.Spec.ClusterIP, _ = staticClusterIP(0)
		}
	case headless:
		s.Spec.ClusterIP = corev1.ClusterIPNone
	case externalName:
		// A target inside the cluster domain: no query ever leaves loopback.
		s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "svc-00000.bench-0.svc.cluster.local"}
	}
	return retry(ctx, func() error {
		_, err := c.Client.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		return err
	}, "create service %s/%s", s.Namespace, s.Name)
}

// staticFirst is the offset in the service range 10.254.0.0/16 of the
// cluster IP of Service 0; the addresses below it are left to the API
// server's own allocations (default/kubernetes is 10.254.0.1).
const staticFirst = 1024

// extraRanges is how many /16 ranges below 10.254.0.0/16 (10.253.0.0/16,
// 10.252.0.0/16, ...) the harness may add as ServiceCIDRs (extraCIDR):
// the 80,000 ClusterIP Services of 100,000 do not fit in the cluster's own.
const extraRanges = 3

// staticClusterIP is the cluster IP of ClusterIP Service i, known in
// advance so that Services can be written to etcd (etcdload.go); through the
// API a static address costs what an allocated one does. Past 10.254's /16
// it is in the ranges of extraCIDR; beyond them it reports false and the
// API server allocates.
func staticClusterIP(i int) (string, bool) {
	off := staticFirst + i
	k, low := off>>16, off&0xffff
	if k > extraRanges || low == 0xffff || k > 0 && low == 0 { // network and broadcast addresses
		return "", false
	}
	return fmt.Sprintf("10.%d.%d.%d", 254-k, low>>8, low&255), true
}

// extraCIDR is the k-th added service range (k ≥ 1), a ServiceCIDR.
func extraCIDR(k int) *networkingv1.ServiceCIDR {
	return &networkingv1.ServiceCIDR{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%d", k)},
		Spec: networkingv1.ServiceCIDRSpec{CIDRs: []string{fmt.Sprintf("10.%d.0.0/16", 254-k)}}}
}

// ensureRanges creates the ServiceCIDRs that the static addresses of
// Services 0..n-1 need.
func (c *Cluster) ensureRanges(ctx context.Context, n int) error {
	for k := 1; k <= min(extraRanges, (staticFirst+n-1)>>16); k++ {
		_, err := c.Client.NetworkingV1().ServiceCIDRs().Create(ctx, extraCIDR(k), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create servicecidr %s: %w", extraCIDR(k).Name, err)
		}
	}
	return nil
}

func (c *Cluster) createSlice(ctx context.Context, i int) error {
	ready := true
	tcp := corev1.ProtocolTCP
	name, ns := ServiceName(i), NamespaceOf(i)
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bench", Namespace: ns, Labels: map[string]string{
			discoveryv1.LabelServiceName: name,
			discoveryv1.LabelManagedBy:   managedBy,
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{
			{Name: Ptr("http"), Port: Ptr(int32(80)), Protocol: &tcp},
			{Name: Ptr("https"), Port: Ptr(int32(443)), Protocol: &tcp},
		},
	}
	for j := range 3 {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{EndpointIP(i, j)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		})
	}
	return retry(ctx, func() error {
		_, err := c.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{})
		return err
	}, "create endpointslice %s/%s", ns, s.Name)
}

// Ptr points at a copy of v.
func Ptr[T any](v T) *T { return &v }

// retry runs the create call f up to five times, a second apart, while the
// context lasts; what exists already is created.
func retry(ctx context.Context, f func() error, format string, args ...any) error {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		if err = f(); err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// Service is one loaded Service as the queries need it.
type Service struct {
	Name, Ns string
	kind     svcKind
	IP       string // the cluster IP ("" unless ClusterIP)
}

// Services lists the benchmark's Services, sorted by name.
func (c *Cluster) Services(ctx context.Context) ([]Service, error) {
	var out []Service
	for k := range namespaces {
		ns := fmt.Sprintf("bench-%d", k)
		list, err := c.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services in %s: %w", ns, err)
		}
		for _, s := range list.Items {
			if !strings.HasPrefix(s.Name, "svc-") {
				continue
			}
			si := Service{Name: s.Name, Ns: ns, kind: clusterIP}
			switch {
			case s.Spec.Type == corev1.ServiceTypeExternalName:
				si.kind = externalName
			case s.Spec.ClusterIP == corev1.ClusterIPNone:
				si.kind = headless
			default:
				si.IP = s.Spec.ClusterIP
			}
			out = append(out, si)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// QueryFiles writes dnsperf's input: hits (A of ClusterIP and headless names,
// SRV of the named port http, PTR of cluster IPs) and misses (names that do
// not exist inside the cluster domain), each shuffled with a fixed seed. It
// returns a ClusterIP Service to probe for the first answer.
func QueryFiles(svcs []Service, hitsPath, missesPath string) (probe Service, err error) {
	var hits []string
	for k, s := range svcs {
		name := Fqdn(s.Name, s.Ns)
		switch s.kind {
		case clusterIP:
			if probe.IP == "" {
				probe = s
			}
			hits = append(hits, name+" A")
			switch k % 3 {
			case 0:
				hits = append(hits, "_http._tcp."+name+" SRV")
			case 1:
				rev, err := dns.ReverseAddr(s.IP)
				if err != nil {
					return probe, err
				}
				hits = append(hits, rev+" PTR")
			}
		case headless:
			hits = append(hits, name+" A")
		}
	}
	if probe.IP == "" {
		return probe, fmt.Errorf("no ClusterIP Service among the %d loaded", len(svcs))
	}
	misses := make([]string, 0, max(len(svcs), 1000))
	for k := range cap(misses) {
		misses = append(misses, fmt.Sprintf("nosuch-%05d.bench-%d.svc.%s A", k, k%namespaces, Domain))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lines := range [][]string{hits, misses} {
		rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
	}
	if err := os.WriteFile(hitsPath, []byte(strings.Join(hits, "\n")+"\n"), 0o644); err != nil {
		return probe, err
	}
	return probe, os.WriteFile(missesPath, []byte(strings.Join(misses, "\n")+"\n"), 0o644)
}

// PropPrefix names the Services created to time propagation.
const PropPrefix = "prop-"
