package main

import (
	"strings"
	"testing"
	"time"
)

// TestRenderReport renders a report of made-up results: the new rows,
// columns and tables, and issue 16's targets.
func TestRenderReport(t *testing.T) {
	t.Setenv("BENCH_QUICK", "")
	t.Setenv("BENCH_PERF_SETTINGS", "")
	cfg, err := parseConfig([]string{"--root", t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]contender{}
	for _, c := range allContenders() {
		byName[c.name] = c
	}
	perf := func(qps float64) *perfResult {
		return &perfResult{qps: qps, completed: 200000, runTime: 10, rcodes: map[string]int64{"NOERROR": 200000},
			latencies: []float64{0.0001, 0.0002}, cpu: cpuSplit{server: 0.5, dnsperf: 0.4, idle: 0.05, serverSec: 2}}
	}
	res := func(name string, hits, misses float64, cpuSec float64) *result {
		r := &result{c: byName[name], rssSync: 40 << 10, rssLoad: 50 << 10, startToAnswer: 200 * time.Millisecond}
		for _, st := range cfg.perfSettings {
			r.sat = append(r.sat, satRuns{setting: st, hits: []*perfResult{perf(hits), perf(hits * 0.9)}, misses: []*perfResult{perf(misses)}})
		}
		r.hits, r.misses = best(r.sat[0].hits), best(r.sat[0].misses)
		r.fixed, r.cpu = perf(5000), perf(20000)
		r.cpu.cpu.serverSec = cpuSec
		return r
	}
	kd := res("kubedns", 120000, 110000, 1.0)
	kd.relist = &relistResult{steady: 46 << 10, peak: 52 << 10}
	cd := res("coredns", 50000, 50000, 4)
	cd.rssLoad, cd.startToAnswer = 200<<10, 700*time.Millisecond
	sr := &sizeResult{n: 10000, results: []*result{
		kd, res("pod", 20000, 25000, 3), cd, res("knot", 100000, 115000, 1.2),
		{c: byName["nsd"], skip: "nsd is missing (Debian package nsd: apt-get install -y nsd)"},
		res("static-mmsg", 150000, 150000, 0.5),
	}}
	report := renderReport(cfg, machine{}, []*sizeResult{sr}, time.Minute, nil)
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
