package kubeclient

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
)

// The reference side of the tests: the standard serializers over a scheme
// built here, independently of codec.go, the way kube-apiserver encodes.
var (
	refScheme = func() *runtime.Scheme {
		s := runtime.NewScheme()
		metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
		utilruntime.Must(corev1.AddToScheme(s))
		utilruntime.Must(discoveryv1.AddToScheme(s))
		utilruntime.Must(mcsv1alpha1.AddToScheme(s))
		return s
	}()
	refCodecs = serializer.NewCodecFactory(refScheme)
)

// refInfo is the standard serializer for a media type.
func refInfo(t testing.TB, mediaType string) runtime.SerializerInfo {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(refCodecs.SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no standard serializer for %s", mediaType)
	}
	return info
}

// slimInfo is this package's serializer for a media type.
func slimInfo(t testing.TB, mediaType string) runtime.SerializerInfo {
	t.Helper()
	info, ok := runtime.SerializerInfoForMediaType(NegotiatedSerializer().SupportedMediaTypes(), mediaType)
	if !ok {
		t.Fatalf("no slim serializer for %s", mediaType)
	}
	return info
}

// encode encodes obj as the API server does, type meta in the envelope.
func encode(t testing.TB, mediaType string, obj runtime.Object) []byte {
	t.Helper()
	gvks, _, err := refScheme.ObjectKinds(obj)
	if err != nil {
		t.Fatal(err)
	}
	enc := refCodecs.EncoderForVersion(refInfo(t, mediaType).Serializer, gvks[0].GroupVersion())
	var b bytes.Buffer
	if err := enc.Encode(obj, &b); err != nil {
		t.Fatalf("encode %T: %v", obj, err)
	}
	return b.Bytes()
}

// gen builds varied full API objects from a seeded source.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 0x6b38))} }

func (g *gen) n(n int) int           { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) pick(s ...string) string { return s[g.n(len(s))] }

func (g *gen) name() string {
	switch g.n(8) {
	case 0:
		return ""
	case 1:
		return "ünïcode-" + fmt.Sprint(g.n(100))
	default:
		return fmt.Sprintf("%s-%x", g.pick("web", "api", "db", "kube-dns", "a", "metrics-server"), g.r.Uint32())
	}
}

func (g *gen) namespace() string {
	return g.pick("", "default", "kube-system", "team-a", "team-b-very-long-namespace-name")
}

func (g *gen) ipv4() string {
	return fmt.Sprintf("10.%d.%d.%d", g.n(256), g.n(256), g.n(256))
}

func (g *gen) ipv6() string {
	return fmt.Sprintf("fd00:10:96::%x", g.n(0xffff))
}

func (g *gen) ip() string {
	if g.chance(0.3) {
		return g.ipv6()
	}
	return g.ipv4()
}

func (g *gen) strPtr(s string) *string {
	if g.chance(0.25) {
		return nil
	}
	return &s
}

