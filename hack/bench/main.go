// Command bench measures kubedns against the pod path (dnsmasq in front of
// it), CoreDNS, Knot DNS and NSD (serving zone files of the same records)
// and static-answer servers, against one real kube-apiserver that holds N
// Services, and writes a markdown report. README.md in this directory says
// what it measures and how to run it.
//
//	bench [flags]                      the whole comparison (make bench)
//	bench static -addr HOST:PORT       the static-answer server, one of the contenders
//	bench static-mmsg -addr HOST:PORT  the same with a socket per CPU and recvmmsg/sendmmsg
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubedns-go/kube-dns/pkg/localcluster"
)

// config is what one run measures; every field has an env knob (see
// README.md) that a flag of the same meaning overrides.
type config struct {
	root        string // repository root
	sizes       []int
	duration    time.Duration // each fixed-rate dnsperf run
	rate        int           // queries per second of the fixed-rate runs
	clients     int           // dnsperf -c
	threads     int           // dnsperf -T for the saturating runs
	outstanding int           // dnsperf -q
	// The saturating runs: each setting in each round, perfDuration long;
	// the first setting is the main table's.
	perfSettings []perfSetting
	rounds       int
	perfDuration time.Duration
	cpuRate      int // qps of the run that measures CPU per answer
	// skip holds the contenders that cannot run here, with the reason
	// (preflight).
	skip        map[string]string
	propCount   int           // Services created one by one under load
	propTimeout time.Duration // how long one of them may take to be answered
	contenders  []string
	only        []string // measurements (see measurements); start and RSS after sync always
	out         string   // the report; also copied into the run directory
	coredns     string   // the CoreDNS binary
	baseline    string   // another kube-dns binary, the kubedns-baseline contender
	baselineEnv []string // its environment, added
	quick       bool
	runDir      string // _output/bench/run-<timestamp>
	startRuns   int    // starts of each contender; the median is reported
}

func main() {
	if len(os.Args) > 1 {
		sub := map[string]func([]string) error{"static": runStatic, "static-mmsg": runStaticMMsg}[os.Args[1]]
		if sub != nil {
			if err := sub(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	cfg, err := parseConfig(os.Args[1:])
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

func parseConfig(args []string) (*config, error) {
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
		"dnsperf settings of the saturating runs, clients:threads:outstanding,… (BENCH_PERF_SETTINGS; default --clients:--threads:--outstanding,"+extraSettings+"; in quick mode the first only)")
	startsFlag := fs.Int("starts", envInt("BENCH_STARTS", 3), "starts of each contender to time the first answer, the median reported (BENCH_STARTS)")
	roundsFlag := fs.Int("rounds", envInt("BENCH_ROUNDS", rounds), "rounds of the saturating runs, the best kept (BENCH_ROUNDS; quick mode 1)")
	propCount := fs.Int("propagation", envInt("BENCH_PROPAGATION", prop), "Services created under load to time propagation (BENCH_PROPAGATION)")
	propTO := fs.String("propagation-timeout", env("BENCH_PROPAGATION_TIMEOUT", propTimeout), "give up on one of them after this long (BENCH_PROPAGATION_TIMEOUT)")
	contenders := fs.String("contenders", env("BENCH_CONTENDERS", strings.Join(contenderNames(false), ",")), "comma-separated contenders to run (BENCH_CONTENDERS); kubedns-watchlist and kubedns-baseline run only when named")
	only := fs.String("only", env("BENCH_ONLY", strings.Join(measurements, ",")), "comma-separated measurements to run besides start and RSS: "+strings.Join(measurements, ", ")+" (BENCH_ONLY)")
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
	cfg := &config{root: *root, rate: *rate, clients: *clients, threads: *threads, outstanding: *outstanding,
		propCount: *propCount, out: *out, coredns: *coredns, baseline: *baseline, baselineEnv: *baselineEnv, quick: quick, rounds: *roundsFlag, cpuRate: *cpuRate,
		startRuns: *startsFlag}
	var err error
	if cfg.root == "" {
		if cfg.root, err = localcluster.Root(); err != nil {
			return nil, err
		}
	}
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 10 {
			return nil, fmt.Errorf("sizes: %q is not a number of Services ≥ 10", s)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if cfg.duration, err = time.ParseDuration(*durFlag); err != nil || cfg.duration < time.Second {
		return nil, fmt.Errorf("duration: %q is not a duration of at least 1s", *durFlag)
	}
	if cfg.perfDuration, err = time.ParseDuration(*perfDurFlag); err != nil || cfg.perfDuration < time.Second {
		return nil, fmt.Errorf("perf-duration: %q is not a duration of at least 1s", *perfDurFlag)
	}
	if cfg.propTimeout, err = time.ParseDuration(*propTO); err != nil || cfg.propTimeout <= 0 {
		return nil, fmt.Errorf("propagation-timeout: %q is not a positive duration", *propTO)
	}
	if cfg.rate < 1 || cfg.cpuRate < 1 || cfg.clients < 1 || cfg.threads < 1 || cfg.outstanding < 1 || cfg.rounds < 1 || cfg.startRuns < 1 || cfg.propCount < 0 {
		return nil, errors.New("rate, cpu-rate, clients, threads, outstanding, rounds and starts must be positive, propagation not negative")
	}
	first := perfSetting{clients: cfg.clients, threads: cfg.threads, outstanding: cfg.outstanding}
	list := *settings
	if list == "" {
		list = fmt.Sprintf("%d:%d:%d", first.clients, first.threads, first.outstanding)
		if !quick {
			list += "," + extraSettings
		}
	}
	if cfg.perfSettings, err = parsePerfSettings(list); err != nil {
		return nil, err
	}
	if cfg.only, err = parseOnly(*only); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, n := range contenderNames(true) {
		known[n] = true
	}
	for _, c := range strings.Split(*contenders, ",") {
		c = strings.TrimSpace(c)
		if !known[c] {
			return nil, fmt.Errorf("contenders: unknown %q (known: %s)", c, strings.Join(contenderNames(true), ", "))
		}
		cfg.contenders = append(cfg.contenders, c)
	}
	if cfg.coredns == "" {
		cfg.coredns = filepath.Join(cfg.root, "_output/bin/coredns-v1.14.7/coredns")
	}
	for _, p := range []*string{&cfg.coredns, &cfg.out} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	cfg.runDir = filepath.Join(cfg.root, "_output/bench", "run-"+time.Now().Format("20060102-150405"))
	// hack/bench/results.md holds a whole run: a run of some measurements
	// only goes there (or anywhere) only when --out says so.
	if cfg.out == "" && !quick && len(cfg.only) == len(measurements) {
		cfg.out = filepath.Join(cfg.root, "hack/bench/results.md")
	}
	return cfg, nil
}

// measures reports whether the run includes measurement m.
func (c *config) measures(m string) bool { return slices.Contains(c.only, m) }

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

// logf prints one line of progress to stderr.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// measurements are the names --only accepts; start and RSS after sync are
// always measured.
var measurements = []string{"dnsperf", "propagation", "relist", "profile"}

func parseOnly(s string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(s, ",") {
		m = strings.TrimSpace(m)
		if !slices.Contains(measurements, m) {
			return nil, fmt.Errorf("only: unknown measurement %q (known: %s)", m, strings.Join(measurements, ", "))
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
