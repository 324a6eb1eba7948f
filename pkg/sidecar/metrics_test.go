package sidecar

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
)

// allMetrics returns a registry holding every sidecar metric with a value:
// probes kubedns and dnsmasq, a polled dnsmasq, and its TCP port read.
func allMetrics(t *testing.T) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	m, err := NewProbeMetrics(reg, "kubedns", []string{"kubedns", "dnsmasq"})
	if err != nil {
		t.Fatal(err)
	}
	m.observe("kubedns", 3*time.Millisecond, nil)
	m.observe("dnsmasq", 0, errors.New("down"))
	fake := &chaosServer{}
	fake.set(stats(1, 2, 3, 4, 5))
	srv := startDNS(t, "127.0.0.1:0", fake)
	d := NewDnsmasqMetrics(srv.addr, "kubedns", Clock{})
	reg.MustRegister(d)
	if err := d.Poll(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	tcp, _ := newTestTCP(t, "testdata/procnet/full", &fakeBacklog{backlog: 32}, Clock{})
	reg.MustRegister(tcp)
	if err := tcp.Poll(); err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestMetricsLint lints every metric: only the original's names, kept for
// existing dashboards, may have problems.
func TestMetricsLint(t *testing.T) {
	problems, err := testutil.GatherAndLint(allMetrics(t))
	if err != nil {
		t.Fatal(err)
	}
	const noTotal = "counter metrics should have \"_total\" suffix"
	const ms = "metric names should not contain abbreviated units"
	want := []promlint.Problem{
		{Metric: "kubedns_dnsmasq_errors", Text: noTotal},
		{Metric: "kubedns_dnsmasq_evictions", Text: noTotal},
		{Metric: "kubedns_dnsmasq_hits", Text: noTotal},
		{Metric: "kubedns_dnsmasq_insertions", Text: noTotal},
		{Metric: "kubedns_dnsmasq_max_size", Text: noTotal},
		{Metric: "kubedns_dnsmasq_misses", Text: noTotal},
		{Metric: "kubedns_probe_dnsmasq_errors", Text: noTotal},
		{Metric: "kubedns_probe_dnsmasq_latency_ms", Text: ms},
		{Metric: "kubedns_probe_kubedns_errors", Text: noTotal},
		{Metric: "kubedns_probe_kubedns_latency_ms", Text: ms},
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("promlint problems:\n%v\nwant only the legacy names':\n%v", problems, want)
	}
}

func TestMetricNamesAndHelp(t *testing.T) {
	mfs, err := allMetrics(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	type desc struct {
		typ  dto.MetricType
		help string
	}
	counter, gauge, histogram := dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_HISTOGRAM
	want := map[string]desc{
		"kubedns_probe_latency_seconds":          {histogram, "Time taken by successful DNS probes, by probe label."},
		"kubedns_probe_errors_total":             {counter, "Failed DNS probes, by probe label."},
		"kubedns_probe_kubedns_latency_ms":       {histogram, "Time taken by successful DNS probes of kubedns, in milliseconds (legacy; see probe_latency_seconds)."},
		"kubedns_probe_kubedns_errors":           {counter, "Failed DNS probes of kubedns (legacy; see probe_errors_total)."},
		"kubedns_probe_dnsmasq_latency_ms":       {histogram, "Time taken by successful DNS probes of dnsmasq, in milliseconds (legacy; see probe_latency_seconds)."},
		"kubedns_probe_dnsmasq_errors":           {counter, "Failed DNS probes of dnsmasq (legacy; see probe_errors_total)."},
		"kubedns_dnsmasq_hits_total":             {counter, "Queries answered from dnsmasq's cache (CHAOS TXT hits.bind.), kept across dnsmasq restarts."},
		"kubedns_dnsmasq_misses_total":           {counter, "Queries dnsmasq could not answer from its cache (CHAOS TXT misses.bind.), kept across dnsmasq restarts."},
		"kubedns_dnsmasq_evictions_total":        {counter, "Cache entries dnsmasq removed before they expired (CHAOS TXT evictions.bind.), kept across dnsmasq restarts."},
		"kubedns_dnsmasq_insertions_total":       {counter, "Entries dnsmasq added to its cache (CHAOS TXT insertions.bind.), kept across dnsmasq restarts."},
		"kubedns_dnsmasq_cache_size":             {gauge, "Size of dnsmasq's cache in entries (CHAOS TXT cachesize.bind.)."},
		"kubedns_dnsmasq_errors_total":           {counter, "Failed polls of dnsmasq's statistics."},
		"kubedns_dnsmasq_hits":                   {counter, "Queries answered from dnsmasq's cache (legacy; see dnsmasq_hits_total)."},
		"kubedns_dnsmasq_misses":                 {counter, "Queries dnsmasq could not answer from its cache (legacy; see dnsmasq_misses_total)."},
		"kubedns_dnsmasq_evictions":              {counter, "Cache entries dnsmasq removed before they expired (legacy; see dnsmasq_evictions_total)."},
		"kubedns_dnsmasq_insertions":             {counter, "Entries dnsmasq added to its cache (legacy; see dnsmasq_insertions_total)."},
		"kubedns_dnsmasq_max_size":               {counter, "Largest dnsmasq cache size seen, in entries (legacy; see dnsmasq_cache_size)."},
		"kubedns_dnsmasq_errors":                 {counter, "Failed polls of dnsmasq's statistics (legacy; see dnsmasq_errors_total)."},
		"kubedns_dnsmasq_tcp_connections":        {gauge, "TCP connections dnsmasq has accepted on its port and not yet closed (ESTABLISHED sockets of the port held by a process, in /proc/net/tcp and tcp6)."},
		"kubedns_dnsmasq_tcp_connections_limit":  {gauge, "TCP connections dnsmasq serves at once (its --max-tcp-connections, as given to the sidecar's --dnsmasq-max-tcp-connections); past it dnsmasq stops accepting."},
		"kubedns_dnsmasq_tcp_accept_queue":       {gauge, "TCP connections waiting in the accept queues of dnsmasq's listen sockets (their rx_queue in /proc/net/tcp and tcp6)."},
		"kubedns_dnsmasq_tcp_accept_queue_limit": {gauge, "Backlog of dnsmasq's TCP listen sockets, the largest if several (sock_diag); the kernel queues one more connection per socket, then drops connection attempts."},
		"kubedns_tcp_listen_overflows_total":     {counter, "Connection attempts the kernel dropped because a listen socket's accept queue was full (TcpExt ListenOverflows in /proc/net/netstat). Counts every listener of the pod's network namespace; in this pod, dnsmasq's is the one that fills."},
		"kubedns_dnsmasq_tcp_read_errors_total":  {counter, "Failed reads of the pod's TCP state: /proc/net/tcp, tcp6 and netstat, or the backlog of dnsmasq's listen sockets (sock_diag)."},
	}
	got := map[string]desc{}
	for _, mf := range mfs {
		got[mf.GetName()] = desc{mf.GetType(), mf.GetHelp()}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("metrics:\n%v\nwant\n%v", got, want)
	}
}

// TestProbeMetricValues checks buckets, units and labels.
func TestProbeMetricValues(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := NewProbeMetrics(reg, "ns", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	m.observe("a", 3*time.Millisecond, nil)
	m.observe("a", 0, errors.New("x"))
	m.observe("a", 0, errors.New("x"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		metric := mf.GetMetric()[0]
		switch mf.GetName() {
		case "ns_probe_latency_seconds", "ns_probe_a_latency_ms":
			h := metric.GetHistogram()
			scale := 1.0
			if mf.GetName() == "ns_probe_latency_seconds" {
				scale = 1000
			}
			b := h.GetBucket()
			if len(b) != 16 || b[0].GetUpperBound()*scale != 0.25 || b[15].GetUpperBound()*scale != 8192 {
				t.Errorf("%s: buckets %v", mf.GetName(), b)
			}
			if h.GetSampleCount() != 1 || h.GetSampleSum()*scale < 2.999 || h.GetSampleSum()*scale > 3.001 {
				t.Errorf("%s: count %d sum %v", mf.GetName(), h.GetSampleCount(), h.GetSampleSum())
			}
		case "ns_probe_errors_total", "ns_probe_a_errors":
			if v := metric.GetCounter().GetValue(); v != 2 {
				t.Errorf("%s = %v, want 2", mf.GetName(), v)
			}
		default:
			t.Errorf("unexpected metric %s", mf.GetName())
		}
		if l := metric.GetLabel(); len(l) > 0 && (len(l) != 1 || l[0].GetName() != "probe" || l[0].GetValue() != "a") {
			t.Errorf("%s: labels %v", mf.GetName(), l)
		}
	}
	if _, err := NewProbeMetrics(prometheus.NewRegistry(), "ns", []string{"a", "a"}); err == nil {
		t.Error("duplicate labels: no error")
	}
	if _, err := NewProbeMetrics(reg, "ns", []string{"a"}); err == nil {
		t.Error("registering twice: no error")
	}
}