func (g *gen) labels(extra map[string]string) map[string]string {
	if g.chance(0.2) && extra == nil {
		return nil
	}
	m := map[string]string{"app": g.name()}
	for i := g.n(4); i > 0; i-- {
		m[fmt.Sprintf("example.com/k%d", i)] = g.name()
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (g *gen) objectMeta(labels map[string]string) metav1.ObjectMeta {
	ts := metav1.NewTime(time.Unix(1700000000+int64(g.n(1e6)), 0))
	m := metav1.ObjectMeta{
		Name:              g.name(),
		Namespace:         g.namespace(),
		ResourceVersion:   fmt.Sprint(g.r.Uint64()),
		UID:               types.UID(fmt.Sprintf("%08x-0000-4000-8000-%012x", g.r.Uint32(), g.r.Uint64()&0xffffffffffff)),
		Generation:        int64(g.n(10)),
		CreationTimestamp: ts,
		Labels:            g.labels(labels),
	}
	if g.chance(0.5) {
		m.Annotations = map[string]string{
			"kubectl.kubernetes.io/last-applied-configuration": `{"apiVersion":"v1","kind":"Service"}`,
		}
	}
	switch g.n(4) {
	case 0:
		m.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: "true"}
	case 1:
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[metav1.InitialEventsAnnotationKey] = g.pick("false", "", "True")
	}
	if g.chance(0.5) {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[corev1.EndpointsLastChangeTriggerTime] = ts.Add(time.Duration(g.n(1e9))).UTC().Format(time.RFC3339Nano)
	}
	if g.chance(0.1) {
		m.CreationTimestamp = metav1.Time{}
	}
	if g.chance(0.7) {
		m.ManagedFields = []metav1.ManagedFieldsEntry{{
			Manager:    "kube-controller-manager",
			Operation:  metav1.ManagedFieldsOperationUpdate,
			APIVersion: "v1",
			Time:       &ts,
			FieldsType: "FieldsV1",
			FieldsV1:   &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:ports":{}}}`)},
		}}
	}
	if g.chance(0.2) {
		m.Finalizers = []string{"example.com/finalizer"}
		m.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", UID: "u"}}
	}
	return m
}

func (g *gen) listMeta() metav1.ListMeta {
	lm := metav1.ListMeta{ResourceVersion: fmt.Sprint(g.r.Uint64())}
	if g.chance(0.4) {
		lm.Continue = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTIzfQ"
		n := int64(g.n(5000))
		lm.RemainingItemCount = &n
	}
	if g.chance(0.1) {
		lm.SelfLink = "/api/v1/things"
	}
	return lm
}

func (g *gen) protocol() corev1.Protocol {
	return corev1.Protocol(g.pick("", "TCP", "UDP", "SCTP"))
}

func (g *gen) port() int32 {
	switch g.n(10) {
	case 0:
		return 0
	case 1:
		return -int32(g.n(1 << 20)) // out of range, but must survive the wire
	default:
		return int32(1 + g.n(65535))
	}
}

func (g *gen) service() *corev1.Service {
	s := &corev1.Service{ObjectMeta: g.objectMeta(nil)}
	s.Spec.Type = corev1.ServiceType(g.pick("", "ClusterIP", "ClusterIP", "NodePort", "LoadBalancer", "ExternalName"))
	switch g.n(5) {
	case 0:
		s.Spec.ClusterIP = "None"
		s.Spec.ClusterIPs = []string{"None"}
	case 1: // dual stack
		s.Spec.ClusterIP = g.ipv4()
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP, g.ipv6()}
		s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
	case 2:
		s.Spec.ClusterIP = g.ip()
		s.Spec.ClusterIPs = []string{}
	case 3:
	default:
		s.Spec.ClusterIP = g.ip()
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName || g.chance(0.1) {
		s.Spec.ExternalName = g.pick("", "example.com", "db.internal.example.org.")
	}
	for i := g.n(4); i > 0; i-- {
		s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{
			Name:       g.pick("", "http", "https", "dns-tcp", "x-"+g.name()),
			Protocol:   g.protocol(),
			Port:       g.port(),
			TargetPort: intstr.FromInt32(int32(g.n(65536))),
			NodePort:   int32(g.n(2)) * 30080,
		})
	}
	if g.chance(0.1) {
		s.Spec.Ports = []corev1.ServicePort{}
	}
	s.Spec.PublishNotReadyAddresses = g.chance(0.3)
	s.Spec.Selector = map[string]string{"app": "x"}
	s.Spec.SessionAffinity = corev1.ServiceAffinityNone
	if g.chance(0.3) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: g.ipv4(), Hostname: "lb.example.com"}}
	}
	return s
}

func (g *gen) endpointSlice() *discoveryv1.EndpointSlice {
	var extra map[string]string
	svc := g.pick("web", "api", "", "kube-dns")
	if g.chance(0.8) {
		extra = map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: "endpointslice-controller.k8s.io"}
	}
	e := &discoveryv1.EndpointSlice{ObjectMeta: g.objectMeta(extra)}
	if g.chance(0.5) {
		e.Name = svc + "-" + fmt.Sprintf("%05x", g.n(1<<20))
	}
	e.AddressType = discoveryv1.AddressType(g.pick("IPv4", "IPv6", "FQDN", ""))
	for i := g.n(5); i > 0; i-- {
		ep := discoveryv1.Endpoint{
			Hostname: g.strPtr(g.pick("", "pod-0", g.name())),
			NodeName: g.strPtr("node-1"),
			Zone:     g.strPtr("zone-a"),
		}
		for j := g.n(3); j > 0; j-- {
			ep.Addresses = append(ep.Addresses, g.ip())
		}
		if g.chance(0.1) {
			ep.Addresses = []string{}
		}
		if g.chance(0.8) {
			ep.Conditions.Ready = g.boolPtr()
		}
		ep.Conditions.Serving = g.boolPtr()
		ep.Conditions.Terminating = g.boolPtr()
		if g.chance(0.5) {
			ep.TargetRef = &corev1.ObjectReference{Kind: "Pod", Namespace: e.Namespace, Name: g.name(), UID: "u"}
		}
		if g.chance(0.2) {
			ep.Hints = &discoveryv1.EndpointHints{ForZones: []discoveryv1.ForZone{{Name: "zone-a"}}}
		}
		e.Endpoints = append(e.Endpoints, ep)
	}
	for i := g.n(4); i > 0; i-- {
		p := discoveryv1.EndpointPort{Name: g.strPtr(g.pick("", "http", "dns")), Port: g.int32Ptr()}
		if g.chance(0.75) {
			pr := g.protocol()
			p.Protocol = &pr
		}
		if g.chance(0.3) {
			p.AppProtocol = g.strPtr("kubernetes.io/h2c")
		}
		e.Ports = append(e.Ports, p)
	}
	return e
}

