package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
	"github.com/kubedns-go/kube-dns/pkg/localcluster"
	"github.com/spf13/pflag"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 {
		sub := map[string]func([]string) error{"static": contender.RunStatic, "static-mmsg": contender.RunStaticMMsg}[os.Args[1]]
		if sub != nil {
			if err := sub(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	cfg, err := ParseConfig(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the harness at once
	}()
	err = run(ctx, cfg)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func ParseConfig(args []string) (*measure.Config, error) {
	quick := envBool("BENCH_QUICK")
	for _, a := range args { // the quick mode changes the other flags' defaults
		if a == "--quick" || a == "--quick=true" {
			quick = true
		}
	}
	sizes, duration, perfDuration, prop, propTimeout, rounds := "1000,10000", "10s", "4s", 30, "5s", 2
	if quick {
		sizes, duration, perfDuration, prop, propTimeout, rounds = "200", "2s", "2s", 10, "2s", 1
	}
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	root := fs.String("root", "", "repository root (default: found from the working directory)")
	fs.BoolVar(&quick, "quick", quick, "smoke test: N=200, 2 s runs (BENCH_QUICK=1)")
	sizesFlag := fs.String("sizes", env("BENCH_SIZES", sizes), "comma-separated numbers of Services (BENCH_SIZES)")
	durFlag := fs.String("duration", env("BENCH_DURATION", duration), "length of each fixed-rate dnsperf run: latency, CPU (BENCH_DURATION)")
	perfDurFlag := fs.String("perf-duration", env("BENCH_PERF_DURATION", perfDuration), "length of each saturating dnsperf run (BENCH_PERF_DURATION)")
	rate := fs.Int("rate", envInt("BENCH_RATE", 5000), "queries per second of the fixed-rate runs (BENCH_RATE)")
	cpuRate := fs.Int("cpu-rate", envInt("BENCH_CPU_RATE", 20000), "queries per second of the run measuring CPU per answer (BENCH_CPU_RATE)")
	clients := fs.Int("clients", envInt("BENCH_CLIENTS", 4), "dnsperf -c (BENCH_CLIENTS)")
	threads := fs.Int("threads", envInt("BENCH_THREADS", 2), "dnsperf -T of the saturating runs (BENCH_THREADS)")
	outstanding := fs.Int("outstanding", envInt("BENCH_OUTSTANDING", 100), "dnsperf -q (BENCH_OUTSTANDING)")
	settings := fs.String("perf-settings", os.Getenv("BENCH_PERF_SETTINGS"),
		"dnsperf settings of the saturating runs, clients:threads:outstanding,… (BENCH_PERF_SETTINGS; default --clients:--threads:--outstanding,"+measure.ExtraSettings+"; in quick mode the first only)")
	startsFlag := fs.Int("starts", envInt("BENCH_STARTS", 3), "starts of each contender to time the first answer, the median reported (BENCH_STARTS)")
	roundsFlag := fs.Int("rounds", envInt("BENCH_ROUNDS", rounds), "rounds of the saturating runs, the best kept (BENCH_ROUNDS; quick mode 1)")
	propCount := fs.Int("propagation", envInt("BENCH_PROPAGATION", prop), "Services created under load to time propagation (BENCH_PROPAGATION)")
	propTO := fs.String("propagation-timeout", env("BENCH_PROPAGATION_TIMEOUT", propTimeout), "give up on one of them after this long (BENCH_PROPAGATION_TIMEOUT)")
	contenders := fs.String("contenders", env("BENCH_CONTENDERS", strings.Join(contender.Names(false), ",")), "comma-separated contenders to run (BENCH_CONTENDERS); kubedns-watchlist and kubedns-baseline run only when named")
	only := fs.String("only", env("BENCH_ONLY", strings.Join(measure.Measurements, ",")), "comma-separated measurements to run besides start and RSS: "+strings.Join(measure.Measurements, ", ")+" (BENCH_ONLY)")
	out := fs.String("out", os.Getenv("BENCH_OUT"), "report file (BENCH_OUT; default hack/bench/results.md; in quick mode and with --only, only the run directory)")
	coredns := fs.String("coredns", env("BENCH_COREDNS", ""), "CoreDNS binary (BENCH_COREDNS; default _output/bin/coredns-v1.14.7/coredns)")
	baseline := fs.String("baseline-kubedns", env("BENCH_BASELINE_KUBEDNS", ""), "another kube-dns binary (another commit's build) for the opt-in kubedns-baseline contender (BENCH_BASELINE_KUBEDNS)")
	baselineEnv := fs.StringSlice("baseline-env", nil, "NAME=VALUE,… added to kubedns-baseline's environment")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := &measure.Config{Root: *root, Rate: *rate, Clients: *clients, Threads: *threads, Outstanding: *outstanding,
		PropCount: *propCount, Out: *out, Coredns: *coredns, Baseline: *baseline, BaselineEnv: *baselineEnv, Quick: quick, Rounds: *roundsFlag, CPURate: *cpuRate,
		StartRuns: *startsFlag}
	var err error
	if cfg.Root == "" {
		if cfg.Root, err = localcluster.Root(); err != nil {
			return nil, err
		}
	}
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("sizes: %q is not a number of Services ≥ 10", s)
		}
		cfg.Sizes = append(cfg.Sizes, n)
	}
	if cfg.Duration, err = time.ParseDuration(*durFlag); err != nil || cfg.Duration < time.Second {
		return nil, fmt.Errorf("duration: %q is not a duration of at least 1s", *durFlag)
	}
	if cfg.PerfDuration, err = time.ParseDuration(*perfDurFlag); err != nil || cfg.PerfDuration < time.Second {
		return nil, fmt.Errorf("perf-duration: %q is not a duration of at least 1s", *perfDurFlag)
	}
	if cfg.PropTimeout, err = time.ParseDuration(*propTO); err != nil || cfg.PropTimeout <= 0 {
		return nil, fmt.Errorf("propagation-timeout: %q is not a positive duration", *propTO)
	}
	if cfg.Rate < 1 || cfg.CPURate < 1 || cfg.Clients < 1 || cfg.Threads < 1 || cfg.Outstanding < 1 || cfg.Rounds < 1 || cfg.StartRuns < 1 || cfg.PropCount < 0 {
		return nil, errors.New("rate, cpu-rate, clients, threads, outstanding, rounds and starts must be positive, propagation not negative")
	}
	first := measure.PerfSetting{Clients: cfg.Clients, Threads: cfg.Threads, Outstanding: cfg.Outstanding}
	list := *settings
	if list == "" {
		list = fmt.Sprintf("%d:%d:%d", first.Clients, first.Threads, first.Outstanding)
		if !quick {
			list += "," + measure.ExtraSettings
		}
	}
	if cfg.PerfSettings, err = measure.ParsePerfSettings(list); err != nil {
		return nil, err
	}
	if cfg.Only, err = parseOnly(*only); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, n := range contender.Names(true) {
		known[n] = true
	}
	for _, c := range strings.Split(*contenders, ",") {
		c = strings.TrimSpace(c)
		if !known[c] {
			return nil, fmt.Errorf("contenders: unknown %q (known: %s)", c, strings.Join(contender.Names(true), ", "))
		}
		cfg.Contenders = append(cfg.Contenders, c)
	}
	if cfg.Coredns == "" {
		cfg.Coredns = filepath.Join(cfg.Root, "_output/bin/coredns-v1.14.7/coredns")
	}
	for _, p := range []*string{&cfg.Coredns, &cfg.Out} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	cfg.RunDir = filepath.Join(cfg.Root, "_output/bench", "run-"+time.Now().Format("20060102-150405"))
	// hack/bench/results.md holds a whole run: a run of some measurements
	// only goes there (or anywhere) only when --out says so.
	if cfg.Out == "" && !quick && len(cfg.Only) == len(measure.Measurements) {
		cfg.Out = filepath.Join(cfg.Root, "hack/bench/results.md")
	}
	return cfg, nil
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func envInt(key string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(key)); err == nil {
		return v
	}
	return def
}

func envBool(key string) bool {
	v, _ := strconv.ParseBool(os.Getenv(key))
	return v
}

func parseOnly(s string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(measure.Measurements, m) {
			return nil, fmt.Errorf("only: unknown measurement %q (known: %s)", m, strings.Join(measure.Measurements, ", "))
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

// run measures every size, writes the report and prints it.
func run(ctx context.Context, cfg *measure.Config) error {
	if err := measure.Preflight(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return err
	}
	proc.Logf("raw outputs and logs in %s", cfg.RunDir)
	started := time.Now()
	var sizes []*measure.Size
	var runErr error
	for _, n := range cfg.Sizes {
		sr, err := measure.MeasureSize(ctx, cfg, n)
		if sr != nil {
			sizes = append(sizes, sr)
		}
		if err != nil {
			runErr = fmt.Errorf("N=%d: %w", n, err)
			break
		}
	}
	if len(sizes) == 0 {
		return runErr
	}
	report := report.Markdown(cfg, report.Machine(cfg), sizes, time.Since(started), runErr)
	paths := []string{filepath.Join(cfg.RunDir, "results.md")}
	if cfg.Out != "" && ctx.Err() == nil { // an interrupted run leaves the last report alone
		paths = append(paths, cfg.Out)
	}
	for _, p := range paths {
		if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(report)
	proc.Logf("report written to %v (%s)", paths, time.Since(started).Round(time.Second))
	return runErr
}
