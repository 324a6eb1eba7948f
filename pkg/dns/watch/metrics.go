package watch

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are created per Controller so that tests can use fresh registries.
type metrics struct {
	buildDuration  prometheus.Histogram
	publishes      prometheus.Counter
	names          prometheus.Gauge
	watchToPublish prometheus.Histogram
	programming    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		buildDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubedns_snapshot_build_duration_seconds",
			Help:    "Time taken to build a DNS record snapshot.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 18),
		}),
		publishes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kubedns_snapshot_publishes_total",
			Help: "Number of DNS record snapshots published.",
		}),
		names: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kubedns_snapshot_names",
			Help: "Number of names in the current DNS record snapshot.",
		}),
		watchToPublish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubedns_watch_event_to_publish_duration_seconds",
			Help:    "Time from the first watch event of a change to the publication of the snapshot serving it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 20),
		}),
		programming: newProgrammingLatency(),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.buildDuration, m.publishes, m.names, m.watchToPublish, m.programming} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
