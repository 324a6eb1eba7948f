// Command bench measures kubedns against the pod path (dnsmasq in front of
// it), CoreDNS and a static-answer server, all reading one real kube-apiserver
// that holds N Services, and writes a markdown report. README.md in this
// directory says what it measures and how to run it.
//
//	bench [flags]                 the whole comparison (make bench)
//	bench static -addr HOST:PORT  the static-answer server, one of the contenders
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
	duration    time.Duration // each dnsperf run
	rate        int           // queries per second of the fixed-rate runs
	clients     int           // dnsperf -c
	threads     int           // dnsperf -T for the saturating runs
	outstanding int           // dnsperf -q
	propCount   int           // Services created one by one under load
	propTimeout time.Duration // how long one of them may take to be answered
	contenders  []string
	only        []string // measurements (see measurements); start and RSS after sync always
	out         string   // the report; also copied into the run directory
	coredns     string   // the CoreDNS binary
	quick       bool
	runDir      string // _output/bench/run-<timestamp>
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "static" {
		if err := runStatic(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench static:", err)
			os.Exit(1)
		}
		return
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
	sizes, duration, prop, propTimeout := "1000,10000", "10s", 30, "5s"
	if quick {
		sizes, duration, prop, propTimeout = "200", "2s", 10, "2s"
	}
	fs := pflag.NewFlagSet("bench", pflag.ContinueOnError)
	root := fs.String("root", "", "repository root (default: found from the working directory)")
	fs.BoolVar(&quick, "quick", quick, "smoke test: N=200, 2 s runs (BENCH_QUICK=1)")
	sizesFlag := fs.String("sizes", env("BENCH_SIZES", sizes), "comma-separated numbers of Services (BENCH_SIZES)")
	durFlag := fs.String("duration", env("BENCH_DURATION", duration), "length of each dnsperf run (BENCH_DURATION)")
	rate := fs.Int("rate", envInt("BENCH_RATE", 5000), "queries per second of the fixed-rate runs (BENCH_RATE)")
	clients := fs.Int("clients", envInt("BENCH_CLIENTS", 4), "dnsperf -c (BENCH_CLIENTS)")
	threads := fs.Int("threads", envInt("BENCH_THREADS", 2), "dnsperf -T of the saturating runs (BENCH_THREADS)")
	outstanding := fs.Int("outstanding", envInt("BENCH_OUTSTANDING", 100), "dnsperf -q (BENCH_OUTSTANDING)")
	propCount := fs.Int("propagation", envInt("BENCH_PROPAGATION", prop), "Services created under load to time propagation (BENCH_PROPAGATION)")
	propTO := fs.String("propagation-timeout", env("BENCH_PROPAGATION_TIMEOUT", propTimeout), "give up on one of them after this long (BENCH_PROPAGATION_TIMEOUT)")
	contenders := fs.String("contenders", env("BENCH_CONTENDERS", strings.Join(contenderNames(), ",")), "comma-separated contenders to run (BENCH_CONTENDERS)")
	only := fs.String("only", env("BENCH_ONLY", strings.Join(measurements, ",")), "comma-separated measurements to run besides start and RSS: "+strings.Join(measurements, ", ")+" (BENCH_ONLY)")
	out := fs.String("out", os.Getenv("BENCH_OUT"), "report file (BENCH_OUT; default hack/bench/results.md; in quick mode and with --only, only the run directory)")
	coredns := fs.String("coredns", env("BENCH_COREDNS", ""), "CoreDNS binary (BENCH_COREDNS; default _output/bin/coredns-v1.14.7/coredns)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg := &config{root: *root, rate: *rate, clients: *clients, threads: *threads, outstanding: *outstanding,
		propCount: *propCount, out: *out, coredns: *coredns, quick: quick}
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
	if cfg.propTimeout, err = time.ParseDuration(*propTO); err != nil || cfg.propTimeout <= 0 {
		return nil, fmt.Errorf("propagation-timeout: %q is not a positive duration", *propTO)
	}
	if cfg.rate < 1 || cfg.clients < 1 || cfg.threads < 1 || cfg.outstanding < 1 || cfg.propCount < 0 {
		return nil, errors.New("rate, clients, threads and outstanding must be positive, propagation not negative")
	}
	if cfg.only, err = parseOnly(*only); err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, n := range contenderNames() {
		known[n] = true
	}
	for _, c := range strings.Split(*contenders, ",") {
		c = strings.TrimSpace(c)
		if !known[c] {
			return nil, fmt.Errorf("contenders: unknown %q (known: %s)", c, strings.Join(contenderNames(), ", "))
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
var measurements = []string{"dnsperf", "propagation", "relist"}

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
