package config

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
)

// Metrics count what the sources do with configuration updates. A nil
// *Metrics is valid and records nothing.
type Metrics struct {
	rejected    *prometheus.CounterVec
	updates     prometheus.Counter
	lastSuccess prometheus.Gauge
	apiErrors   *apiretry.Metrics // of the ConfigMap source's API calls
}

// NewMetrics creates the configuration metrics, named
// <namespace>_config_rejected_total{key}, <namespace>_config_updates_total and
// <namespace>_config_last_reload_success_timestamp_seconds, plus apiretry's
// (shared with the watches) for the ConfigMap source's API calls, and
// registers them with reg unless it is nil. Metrics already registered by an
// earlier call are reused; any other registration error panics, as with
// MustRegister.
func NewMetrics(reg prometheus.Registerer, namespace string) *Metrics {
	m := &Metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "config_rejected_total",
			Help:      "Number of kube-dns configuration updates rejected as invalid, by the ConfigMap key at fault. The last good configuration stays in force.",
		}, []string{"key"}),
		updates: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "config_updates_total",
			Help:      "Number of valid kube-dns configurations applied, the first one included.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace,
			Name:      "config_last_reload_success_timestamp_seconds",
			Help:      "Time, in seconds since the Unix epoch, when a valid kube-dns configuration was last read.",
		}),
	}
	api, err := apiretry.NewMetrics(reg)
	if err != nil {
		panic(err)
	}
	m.apiErrors = api
	if reg != nil {
		m.rejected = register(reg, m.rejected)
		m.updates = register(reg, m.updates)
		m.lastSuccess = register(reg, m.lastSuccess)
	}
	for _, k := range knownKeys {
		m.rejected.WithLabelValues(k) // export zeros for the known keys
	}
	return m
}

func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	switch {
	case err == nil:
		return c
	case errors.As(err, &are):
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	panic(err)
}

// api returns the metrics of the API calls, nil when m is nil.
func (m *Metrics) api() *apiretry.Metrics {
	if m == nil {
		return nil
	}
	return m.apiErrors
}

func (m *Metrics) reject(key string) {
	if m != nil {
		m.rejected.WithLabelValues(key).Inc()
	}
}

// reloaded records that a valid configuration was read.
func (m *Metrics) reloaded() {
	if m != nil {
		m.lastSuccess.Set(float64(time.Now().UnixNano()) / 1e9)
	}
}

// applied records that a valid configuration was delivered.
func (m *Metrics) applied() {
	if m != nil {
		m.updates.Inc()
	}
}
