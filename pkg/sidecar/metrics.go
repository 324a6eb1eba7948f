package sidecar

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// legacyLatencyBuckets are the original sidecar's, in milliseconds:
// 0.25ms to 8192ms. The conventional histogram uses the same bounds in
// seconds.
var (
	legacyLatencyBuckets = prometheus.ExponentialBuckets(0.25, 2, 16)
	latencyBuckets       = prometheus.ExponentialBuckets(0.25/1000, 2, 16)
)

// ProbeMetrics are the probes' metrics. The conventional ones carry the
// probe label: <ns>_probe_latency_seconds{probe} and
// <ns>_probe_errors_total{probe}. The original's, kept for existing
// dashboards, have the label in their names: <ns>_probe_<label>_latency_ms
// and <ns>_probe_<label>_errors. Latencies are observed on success only.
type ProbeMetrics struct {
	latency       *prometheus.HistogramVec
	errors        *prometheus.CounterVec
	legacyLatency map[string]prometheus.Histogram
	legacyErrors  map[string]prometheus.Counter
}

// NewProbeMetrics registers the metrics of the probes labelled labels on
// reg, under namespace (--prometheus-namespace). Every series starts at
// zero, so that it exists before the first probe.
func NewProbeMetrics(reg prometheus.Registerer, namespace string, labels []string) (*ProbeMetrics, error) {
	m := &ProbeMetrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Subsystem: "probe",
			Name:      "latency_seconds",
			Help:      "Time taken by successful DNS probes, by probe label.",
			Buckets:   latencyBuckets,
		}, []string{"probe"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: "probe",
			Name:      "errors_total",
			Help:      "Failed DNS probes, by probe label.",
		}, []string{"probe"}),
		legacyLatency: map[string]prometheus.Histogram{},
		legacyErrors:  map[string]prometheus.Counter{},
	}
	cs := []prometheus.Collector{m.latency, m.errors}
	for _, l := range labels {
		if _, dup := m.legacyErrors[l]; dup {
			return nil, fmt.Errorf("sidecar: probe label %q is used twice", l)
		}
		m.latency.WithLabelValues(l)
		m.errors.WithLabelValues(l)
		m.legacyLatency[l] = prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Subsystem: "probe",
			Name:      l + "_latency_ms",
			Help:      "Time taken by successful DNS probes of " + l + ", in milliseconds (legacy; see probe_latency_seconds).",
			Buckets:   legacyLatencyBuckets,
		})
		m.legacyErrors[l] = prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace,
			Subsystem: "probe",
			Name:      l + "_errors",
			Help:      "Failed DNS probes of " + l + " (legacy; see probe_errors_total).",
		})
		cs = append(cs, m.legacyLatency[l], m.legacyErrors[l])
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("sidecar: register probe metrics: %w", err)
		}
	}
	return m, nil
}

// observe records one probe result; a nil m records nothing.
func (m *ProbeMetrics) observe(label string, latency time.Duration, err error) {
	if m == nil {
		return
	}
	if err != nil {
		m.errors.WithLabelValues(label).Inc()
		if c := m.legacyErrors[label]; c != nil {
			c.Inc()
		}
		return
	}
	m.latency.WithLabelValues(label).Observe(latency.Seconds())
	if h := m.legacyLatency[label]; h != nil {
		h.Observe(float64(latency) / float64(time.Millisecond))
	}
}
