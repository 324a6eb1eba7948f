package main

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
)

func TestParseOnly(t *testing.T) {
	got, err := parseOnly(" relist,dnsperf,relist")
	if err != nil || strings.Join(got, ",") != "relist,dnsperf" {
		t.Errorf("parseOnly = %v, %v", got, err)
	}
	for _, bad := range []string{"", "relist,qps"} {
		if _, err := parseOnly(bad); err == nil {
			t.Errorf("parseOnly(%q): no error", bad)
		}
	}
}

func TestParseConfigSettings(t *testing.T) {
	for _, k := range []string{"BENCH_QUICK", "BENCH_PERF_SETTINGS", "BENCH_ROUNDS", "BENCH_CLIENTS", "BENCH_THREADS", "BENCH_OUTSTANDING", "BENCH_CPU_RATE", "BENCH_PERF_DURATION"} {
		t.Setenv(k, "")
	}
	root := t.TempDir()
	cfg, err := parseConfig([]string{"--root", root})
	if err != nil {
		t.Fatal(err)
	}
	want := []measure.PerfSetting{{Clients: 4, Threads: 2, Outstanding: 100}, {Clients: 1, Threads: 1, Outstanding: 64}, {Clients: 8, Threads: 2, Outstanding: 200}}
	if !slices.Equal(cfg.PerfSettings, want) || cfg.Rounds != 2 || cfg.CPURate != 20000 || cfg.PerfDuration != 4*time.Second {
		t.Errorf("defaults: settings %v, rounds %d, cpu rate %d, perf duration %s", cfg.PerfSettings, cfg.Rounds, cfg.CPURate, cfg.PerfDuration)
	}
	cfg, err = parseConfig([]string{"--root", root, "--clients=2", "--threads=1"})
	if err != nil || cfg.PerfSettings[0] != (measure.PerfSetting{Clients: 2, Threads: 1, Outstanding: 100}) || len(cfg.PerfSettings) != 3 {
		t.Errorf("--clients=2 --threads=1: %v, %v", cfg.PerfSettings, err)
	}
	cfg, err = parseConfig([]string{"--root", root, "--quick"})
	if err != nil || !slices.Equal(cfg.PerfSettings, want[:1]) || cfg.Rounds != 1 {
		t.Errorf("quick: %v rounds %d, %v", cfg.PerfSettings, cfg.Rounds, err)
	}
	t.Setenv("BENCH_PERF_SETTINGS", "1:1:10,2:2:20")
	t.Setenv("BENCH_ROUNDS", "3")
	t.Setenv("BENCH_CPU_RATE", "1000")
	cfg, err = parseConfig([]string{"--root", root})
	if err != nil || !slices.Equal(cfg.PerfSettings, []measure.PerfSetting{{Clients: 1, Threads: 1, Outstanding: 10}, {Clients: 2, Threads: 2, Outstanding: 20}}) || cfg.Rounds != 3 || cfg.CPURate != 1000 {
		t.Errorf("from the environment: %v rounds %d cpu rate %d, %v", cfg.PerfSettings, cfg.Rounds, cfg.CPURate, err)
	}
	if _, err := parseConfig([]string{"--root", root, "--rounds=0"}); err == nil {
		t.Error("--rounds=0 accepted")
	}
	if _, err := parseConfig([]string{"--root", root, "--perf-settings=1:1"}); err == nil {
		t.Error("--perf-settings=1:1 accepted")
	}
}

// parseConfig is parseArgs's configuration.
func parseConfig(args []string) (*measure.Config, error) {
	r, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	return r.cfg, nil
}

func TestSizingDefaults(t *testing.T) {
	t.Setenv("BENCH_CONTENDERS", "")
	cfg, err := parseConfig([]string{"--root", t.TempDir(), "--only=sizing", "--sizes=1000,2000"})
	if err != nil || !slices.Equal(cfg.Contenders, []string{"kubedns"}) || cfg.Out != "" || !slices.Equal(cfg.Sizes, []int{1000, 2000}) {
		t.Errorf("sizing: %+v, %v", cfg, err)
	}
}

// TestTargetsFile parses the targets as built in: every line is valid.
func TestTargetsFile(t *testing.T) {
	targets, err := report.ParseTargets(defaultTargets)
	if err != nil || len(targets) < 15 {
		t.Errorf("%d targets, %v", len(targets), err)
	}
}
