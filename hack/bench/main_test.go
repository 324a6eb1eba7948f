package main

import (
	"slices"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
)

func TestParseArgs(t *testing.T) {
	for _, k := range []string{"BENCH_QUICK", "BENCH_PERF_SETTINGS", "BENCH_ROUNDS", "BENCH_CPU_RATE", "BENCH_PERF_DURATION", "BENCH_CONTENDERS", "BENCH_ONLY", "BENCH_SIZES"} {
		t.Setenv(k, "")
	}
	root := t.TempDir()
	parse := func(args ...string) *measure.Config {
		t.Helper()
		r, err := parseArgs(append([]string{"--root", root}, args...))
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return r.cfg
	}
	want := []measure.PerfSetting{{Clients: 4, Threads: 2, Outstanding: 100}, {Clients: 1, Threads: 1, Outstanding: 64}, {Clients: 8, Threads: 2, Outstanding: 200}}
	if cfg := parse(); !slices.Equal(cfg.PerfSettings, want) || cfg.Rounds != 2 || cfg.CPURate != 20000 || cfg.PerfDuration != 4*time.Second || cfg.Out == "" {
		t.Errorf("defaults: %+v", cfg)
	}
	if cfg := parse("--quick"); !slices.Equal(cfg.PerfSettings, want[:1]) || cfg.Rounds != 1 || cfg.Out != "" || !slices.Equal(cfg.Sizes, []int{200}) {
		t.Errorf("quick: %+v", cfg)
	}
	if cfg := parse("--only= relist,dnsperf,relist"); !slices.Equal(cfg.Only, []string{"relist", "dnsperf"}) || cfg.Out != "" {
		t.Errorf("--only: %v, out %q", cfg.Only, cfg.Out)
	}
	if cfg := parse("--only=sizing", "--sizes=1000,2000"); !slices.Equal(cfg.Contenders, []string{"kubedns"}) || cfg.Out != "" || !slices.Equal(cfg.Sizes, []int{1000, 2000}) {
		t.Errorf("sizing: %+v", cfg)
	}
	t.Setenv("BENCH_PERF_SETTINGS", "1:1:10,2:2:20")
	t.Setenv("BENCH_ROUNDS", "3")
	t.Setenv("BENCH_CPU_RATE", "1000")
	if cfg := parse(); !slices.Equal(cfg.PerfSettings, []measure.PerfSetting{{Clients: 1, Threads: 1, Outstanding: 10}, {Clients: 2, Threads: 2, Outstanding: 20}}) || cfg.Rounds != 3 || cfg.CPURate != 1000 {
		t.Errorf("from the environment: %+v", cfg)
	}
	for _, bad := range [][]string{{"--rounds=0"}, {"--perf-settings=1:1"}, {"--only=relist,qps"}, {"--sizes=5"}, {"--contenders=bind"}, {"extra"}} {
		if _, err := parseArgs(append([]string{"--root", root}, bad...)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	// The targets as built in: every line is valid.
	if targets, err := report.ParseTargets(defaultTargets); err != nil || len(targets) < 15 {
		t.Errorf("%d targets, %v", len(targets), err)
	}
}
