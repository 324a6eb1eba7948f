package apiretry

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics count failed API calls. A nil *Metrics is valid and records nothing.
type Metrics struct {
	errors      *prometheus.CounterVec
	unreachable *prometheus.GaugeVec
}

// NewMetrics creates kubedns_api_errors_total{resource,cause} and
// kubedns_api_unreachable{resource} and registers them with reg unless it is
// nil. Several callers may share one registry: collectors already registered
// by an earlier call are reused.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kubedns_api_errors_total",
			Help: "Failed list and watch calls to the API server, by resource and cause (unreachable, timeout and throttled are retried at once; the others are left to the reflector's backoff).",
		}, []string{"resource", "cause"}),
		unreachable: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kubedns_api_unreachable",
			Help: "1 while the list or watch of the resource is retrying an API server outage, else 0.",
		}, []string{"resource"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.errors, err = register(reg, m.errors); err != nil {
		return nil, err
	}
	if m.unreachable, err = register(reg, m.unreachable); err != nil {
		return nil, err
	}
	return m, nil
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// init exports zeros for every cause of resource.
func (m *Metrics) init(resource string) {
	if m == nil {
		return
	}
	for _, c := range Causes {
		m.errors.WithLabelValues(resource, string(c))
	}
	m.unreachable.WithLabelValues(resource).Set(0)
}

func (m *Metrics) failed(resource string, c Cause) {
	if m != nil {
		m.errors.WithLabelValues(resource, string(c)).Inc()
	}
}

func (m *Metrics) setUnreachable(resource string, down bool) {
	if m == nil {
		return
	}
	v := 0.0
	if down {
		v = 1
	}
	m.unreachable.WithLabelValues(resource).Set(v)
}
