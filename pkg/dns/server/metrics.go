package server

import (
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Values of the original's "system" label.
const (
	systemAuth      = "auth"
	systemReverse   = "reverse"
	systemRecursive = "recursive"
)

var (
	// metricTypes bounds the "type" label; everything else is "other".
	metricTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeCNAME,
		dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeANY}
	// metricRcodes bounds the "rcode" label; everything else is "other".
	metricRcodes = []int{dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure,
		dns.RcodeNameError, dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers}
	systems = []string{systemAuth, systemReverse, systemRecursive}
)

// Metrics counts requests twice: under the original skydns names that existing
// dashboards read, and as kubedns_dns_* by query type and rcode. Every series is
// created up front so that counting a request does not allocate.
type Metrics struct {
	requests  [][]prometheus.Counter // [type][rcode]
	panics    prometheus.Counter
	legacyReq map[string]prometheus.Counter
	legacyDur map[string]prometheus.Observer
	legacySz  map[string]prometheus.Observer
	legacyErr map[string]map[string]prometheus.Counter // [system][cause]
}

// NewMetrics registers the DNS metrics on reg. legacyNamespace and
// legacySubsystem name the skydns metrics (PROMETHEUS_NAMESPACE and
// PROMETHEUS_SUBSYSTEM of the original, both "skydns" by default).
func NewMetrics(reg prometheus.Registerer, legacyNamespace, legacySubsystem string) *Metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kubedns", Subsystem: "dns", Name: "requests_total",
		Help: "DNS requests answered by kubedns, by query type and response code.",
	}, []string{"type", "rcode"})
	panics := prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "kubedns", Subsystem: "dns", Name: "panics_total",
		Help: "Queries whose handling panicked and were answered SERVFAIL.",
	})
	count := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: legacyNamespace, Subsystem: legacySubsystem, Name: "dns_request_count_total",
		Help: "Counter of DNS requests made.",
	}, []string{"system"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: legacyNamespace, Subsystem: legacySubsystem, Name: "dns_request_duration_seconds",
		Help:    "Histogram of the time (in seconds) each request took to resolve.",
		Buckets: append([]float64{0.001, 0.003}, prometheus.DefBuckets...),
	}, []string{"system"})
	size := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: legacyNamespace, Subsystem: legacySubsystem, Name: "dns_response_size_bytes",
		Help:    "Size of the returned response in bytes.",
		Buckets: []float64{0, 512, 1024, 1500, 2048, 4096, 8192, 12288, 16384, 20480, 24576, 28672, 32768, 36864, 40960, 45056, 49152, 53248, 57344, 61440, 65536},
	}, []string{"system"})
	errs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: legacyNamespace, Subsystem: legacySubsystem, Name: "dns_error_count_total",
		Help: "Counter of DNS requests resulting in an error.",
	}, []string{"system", "cause"})
	if reg != nil {
		reg.MustRegister(requests, panics, count, duration, size, errs)
	}

	m := &Metrics{
		panics:    panics,
		legacyReq: map[string]prometheus.Counter{},
		legacyDur: map[string]prometheus.Observer{},
		legacySz:  map[string]prometheus.Observer{},
		legacyErr: map[string]map[string]prometheus.Counter{},
	}
	for i := 0; i <= len(metricTypes); i++ {
		row := make([]prometheus.Counter, len(metricRcodes)+1)
		for j := range row {
			row[j] = requests.WithLabelValues(typeLabel(i), rcodeLabel(j))
		}
		m.requests = append(m.requests, row)
	}
	for _, s := range systems {
		m.legacyReq[s] = count.WithLabelValues(s)
		m.legacyDur[s] = duration.WithLabelValues(s)
		m.legacySz[s] = size.WithLabelValues(s)
		m.legacyErr[s] = map[string]prometheus.Counter{}
		for _, cause := range []string{"nxdomain", "servfail", "refused", "truncated", "overflow"} {
			m.legacyErr[s][cause] = errs.WithLabelValues(s, cause)
		}
	}
	return m
}

func typeLabel(i int) string {
	if i < len(metricTypes) {
		return dns.TypeToString[metricTypes[i]]
	}
	return "other"
}

func rcodeLabel(i int) string {
	if i < len(metricRcodes) {
		return dns.RcodeToString[metricRcodes[i]]
	}
	return "other"
}

func typeIndex(t uint16) int {
	for i, x := range metricTypes {
		if x == t {
			return i
		}
	}
	return len(metricTypes)
}

func rcodeIndex(r int) int {
	for i, x := range metricRcodes {
		if x == r {
			return i
		}
	}
	return len(metricRcodes)
}

func (m *Metrics) panic() {
	if m != nil {
		m.panics.Inc()
	}
}

func (m *Metrics) observe(system string, qtype uint16, rcode int, truncated bool, size int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests[typeIndex(qtype)][rcodeIndex(rcode)].Inc()
	m.legacyReq[system].Inc()
	m.legacyDur[system].Observe(d.Seconds())
	m.legacySz[system].Observe(float64(size))
	switch {
	case rcode == dns.RcodeNameError:
		m.legacyErr[system]["nxdomain"].Inc()
	case rcode == dns.RcodeServerFailure:
		m.legacyErr[system]["servfail"].Inc()
	case rcode == dns.RcodeRefused:
		m.legacyErr[system]["refused"].Inc()
	}
	if truncated {
		m.legacyErr[system]["truncated"].Inc()
	}
}
