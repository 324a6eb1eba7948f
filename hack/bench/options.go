package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
	"github.com/kubedns-go/kube-dns/pkg/localcluster"
)

// parseArgs reads the flags into a run. Each flag has an environment
// variable, BENCH_ and its name in capitals (BENCH_PERF_SETTINGS), that the
// flag overrides. The quick mode changes the other flags' defaults, so it
// is read first.
func parseArgs(args []string) (*runner, error) {
	quick, _ := strconv.ParseBool(os.Getenv("BENCH_QUICK"))
	cfg := &measure.Config{Quick: quick || slices.Contains(args, "--quick") || slices.Contains(args, "--quick=true")}
	sizes, duration, perfDuration, prop, propTimeout, rounds, settings := []int{1000, 10000}, 10*time.Second, 4*time.Second, 30, 5*time.Second, 2, "4:2:100,1:1:64,8:2:200"
	if cfg.Quick {
		sizes, duration, perfDuration, prop, propTimeout, rounds, settings = []int{200}, 2*time.Second, 2*time.Second, 10, 2*time.Second, 1, "4:2:100"
	}
	var targets string
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	fs.StringVar(&cfg.Root, "root", "", "repository root (default: found from the working directory)")
	fs.BoolVar(&cfg.Quick, "quick", cfg.Quick, "smoke test: N=200, 2 s runs, one round of the first setting (BENCH_QUICK=1)")
	fs.IntSliceVar(&cfg.Sizes, "sizes", sizes, "comma-separated numbers of Services (BENCH_SIZES)")
	fs.DurationVar(&cfg.Duration, "duration", duration, "length of each fixed-rate dnsperf run: latency, CPU (BENCH_DURATION)")
	fs.DurationVar(&cfg.PerfDuration, "perf-duration", perfDuration, "length of each saturating dnsperf run (BENCH_PERF_DURATION)")
	fs.IntVar(&cfg.Rate, "rate", 5000, "queries per second of the fixed-rate runs (BENCH_RATE)")
	fs.IntVar(&cfg.CPURate, "cpu-rate", 20000, "queries per second of the run measuring CPU per answer (BENCH_CPU_RATE)")
	fs.StringVar(&settings, "perf-settings", settings, "dnsperf settings of the saturating runs, clients:threads:outstanding,…; the fixed-rate runs take the first's -c and -q (BENCH_PERF_SETTINGS)")
	fs.IntVar(&cfg.StartRuns, "starts", 3, "starts of each contender to time the first answer, the median reported (BENCH_STARTS)")
	fs.IntVar(&cfg.Rounds, "rounds", rounds, "rounds of the saturating runs, the best kept (BENCH_ROUNDS)")
	fs.IntVar(&cfg.PropCount, "propagation", prop, "Services created under load to time propagation (BENCH_PROPAGATION)")
	fs.DurationVar(&cfg.PropTimeout, "propagation-timeout", propTimeout, "give up on one of them after this long (BENCH_PROPAGATION_TIMEOUT)")
	fs.StringSliceVar(&cfg.Contenders, "contenders", nil, "contenders to run (BENCH_CONTENDERS; default all but kubedns-watchlist and kubedns-baseline, which run only when named; with --only=sizing, kubedns)")
	fs.StringSliceVar(&cfg.Only, "only", measure.Measurements, "measurements to run besides start and RSS: "+strings.Join(measure.Measurements, ", ")+", or sizing (BENCH_ONLY)")
	fs.StringVar(&cfg.Out, "out", "", "report file, chart.svg beside it (BENCH_OUT; default hack/bench/results.md; in quick mode and with --only, only the run directory)")
	fs.StringVar(&cfg.Coredns, "coredns", "", "CoreDNS binary (BENCH_COREDNS; default _output/bin/coredns-v1.14.7/coredns)")
	fs.StringVar(&cfg.Baseline, "baseline-kubedns", "", "another kube-dns binary for the opt-in kubedns-baseline contender (BENCH_BASELINE_KUBEDNS)")
	fs.StringSliceVar(&cfg.BaselineEnv, "baseline-env", nil, "NAME=VALUE,… added to kubedns-baseline's environment")
	fs.StringVar(&targets, "targets", "", "targets file (BENCH_TARGETS; default hack/bench/targets.txt as built in)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		env := "BENCH_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := os.Getenv(env); v != "" && !f.Changed && err == nil {
			if err = f.Value.Set(v); err != nil {
				err = fmt.Errorf("%s: %w", env, err)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.PerfSettings, err = measure.ParsePerfSettings(settings); err != nil {
		return nil, err
	}
	if err := check(cfg); err != nil {
		return nil, err
	}
	text := defaultTargets
	if targets != "" {
		b, err := os.ReadFile(targets)
		if err != nil {
			return nil, err
		}
		text = string(b)
	}
	t, err := report.ParseTargets(text)
	return &runner{cfg: cfg, targets: t}, err
}

// check checks the configuration and fills in the defaults that depend on
// other flags: the contenders, the paths (absolute) and the report.
func check(cfg *measure.Config) error {
	if min(cfg.Rate, cfg.CPURate, cfg.Rounds, cfg.StartRuns) < 1 || cfg.PropCount < 0 || min(cfg.Duration, cfg.PerfDuration) < time.Second || cfg.PropTimeout <= 0 {
		return fmt.Errorf("rate, cpu-rate, rounds, starts and propagation-timeout must be positive, propagation not negative, durations at least 1s")
	}
	if slices.ContainsFunc(cfg.Sizes, func(n int) bool { return n < 10 }) {
		return fmt.Errorf("sizes: %v: every N must be at least 10", cfg.Sizes)
	}
	known, only := append(slices.Clone(measure.Measurements), measure.Sizing), []string{}
	for _, m := range cfg.Only {
		if m = strings.TrimSpace(m); !slices.Contains(known, m) {
			return fmt.Errorf("only: unknown measurement %q (known: %s)", m, strings.Join(known, ", "))
		} else if !slices.Contains(only, m) {
			only = append(only, m)
		}
	}
	if cfg.Only = only; len(only) == 0 {
		return fmt.Errorf("only: no measurement")
	}
	switch {
	case len(cfg.Contenders) == 0 && cfg.Measures(measure.Sizing):
		cfg.Contenders = []string{"kubedns"}
	case len(cfg.Contenders) == 0:
		cfg.Contenders = contender.Names(false)
	}
	for _, c := range cfg.Contenders {
		if !slices.Contains(contender.Names(true), c) {
			return fmt.Errorf("contenders: unknown %q (known: %s)", c, strings.Join(contender.Names(true), ", "))
		}
	}
	var err error
	if cfg.Root == "" {
		if cfg.Root, err = localcluster.Root(); err != nil {
			return err
		}
	}
	if cfg.Coredns == "" {
		cfg.Coredns = filepath.Join(cfg.Root, "_output/bin/coredns-v1.14.7/coredns")
	}
	for _, p := range []*string{&cfg.Root, &cfg.Coredns, &cfg.Out} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return err
			}
		}
	}
	cfg.RunDir = filepath.Join(cfg.Root, "_output/bench", "run-"+time.Now().Format("20060102-150405"))
	// hack/bench/results.md holds a whole run: a run of some measurements
	// only goes there (or anywhere) only when --out says so.
	if cfg.Out == "" && !cfg.Quick && len(cfg.Only) == len(measure.Measurements) && !cfg.Measures(measure.Sizing) {
		cfg.Out = filepath.Join(cfg.Root, "hack/bench/results.md")
	}
	return nil
}
