package watch

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are created per Controller so that tests can use fresh registries.
type metrics struct {
	buildDuration       prometheus.Histogram
	publishes           prometheus.Counter
	names               prometheus.Gauge
	programmingDuration prometheus.Histogram
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
		programmingDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kubedns_dns_programming_duration_seconds",
			Help:    "Time from the first watch event of a change to the publication of the snapshot serving it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 20),
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.buildDuration, m.publishes, m.names, m.programmingDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
