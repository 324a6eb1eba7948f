package config

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/util/wait"
)

// deadline bounds every wait of these tests.
const deadline = 10 * time.Second

// run starts src and returns the channel it sends on. At cleanup it cancels
// the source and checks that Run returns nil promptly, without anyone
// reading the channel.
func run(t *testing.T, src Source) <-chan *Config {
	t.Helper()
	return runContext(t, context.Background(), src)
}

// runContext is run with a context, for its logger.
func runContext(t *testing.T, ctx context.Context, src Source) <-chan *Config {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan *Config)
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, ch) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(deadline):
			t.Errorf("Run did not return after its context ended")
		}
	})
	return ch
}

// recv returns the next configuration sent on ch.
func recv(t *testing.T, ch <-chan *Config) *Config {
	t.Helper()
	select {
	case c := <-ch:
		if c == nil {
			t.Fatal("received a nil configuration")
		}
		return c
	case <-time.After(deadline):
		t.Fatal("no configuration received")
		return nil
	}
}

// expect receives the next configuration and checks its effect.
func expect(t *testing.T, ch <-chan *Config, want *Config) *Config {
	t.Helper()
	got := recv(t, ch)
	if !sameEffect(got, want) {
		t.Fatalf("received %+v, want %+v", got, want)
	}
	return got
}

// expectNothing checks that no configuration is waiting on ch.
func expectNothing(t *testing.T, ch <-chan *Config) {
	t.Helper()
	select {
	case c := <-ch:
		t.Fatalf("received %+v, want nothing", c)
	default:
	}
}

// waitFor polls cond every millisecond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, deadline, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// metricValue returns the value of a counter or gauge gathered from reg,
// and 0 if it is absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if matchLabels(m, labels) {
				if c := m.GetCounter(); c != nil {
					return c.GetValue()
				}
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func matchLabels(m *dto.Metric, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		found := false
		for _, lp := range m.GetLabel() {
			found = found || (lp.GetName() == kv[i] && lp.GetValue() == kv[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

func rejected(t *testing.T, reg *prometheus.Registry, key string) float64 {
	t.Helper()
	return metricValue(t, reg, "kubedns_config_rejected_total", "key", key)
}

func updates(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	return metricValue(t, reg, "kubedns_config_updates_total")
}

func newTestMetrics() (*Metrics, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	return NewMetrics(reg, "kubedns"), reg
}

func TestStatic(t *testing.T) {
	tests := []struct {
		name string
		in   *Config
		want *Config
	}{
		{"nil means defaults", nil, Default()},
		{"given", &Config{UpstreamNameservers: []string{"1.1.1.1:53"}}, &Config{UpstreamNameservers: []string{"1.1.1.1:53"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := run(t, NewStatic(tt.in))
			expect(t, ch, tt.want)
			expectNothing(t, ch)
		})
	}
	t.Run("stops unsent", func(t *testing.T) {
		run(t, NewStatic(nil)) // nobody reads: the cleanup checks Run returns
	})
}

func TestMetrics(t *testing.T) {
	m, reg := newTestMetrics()
	m.reject(KeyStubDomains)
	m.applied()
	m.reloaded()
	const want = `
# HELP kubedns_config_rejected_total Number of kube-dns configuration updates rejected as invalid, by the ConfigMap key at fault. The last good configuration stays in force.
# TYPE kubedns_config_rejected_total counter
kubedns_config_rejected_total{key="federations"} 0
kubedns_config_rejected_total{key="stubDomains"} 1
kubedns_config_rejected_total{key="upstreamNameservers"} 0
# HELP kubedns_config_updates_total Number of valid kube-dns configurations applied, the first one included.
# TYPE kubedns_config_updates_total counter
kubedns_config_updates_total 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "kubedns_config_rejected_total", "kubedns_config_updates_total"); err != nil {
		t.Error(err)
	}
	if v := metricValue(t, reg, "kubedns_config_last_reload_success_timestamp_seconds"); v < float64(time.Now().Add(-time.Hour).Unix()) {
		t.Errorf("last reload timestamp %v, want about now", v)
	}

	again := NewMetrics(reg, "kubedns") // reuses the registered collectors
	again.reject(KeyStubDomains)
	if v := rejected(t, reg, KeyStubDomains); v != 2 {
		t.Errorf("rejected after a second NewMetrics = %v, want 2", v)
	}

	var nilMetrics *Metrics
	nilMetrics.reject("x")
	nilMetrics.applied()
	nilMetrics.reloaded()
	NewMetrics(nil, "").reject("x") // unregistered but usable
}
