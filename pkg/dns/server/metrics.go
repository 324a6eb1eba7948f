package server

import (
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// system is the original's "system" label, as an index so that counting a
// request is array indexing, not map lookups.
type system int

const (
	systemAuth system = iota
	systemReverse
	systemRecursive
	numSystems
)

var systemNames = [numSystems]string{"auth", "reverse", "recursive"}

// Values of the original's "cause" label that kubedns produces.
type cause int

const (
	causeNXDomain cause = iota
	causeServfail
	causeRefused
	causeTruncated
	numCauses
)

var causeNames = [numCauses]string{"nxdomain", "servfail", "refused", "truncated"}

var (
	// metricTypes bounds the "type" label; everything else is "other".
	metricTypes = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeCNAME,
		dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeANY}
	// metricRcodes bounds the "rcode" label; everything else is "other".
	metricRcodes = []int{dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure,
		dns.RcodeNameError, dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers}
)

// Metrics counts requests twice: under the original skydns names that existing
// dashboards read, and as kubedns_dns_* by query type and rcode. Every series is
// created up front so that counting a request does not allocate.
type Metrics struct {
	requests  [][]prometheus.Counter // [type][rcode]
	panics    prometheus.Counter
	legacyReq [numSystems]prometheus.Counter
	legacyDur [numSystems]prometheus.Observer
	legacySz  [numSystems]prometheus.Observer
	legacyErr [numSystems][numCauses]prometheus.Counter
	writeErrs [2]prometheus.Counter // udp, tcp
	tcpConns  prometheus.Gauge
	tcpTimes  [numTCPTimeouts]prometheus.Counter
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
	writeErrs := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kubedns", Subsystem: "dns", Name: "write_errors_total",
		Help: "Replies that could not be sent, by protocol.",
	}, []string{"protocol"})
	tcpConns := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "kubedns", Subsystem: "dns", Name: "tcp_connections",
		Help: "TCP connections open, each served by its own goroutine.",
	})
	tcpTimes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "kubedns", Subsystem: "dns", Name: "tcp_timeouts_total",
		Help: "TCP connections closed by kubedns for a timeout: idle (no query begun), read (a query begun, not complete), write (a reply not taken).",
	}, []string{"timeout"})
	if reg != nil {
		reg.MustRegister(requests, panics, count, duration, size, errs, writeErrs, tcpConns, tcpTimes)
	}

	m := &Metrics{panics: panics, tcpConns: tcpConns}
	for t, name := range tcpTimeoutNames {
		m.tcpTimes[t] = tcpTimes.WithLabelValues(name)
	}
	m.writeErrs[0] = writeErrs.WithLabelValues("udp")
	m.writeErrs[1] = writeErrs.WithLabelValues("tcp")
	for i := 0; i <= len(metricTypes); i++ {
		row := make([]prometheus.Counter, len(metricRcodes)+1)
		for j := range row {
			row[j] = requests.WithLabelValues(typeLabel(i), rcodeLabel(j))
		}
		m.requests = append(m.requests, row)
	}
	for s, name := range systemNames {
		m.legacyReq[s] = count.WithLabelValues(name)
		m.legacyDur[s] = duration.WithLabelValues(name)
		m.legacySz[s] = size.WithLabelValues(name)
		for c, cname := range causeNames {
			m.legacyErr[s][c] = errs.WithLabelValues(name, cname)
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

// writeLogEvery is how often at most a failed write is logged.
const writeLogEvery = 10 * time.Second

// writeLog rate-limits the log of failed writes: at most one line per
// writeLogEvery, with the number of failures since the last line.
var writeLog struct {
	last   atomic.Int64 // UnixNano of the last line
	missed atomic.Int64 // failures since
}

// writeFailed counts a reply that could not be sent, and logs it unless
// one was logged in the last writeLogEvery.
func (m *Metrics) writeFailed(udp bool, err error) {
	if m != nil {
		i := 1
		if udp {
			i = 0
		}
		m.writeErrs[i].Inc()
	}
	missed := writeLog.missed.Add(1)
	now := time.Now().UnixNano()
	last := writeLog.last.Load()
	if now-last < int64(writeLogEvery) || !writeLog.last.CompareAndSwap(last, now) {
		return
	}
	writeLog.missed.Add(-missed)
	proto := "tcp"
	if udp {
		proto = "udp"
	}
	klog.ErrorS(err, "Could not send a DNS reply", "protocol", proto, "failuresSinceLastLog", missed)
}

func (m *Metrics) tcpOpened() {
	if m != nil {
		m.tcpConns.Inc()
	}
}

func (m *Metrics) tcpClosed() {
	if m != nil {
		m.tcpConns.Dec()
	}
}

func (m *Metrics) tcpTimedOut(t tcpTimeout) {
	if m != nil {
		m.tcpTimes[t].Inc()
	}
}

func (m *Metrics) panic() {
	if m != nil {
		m.panics.Inc()
	}
}

func (m *Metrics) observe(sys system, qtype uint16, rcode int, truncated bool, size int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests[typeIndex(qtype)][rcodeIndex(rcode)].Inc()
	m.legacyReq[sys].Inc()
	m.legacyDur[sys].Observe(d.Seconds())
	m.legacySz[sys].Observe(float64(size))
	switch rcode {
	case dns.RcodeNameError:
		m.legacyErr[sys][causeNXDomain].Inc()
	case dns.RcodeServerFailure:
		m.legacyErr[sys][causeServfail].Inc()
	case dns.RcodeRefused:
		m.legacyErr[sys][causeRefused].Inc()
	}
	if truncated {
		m.legacyErr[sys][causeTruncated].Inc()
	}
}