func (g *gen) boolPtr() *bool {
	if g.chance(0.3) {
		return nil
	}
	b := g.chance(0.5)
	return &b
}

func (g *gen) int32Ptr() *int32 {
	if g.chance(0.2) {
		return nil
	}
	p := g.port()
	return &p
}

func (g *gen) endpoints() *corev1.Endpoints {
	e := &corev1.Endpoints{ObjectMeta: g.objectMeta(nil)} //nolint:staticcheck // core/v1 Endpoints is one of the decoded kinds.
	for i := g.n(3); i > 0; i-- {
		var s corev1.EndpointSubset //nolint:staticcheck // as above
		for j := g.n(3); j > 0; j-- {
			s.Addresses = append(s.Addresses, g.address())
		}
		for j := g.n(2); j > 0; j-- {
			s.NotReadyAddresses = append(s.NotReadyAddresses, g.address())
		}
		for j := g.n(3); j > 0; j-- {
			s.Ports = append(s.Ports, corev1.EndpointPort{Name: g.pick("", "http", "dns"), Port: g.port(), Protocol: g.protocol()}) //nolint:staticcheck // as above
		}
		if g.chance(0.1) {
			s.Addresses = []corev1.EndpointAddress{}
		}
		e.Subsets = append(e.Subsets, s)
	}
	return e
}

func (g *gen) address() corev1.EndpointAddress {
	a := corev1.EndpointAddress{IP: g.ip(), Hostname: g.pick("", "", "web-0")}
	if g.chance(0.5) {
		a.NodeName = g.strPtr("node-1")
		a.TargetRef = &corev1.ObjectReference{Kind: "Pod", Name: g.name()}
	}
	return a
}

func (g *gen) namespaceObj() *corev1.Namespace {
	n := &corev1.Namespace{ObjectMeta: g.objectMeta(nil)}
	n.Namespace = ""
	n.Spec.Finalizers = []corev1.FinalizerName{corev1.FinalizerKubernetes}
	n.Status.Phase = corev1.NamespaceActive
	return n
}

func (g *gen) pod() *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: g.objectMeta(nil)}
	p.Spec.Containers = []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10", Ports: []corev1.ContainerPort{{ContainerPort: 80}}}}
	p.Spec.NodeName = "node-1"
	p.Status.Phase = corev1.PodPhase(g.pick("", "Pending", "Running", "Succeeded", "Failed", "Unknown"))
	p.Status.HostIP = g.ipv4()
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	switch g.n(4) {
	case 0:
	case 1:
		p.Status.PodIP = g.ip()
	case 2:
		p.Status.PodIP = g.ipv4()
		p.Status.PodIPs = []corev1.PodIP{{IP: p.Status.PodIP}, {IP: g.ipv6()}}
	default:
		p.Status.PodIPs = []corev1.PodIP{{IP: g.ip()}}
	}
	return p
}

// object returns a random object of the kind named, or a list of them.
func (g *gen) object(kind string) runtime.Object {
	items := g.n(6)
	if g.chance(0.1) {
		items = 0
	}
	switch kind {
	case "Service":
		return g.service()
	case "ServiceList":
		l := &corev1.ServiceList{ListMeta: g.listMeta()}
		for range items {
			l.Items = append(l.Items, *g.service())
		}
		return l
	case "EndpointSlice":
		return g.endpointSlice()
	case "EndpointSliceList":
		l := &discoveryv1.EndpointSliceList{ListMeta: g.listMeta()}
		for range items {
			l.Items = append(l.Items, *g.endpointSlice())
		}
		return l
	case "Endpoints":
		return g.endpoints()
	case "EndpointsList":
		l := &corev1.EndpointsList{ListMeta: g.listMeta()} //nolint:staticcheck // core/v1 Endpoints is one of the decoded kinds.
		for range items {
			l.Items = append(l.Items, *g.endpoints())
		}
		return l
	case "Namespace":
		return g.namespaceObj()
	case "NamespaceList":
		l := &corev1.NamespaceList{ListMeta: g.listMeta()}
		for range items {
			l.Items = append(l.Items, *g.namespaceObj())
		}
		return l
	case "Pod":
		return g.pod()
	case "PodList":
		l := &corev1.PodList{ListMeta: g.listMeta()}
		for range items {
			l.Items = append(l.Items, *g.pod())
		}
		return l
	}
	panic("unknown kind " + kind)
}

var allKinds = []string{
	"Service", "ServiceList", "EndpointSlice", "EndpointSliceList", "Endpoints",
	"EndpointsList", "Namespace", "NamespaceList", "Pod", "PodList",
}
