package apiretry

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func counter(t *testing.T, m *Metrics, resource string, c Cause) float64 {
	t.Helper()
	return testutil.ToFloat64(m.errors.WithLabelValues(resource, string(c)))
}

func gauge(t *testing.T, m *Metrics, resource string) float64 {
	t.Helper()
	return testutil.ToFloat64(m.unreachable.WithLabelValues(resource))
}

// TestMetricsLint: the names, types and help texts pass promlint, and a
// resource exports a zero for every cause before anything fails.
func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	New("services", Options{Metrics: m})
	m.failed("services", TLS)
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 0 {
		t.Errorf("promlint: %v", problems)
	}
	if n := testutil.CollectAndCount(m.errors); n != len(Causes) {
		t.Errorf("%d series of kubedns_api_errors_total, want one per cause (%d)", n, len(Causes))
	}
}

// TestMetricsShared: the watches and the ConfigMap source create their
// metrics on one registry; the second gets the first's collectors.
func TestMetricsShared(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	a.failed("services", Forbidden)
	b.failed("configmaps", Forbidden)
	if got := counter(t, b, "services", Forbidden) + counter(t, a, "configmaps", Forbidden); got != 2 {
		t.Errorf("shared counters hold %v, want 2", got)
	}
}
