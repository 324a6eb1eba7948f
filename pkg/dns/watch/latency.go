package watch

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// DNS programming latency, as SIG Scalability defines the SLI: from the
// change in the API to the snapshot that serves it. For Endpoints and
// EndpointSlices the change's time is the endpoints controller's
// endpoints.kubernetes.io/last-change-trigger-time annotation; for a
// Service, its creation time (seconds), when it is created. Other changes
// carry no time and are not measured, nor is the first sync, which is not
// programming. The API server's clock and this node's are compared, so
// skew between them shows; a negative latency is counted as 0.

// Values of the service_kind label: the Service kinds, and the two types of
// ServiceImport.
var serviceKinds = [...]string{
	records.ClusterIP:    "cluster_ip",
	records.Headless:     "headless",
	records.ExternalName: "external_name",
}

const (
	kindClusterSetIP       = "clusterset_ip"
	kindClustersetHeadless = "clusterset_headless"
)

func newProgrammingLatency() *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "kubedns_dns_programming_duration_seconds",
		Help: "DNS programming latency (SIG Scalability's SLI): from a change in the API " +
			"(the endpoints' last-change-trigger-time, a Service's creation) to the snapshot serving it, by the Service's kind.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 20), // 1 ms to ~9 min
	}, []string{"service_kind"})
	for _, k := range serviceKinds {
		h.WithLabelValues(k)
	}
	h.WithLabelValues(kindClusterSetIP)
	h.WithLabelValues(kindClustersetHeadless)
	return h
}

// importCreated is the ServiceImports store's fresh: an import created after
// the first sync is measured from its creation.
func (c *Controller) importCreated(obj any, created bool) {
	imp, ok := obj.(*kubeclient.ServiceImport)
	if !created || !ok || imp.Created == 0 || c.snap.Load() == nil {
		return
	}
	c.mu.Lock()
	c.dirty.trigger(importKey(imp.Namespace, imp.Name), time.Unix(int64(imp.Created), 0))
	c.mu.Unlock()
}

// serviceCreated is the services store's fresh: a Service created after the
// first sync is measured from its creation.
func (c *Controller) serviceCreated(obj any, created bool) {
	svc, ok := obj.(*kubeclient.Service)
	if !created || !ok || svc.Created == 0 || c.snap.Load() == nil {
		return
	}
	c.mu.Lock()
	c.dirty.trigger(keyOf(svc), time.Unix(int64(svc.Created), 0))
	c.mu.Unlock()
}

// endpointsChanged returns the fresh of an endpoints store: a new version is
// measured from its last-change-trigger-time. serviceOf names the Service
// and the ServiceImport.
func (c *Controller) endpointsChanged(serviceOf func(any) (string, string)) func(any, bool) {
	return func(obj any, _ bool) {
		at := changeTrigger(obj)
		if at == 0 || c.snap.Load() == nil {
			return
		}
		svc, imp := serviceOf(obj)
		c.mu.Lock()
		for _, key := range [...]string{svc, imp} {
			if key != "" {
				c.dirty.trigger(key, time.Unix(0, at))
			}
		}
		c.mu.Unlock()
	}
}

func changeTrigger(obj any) int64 {
	switch o := obj.(type) {
	case *kubeclient.EndpointSlice:
		return o.ChangeTrigger
	case *kubeclient.Endpoints:
		return o.ChangeTrigger
	}
	return 0
}

// programmed is a change the snapshot being published serves.
type programmed struct {
	kind string // a service_kind label value
	at   time.Time
}

// programmedOf returns the measured change of a Service or ServiceImport
// (by importKey) whose records changed, if it has one and it exists.
func (c *Controller) programmedOf(d *dirtySet, key string) (programmed, bool) {
	at, ok := d.triggers[key]
	if !ok {
		return programmed{}, false
	}
	if name, ok := strings.CutPrefix(key, records.ImportKeyPrefix); ok {
		imp, ok := c.imports.get(name).(*kubeclient.ServiceImport)
		if !ok {
			return programmed{}, false
		}
		kind := kindClusterSetIP
		if headlessImport(imp) {
			kind = kindClustersetHeadless
		}
		return programmed{kind: kind, at: at}, true
	}
	svc, ok := c.services.get(key).(*kubeclient.Service)
	if !ok {
		return programmed{}, false
	}
	return programmed{kind: serviceKinds[serviceKind(svc)], at: at}, true
}

func (c *Controller) observeProgrammed(done time.Time, list []programmed) {
	for _, p := range list {
		c.metrics.programming.WithLabelValues(p.kind).Observe(max(0, done.Sub(p.at).Seconds()))
	}
}
