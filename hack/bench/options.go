package main

import (
	"errors"
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

// options are the flags as given; each has an environment variable, BENCH_
// and its name in capitals (BENCH_PERF_SETTINGS), that the flag overrides.
type options struct {
	quick                                                      bool
	root, sizes, duration, perfDuration, settings, propTimeout string
	contenders, only, out, coredns, baseline, targets          string
	rate, cpuRate, clients, threads, outstanding, starts       int
	rounds, propCount                                          int
	baselineEnv                                                []string
}

// quickArg reports whether the quick mode is on: it changes the other
// flags' defaults, so it is read first.
func quickArg(args []string) bool {
	quick, _ := strconv.ParseBool(os.Getenv("BENCH_QUICK"))
	return quick || slices.Contains(args, "--quick") || slices.Contains(args, "--quick=true")
}

func addFlags(fs *pflag.FlagSet, o *options) {
	sizes, duration, perfDuration, prop, propTimeout, rounds := "1000,10000", "10s", "4s", 30, "5s", 2
	if o.quick {
		sizes, duration, perfDuration, prop, propTimeout, rounds = "200", "2s", "2s", 10, "2s", 1
	}
	fs.StringVar(&o.root, "root", "", "repository root (default: found from the working directory)")
	fs.BoolVar(&o.quick, "quick", o.quick, "smoke test: N=200, 2 s runs (BENCH_QUICK=1)")
	fs.StringVar(&o.sizes, "sizes", sizes, "comma-separated numbers of Services (BENCH_SIZES)")
	fs.StringVar(&o.duration, "duration", duration, "length of each fixed-rate dnsperf run: latency, CPU (BENCH_DURATION)")
	fs.StringVar(&o.perfDuration, "perf-duration", perfDuration, "length of each saturating dnsperf run (BENCH_PERF_DURATION)")
	fs.IntVar(&o.rate, "rate", 5000, "queries per second of the fixed-rate runs (BENCH_RATE)")
	fs.IntVar(&o.cpuRate, "cpu-rate", 20000, "queries per second of the run measuring CPU per answer (BENCH_CPU_RATE)")
	fs.IntVar(&o.clients, "clients", 4, "dnsperf -c (BENCH_CLIENTS)")
	fs.IntVar(&o.threads, "threads", 2, "dnsperf -T of the saturating runs (BENCH_THREADS)")
	fs.IntVar(&o.outstanding, "outstanding", 100, "dnsperf -q (BENCH_OUTSTANDING)")
	fs.StringVar(&o.settings, "perf-settings", "",
		"dnsperf settings of the saturating runs, clients:threads:outstanding,… (BENCH_PERF_SETTINGS; default --clients:--threads:--outstanding,"+measure.ExtraSettings+"; in quick mode the first only)")
	fs.IntVar(&o.starts, "starts", 3, "starts of each contender to time the first answer, the median reported (BENCH_STARTS)")
	fs.IntVar(&o.rounds, "rounds", rounds, "rounds of the saturating runs, the best kept (BENCH_ROUNDS; quick mode 1)")
	fs.IntVar(&o.propCount, "propagation", prop, "Services created under load to time propagation (BENCH_PROPAGATION)")
	fs.StringVar(&o.propTimeout, "propagation-timeout", propTimeout, "give up on one of them after this long (BENCH_PROPAGATION_TIMEOUT)")
	fs.StringVar(&o.contenders, "contenders", "", "comma-separated contenders to run (BENCH_CONTENDERS; default all but kubedns-watchlist and kubedns-baseline, which run only when named; with --only=sizing, kubedns)")
	fs.StringVar(&o.only, "only", strings.Join(measure.Measurements, ","), "comma-separated measurements to run besides start and RSS: "+strings.Join(measure.Measurements, ", ")+", or sizing (BENCH_ONLY)")
	fs.StringVar(&o.out, "out", "", "report file, chart.svg beside it (BENCH_OUT; default hack/bench/results.md; in quick mode and with --only, only the run directory)")
	fs.StringVar(&o.coredns, "coredns", "", "CoreDNS binary (BENCH_COREDNS; default _output/bin/coredns-v1.14.7/coredns)")
	fs.StringVar(&o.baseline, "baseline-kubedns", "", "another kube-dns binary (another commit's build) for the opt-in kubedns-baseline contender (BENCH_BASELINE_KUBEDNS)")
	fs.StringSliceVar(&o.baselineEnv, "baseline-env", nil, "NAME=VALUE,… added to kubedns-baseline's environment")
	fs.StringVar(&o.targets, "targets", "", "targets file (BENCH_TARGETS; default hack/bench/targets.txt as built in)")
}

// parseArgs reads the flags into a run.
func parseArgs(args []string) (*runner, error) {
	o := &options{quick: quickArg(args)}
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	addFlags(fs, o)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := fromEnv(fs); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg, err := o.config()
	if err != nil {
		return nil, err
	}
	text := defaultTargets
	if o.targets != "" {
		b, err := os.ReadFile(o.targets)
		if err != nil {
			return nil, err
		}
		text = string(b)
	}
	targets, err := report.ParseTargets(text)
	return &runner{cfg: cfg, targets: targets}, err
}

// config checks the options and makes them a measure.Config.
func (o *options) config() (*measure.Config, error) {
	cfg := &measure.Config{Root: o.root, Rate: o.rate, CPURate: o.cpuRate, Clients: o.clients, Threads: o.threads,
		Outstanding: o.outstanding, Rounds: o.rounds, StartRuns: o.starts, PropCount: o.propCount, Out: o.out,
		Coredns: o.coredns, Baseline: o.baseline, BaselineEnv: o.baselineEnv, Quick: o.quick}
	if cfg.Rate < 1 || cfg.CPURate < 1 || cfg.Clients < 1 || cfg.Threads < 1 || cfg.Outstanding < 1 || cfg.Rounds < 1 || cfg.StartRuns < 1 || cfg.PropCount < 0 {
		return nil, errors.New("rate, cpu-rate, clients, threads, outstanding, rounds and starts must be positive, propagation not negative")
	}
	var err error
	if cfg.Sizes, err = parseSizes(o.sizes); err != nil {
		return nil, err
	}
	if err := o.durations(cfg); err != nil {
		return nil, err
	}
	if cfg.PerfSettings, err = o.perfSettings(); err != nil {
		return nil, err
	}
	if cfg.Only, err = parseOnly(o.only); err != nil {
		return nil, err
	}
	if cfg.Contenders, err = parseContenders(o.contenders, cfg.Measures("sizing")); err != nil {
		return nil, err
	}
	return cfg, paths(cfg)
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("sizes: %q is not a number of Services ≥ 10", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func (o *options) durations(cfg *measure.Config) error {
	for _, d := range []struct {
		flag, value string
		min         time.Duration
		to          *time.Duration
	}{
		{"duration", o.duration, time.Second, &cfg.Duration},
		{"perf-duration", o.perfDuration, time.Second, &cfg.PerfDuration},
		{"propagation-timeout", o.propTimeout, time.Millisecond, &cfg.PropTimeout},
	} {
		v, err := time.ParseDuration(d.value)
		if err != nil || v < d.min {
			return fmt.Errorf("%s: %q is not a duration of at least %s", d.flag, d.value, d.min)
		}
		*d.to = v
	}
	return nil
}

// perfSettings are --perf-settings, by default the main setting
// (--clients, --threads, --outstanding) and, but in quick mode, the others.
func (o *options) perfSettings() ([]measure.PerfSetting, error) {
	list := o.settings
	if list == "" {
		list = fmt.Sprintf("%d:%d:%d", o.clients, o.threads, o.outstanding)
		if !o.quick {
			list += "," + measure.ExtraSettings
		}
	}
	return measure.ParsePerfSettings(list)
}

func parseOnly(s string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(measure.Measurements, m) && m != measure.Sizing {
			return nil, fmt.Errorf("only: unknown measurement %q (known: %s, %s)", m, strings.Join(measure.Measurements, ", "), measure.Sizing)
		}
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("only: no measurement")
	}
	return out, nil
}

// parseContenders reads --contenders; empty, it is every contender but the
// opt-in ones, or kubedns alone for the sizing series.
func parseContenders(s string, sizing bool) ([]string, error) {
	switch {
	case s == "" && sizing:
		return []string{"kubedns"}, nil
	case s == "":
		return contender.Names(false), nil
	}
	var out []string
	for _, c := range strings.Split(s, ",") {
		c = strings.TrimSpace(c)
		if !slices.Contains(contender.Names(true), c) {
			return nil, fmt.Errorf("contenders: unknown %q (known: %s)", c, strings.Join(contender.Names(true), ", "))
		}
		out = append(out, c)
	}
	return out, nil
}

// paths fills in the root, the CoreDNS binary, the run directory and the
// report, all absolute.
func paths(cfg *measure.Config) error {
	var err error
	if cfg.Root == "" {
		if cfg.Root, err = localcluster.Root(); err != nil {
			return err
		}
	}
	if cfg.Coredns == "" {
		cfg.Coredns = filepath.Join(cfg.Root, "_output/bin/coredns-v1.14.7/coredns")
	}
	for _, p := range []*string{&cfg.Coredns, &cfg.Out} {
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

// fromEnv sets each flag not given on the command line from its variable:
// --perf-settings from BENCH_PERF_SETTINGS.
func fromEnv(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if v := os.Getenv(envName(f.Name)); v != "" && !f.Changed && err == nil {
			if err = f.Value.Set(v); err != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), err)
			}
		}
	})
	return err
}

func envName(flag string) string {
	return "BENCH_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}
