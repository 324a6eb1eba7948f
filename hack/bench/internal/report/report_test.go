package report

import (
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"strings"
	"testing"
	"time"
)

// TestRenderReport renders a report of made-up results: the new rows,
// columns and tables, and issue 16's targets.
func TestRenderReport(t *testing.T) {
	cfg := &measure.Config{Root: t.TempDir(), Rate: 5000, CPURate: 20000, Rounds: 2, Duration: 10 * time.Second, PerfDuration: 4 * time.Second,
		PerfSettings: []measure.PerfSetting{{Clients: 4, Threads: 2, Outstanding: 100}, {Clients: 1, Threads: 1, Outstanding: 64}, {Clients: 8, Threads: 2, Outstanding: 200}},
		Only:         measure.Measurements}
	byName := map[string]contender.Contender{}
	for _, c := range contender.All() {
		byName[c.Name] = c
	}
	perf := func(qps float64) *measure.Perf {
		return &measure.Perf{QPS: qps, Completed: 200000, RunTime: 10, Rcodes: map[string]int64{"NOERROR": 200000},
			Latencies: []float64{0.0001, 0.0002}, CPU: measure.CPUSplit{Server: 0.5, Dnsperf: 0.4, Idle: 0.05, ServerSec: 2}}
	}
	res := func(name string, hits, misses float64, cpuSec float64) *measure.Result {
		r := &measure.Result{C: byName[name], RSSSync: 40 << 10, RSSLoad: 50 << 10, StartToAnswer: 200 * time.Millisecond}
		for _, st := range cfg.PerfSettings {
			r.Sat = append(r.Sat, measure.SatRuns{Setting: st, Hits: []*measure.Perf{perf(hits), perf(hits * 0.9)}, Misses: []*measure.Perf{perf(misses)}})
		}
		r.Hits, r.Misses = measure.Best(r.Sat[0].Hits), measure.Best(r.Sat[0].Misses)
		r.Fixed, r.CPU = perf(5000), perf(20000)
		r.CPU.CPU.ServerSec = cpuSec
		return r
	}
	kd := res("kubedns", 120000, 110000, 1.0)
	kd.Relist = &measure.RelistResult{Steady: 46 << 10, Peak: 52 << 10}
	cd := res("coredns", 50000, 50000, 4)
	cd.RSSLoad, cd.StartToAnswer = 200<<10, 700*time.Millisecond
	sr := &measure.Size{N: 10000, Results: []*measure.Result{
		kd, res("pod", 20000, 25000, 3), cd, res("knot", 100000, 115000, 1.2),
		{C: byName["nsd"], Skip: "nsd is missing (Debian package nsd: apt-get install -y nsd)"},
		res("static-mmsg", 150000, 150000, 0.5),
	}}
	report := Markdown(cfg, machine{}, []*measure.Size{sr}, time.Minute, nil)
	for _, want := range []string{
		"| CPU s / M answers at 20000 qps |",
		"| kubedns | 120,000 | 110,000 |",
		"| nsd | skipped |",
		"nsd: skipped: nsd is missing",
		"### dnsperf settings, N = 10000",
		"| contender | `-c 4 -T 2 -q 100` | `-c 1 -T 1 -q 64` | `-c 8 -T 2 -q 200` |",
		"| kubedns | 120,000 (−10%) / 110,000 |",
		"| kubedns | 50% / 40% / 5% |",
		"## Targets (issue 16)",
		"| hits QPS vs the better of Knot and NSD, `-c 4 -T 2 -q 100` | 10000 | 120,000 | 100,000 (knot) | 1.20× | ≥ 1.0× | PASS |",
		"| misses QPS vs the better of Knot and NSD, `-c 1 -T 1 -q 64` | 10000 | 110,000 | 115,000 (knot) | 0.96× | ≥ 1.0× | FAIL |",
		"| CPU s per million answers at 20000 qps vs Knot | 10000 | 5.00 s | 6.00 s | 0.83× | ≤ 1× | PASS |",
		"| RSS after load vs the smaller CoreDNS | 10000 | 50.0 MiB | 200.0 MiB (coredns) | 0.25× | ≤ 0.35× | PASS |",
		"| start to first answer vs the faster CoreDNS | 10000 | 200.0 ms | 700.0 ms (coredns) | 0.29× | ≤ 0.33× | PASS |",
		"| peak RSS through a full relist vs steady RSS | 10000 | 52.0 MiB | 46.0 MiB (steady) | 1.13× | ≤ 1.3× | PASS |",
		"| pod (dnsmasq in front): hits QPS, p99 at 5000 qps | 10000 | 20,000, 0.200 ms |",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(report)
	}
}
