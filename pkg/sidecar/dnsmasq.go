package sidecar

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// The counters dnsmasq answers as CHAOS TXT queries (dnsmasq >= 2.76), in
// the order they are asked.
var dnsmasqCounters = [...]struct{ name, query, help string }{
	{"hits", "hits.bind.", "Queries answered from dnsmasq's cache"},
	{"misses", "misses.bind.", "Queries dnsmasq could not answer from its cache"},
	{"evictions", "evictions.bind.", "Cache entries dnsmasq removed before they expired"},
	{"insertions", "insertions.bind.", "Entries dnsmasq added to its cache"},
}

const cacheSizeQuery = "cachesize.bind."

// maxPollTimeout caps the time one poll of dnsmasq may take.
const maxPollTimeout = 2 * time.Second

// DnsmasqMetrics polls dnsmasq's cache statistics and exports them; it is a
// prometheus.Collector. The exported counters never go backwards: when a
// counter comes back lower than before (dnsmasq restarted), the last value
// is added to an offset carried from then on. Counters and the cache size
// appear after the first successful poll; a failed poll counts an error and
// keeps the last values.
type DnsmasqMetrics struct {
	addr  string
	clock Clock

	counters, legacyCounters []*prometheus.Desc // parallel to dnsmasqCounters
	cacheSize, maxSize       *prometheus.Desc
	errorsTotal, errors      *prometheus.Desc

	mu       sync.Mutex
	polled   bool                        // a poll has succeeded
	last     [len(dnsmasqCounters)]int64 // raw values of the last successful poll
	offset   [len(dnsmasqCounters)]int64 // raw values lost to restarts
	size     int64                       // cachesize.bind at the last successful poll
	maxSeen  int64                       // the largest size seen
	failures uint64
	failing  bool
}

// NewDnsmasqMetrics returns the collector of the dnsmasq at addr
// ("host:port"), with metric names under namespace, taking time from c (the
// zero Clock: real time). Register it, then call Run.
func NewDnsmasqMetrics(addr, namespace string, c Clock) *DnsmasqMetrics {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "dnsmasq", name), help, nil, nil)
	}
	d := &DnsmasqMetrics{addr: addr, clock: c.withDefaults()}
	for _, ctr := range dnsmasqCounters {
		d.counters = append(d.counters, desc(ctr.name+"_total", ctr.help+" (CHAOS TXT "+ctr.query+"), kept across dnsmasq restarts."))
		d.legacyCounters = append(d.legacyCounters, desc(ctr.name, ctr.help+" (legacy; see dnsmasq_"+ctr.name+"_total)."))
	}
	d.cacheSize = desc("cache_size", "Size of dnsmasq's cache in entries (CHAOS TXT "+cacheSizeQuery+").")
	d.maxSize = desc("max_size", "Largest dnsmasq cache size seen, in entries (legacy; see dnsmasq_cache_size).")
	d.errorsTotal = desc("errors_total", "Failed polls of dnsmasq's statistics.")
	d.errors = desc("errors", "Failed polls of dnsmasq's statistics (legacy; see dnsmasq_errors_total).")
	return d
}

// Describe sends the descriptors of every metric d may export.
func (d *DnsmasqMetrics) Describe(ch chan<- *prometheus.Desc) {
	for i := range d.counters {
		ch <- d.counters[i]
		ch <- d.legacyCounters[i]
	}
	ch <- d.cacheSize
	ch <- d.maxSize
	ch <- d.errorsTotal
	ch <- d.errors
}

// Collect sends the values of the last successful poll and the error count.
func (d *DnsmasqMetrics) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	defer d.mu.Unlock()
	failures := float64(d.failures)
	ch <- prometheus.MustNewConstMetric(d.errorsTotal, prometheus.CounterValue, failures)
	ch <- prometheus.MustNewConstMetric(d.errors, prometheus.CounterValue, failures)
	if !d.polled {
		return
	}
	for i := range d.counters {
		v := float64(d.offset[i] + d.last[i])
		ch <- prometheus.MustNewConstMetric(d.counters[i], prometheus.CounterValue, v)
		ch <- prometheus.MustNewConstMetric(d.legacyCounters[i], prometheus.CounterValue, v)
	}
	ch <- prometheus.MustNewConstMetric(d.cacheSize, prometheus.GaugeValue, float64(d.size))
	ch <- prometheus.MustNewConstMetric(d.maxSize, prometheus.CounterValue, float64(d.maxSeen))
}

// Run polls dnsmasq at once, then every interval, until ctx is done.
func (d *DnsmasqMetrics) Run(ctx context.Context, interval time.Duration) {
	for {
		start := d.clock.Now()
		err := d.Poll(ctx, min(interval/2, maxPollTimeout))
		if ctx.Err() != nil {
			return
		}
		d.mu.Lock()
		wasFailing := d.failing
		d.failing = err != nil
		d.mu.Unlock()
		switch {
		case err != nil && !wasFailing:
			klog.InfoS("Cannot read dnsmasq statistics", "address", d.addr, "err", err)
		case err == nil && wasFailing:
			klog.InfoS("Reading dnsmasq statistics again", "address", d.addr)
		}
		if !d.clock.Sleep(ctx, max(0, interval-d.clock.Now().Sub(start))) {
			return
		}
	}
}

// Poll reads every statistic once, within timeout. Only a poll where every
// query succeeded changes the exported values; a failed one counts an error,
// unless ctx was cancelled.
func (d *DnsmasqMetrics) Poll(ctx context.Context, timeout time.Duration) error {
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var raw [len(dnsmasqCounters)]int64
	var err error
	for i, ctr := range dnsmasqCounters {
		if raw[i], err = queryStat(qctx, d.addr, ctr.query); err != nil {
			break
		}
	}
	var size int64
	if err == nil {
		size, err = queryStat(qctx, d.addr, cacheSizeQuery)
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		d.failures++
		return fmt.Errorf("sidecar: poll dnsmasq at %s: %w", d.addr, err)
	}
	for i, v := range raw {
		if v < d.last[i] {
			d.offset[i] += d.last[i]
		}
		d.last[i] = v
	}
	d.size, d.maxSeen, d.polled = size, max(d.maxSeen, size), true
	return nil
}

// queryStat asks dnsmasq at addr for the CHAOS TXT record name, which must
// hold a single non-negative integer.
func queryStat(ctx context.Context, addr, name string) (int64, error) {
	m := new(dns.Msg)
	m.Id = dns.Id()
	m.Question = []dns.Question{{Name: name, Qtype: dns.TypeTXT, Qclass: dns.ClassCHAOS}}
	r, err := exchange(ctx, m, addr)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return 0, fmt.Errorf("%s: answer %s", name, dns.RcodeToString[r.Rcode])
	}
	if len(r.Answer) != 1 {
		return 0, fmt.Errorf("%s: %d answer records, want 1", name, len(r.Answer))
	}
	txt, ok := r.Answer[0].(*dns.TXT)
	if !ok || len(txt.Txt) != 1 {
		return 0, fmt.Errorf("%s: want one TXT string, got %v", name, r.Answer[0])
	}
	v, err := strconv.ParseInt(txt.Txt[0], 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%s: %q is not a count", name, txt.Txt[0])
	}
	return v, nil
}
