// Package measure measures one contender at one number of Services: dnsperf
// rates and latency, CPU per answer, RSS, start, propagation, the relist
// peak, profiles and the sizing series.
package measure

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Result is everything measured for one contender at one N.
type Result struct {
	C                   contender.Contender
	Hits, Misses, Fixed *Perf           // hits and misses: the best round of the first setting
	Sat                 []SatRuns       // every setting's saturating runs
	CPU                 *Perf           // hits at cfg.CPURate, for the CPU per answer
	Skip                string          // why the contender did not run here
	RSSSync, RSSLoad    int64           // KiB: VmRSS 1 s after the first answer, and after the load
	AnonSync, AnonLoad  int64           // KiB: their anonymous part (RssAnon)
	StartPeak           int64           // KiB: VmHWM 1 s after the first answer, the most the start took
	StartToAnswer       time.Duration   // the median of starts
	Starts              []time.Duration // every start's time to the first answer
	StartCosts          []startCost     // what each start cost
	Prop                *PropResult     // nil when not measured
	Relist              *RelistResult
	RelistErr           error
	Profile             *profile // at ProfileAt, for the profiled contenders
	ProfileErr          error
	Commands            []string
	Err                 error
}

// Size is one N: the load and every contender's result.
type Size struct {
	N        int
	LoadTime time.Duration
	Queries  int // lines of the hits file
	Results  []*Result

	dir, hits, misses string          // the run directory of this N and the query files
	probe             cluster.Service // polled for the first answer
}

// AtSize measures every contender at n Services: the cluster is started
// and loaded, the query and zone files written, every contender's starts
// timed, then each measured alone.
func AtSize(ctx context.Context, cfg *Config, n int) (*Size, error) {
	sr := &Size{N: n, dir: filepath.Join(cfg.RunDir, fmt.Sprintf("n%d", n))}
	if err := os.MkdirAll(sr.dir, 0o755); err != nil {
		return nil, err
	}
	proc.Logf("N=%d: starting the control plane in _output/bench/cluster-%d", n, n)
	t0 := time.Now()
	cl, err := cluster.Start(ctx, cfg.Root, filepath.Join(cfg.Root, "_output/bench", fmt.Sprintf("cluster-%d", n)),
		filepath.Join(sr.dir, "cluster.log"))
	defer cl.Stop()
	if err != nil {
		return nil, err
	}
	if err := cl.Load(ctx, n); err != nil {
		return nil, err
	}
	sr.LoadTime = time.Since(t0)
	svcs, err := cl.Services(ctx)
	if err != nil {
		return nil, err
	}
	sr.hits, sr.misses = filepath.Join(sr.dir, "hits.txt"), filepath.Join(sr.dir, "misses.txt")
	if sr.probe, err = cluster.QueryFiles(svcs, sr.hits, sr.misses); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(sr.hits); err == nil {
		sr.Queries = bytes.Count(b, []byte("\n"))
	}
	var zones *cluster.ZoneFiles
	var zoneErr error
	var run []contender.Contender
	envs := map[string]*contender.Env{}
	for _, c := range contender.All() {
		if !slices.Contains(cfg.Contenders, c.Name) {
			continue
		}
		if c.Zone && zones == nil && zoneErr == nil && cfg.skip[c.Name] == "" {
			// from what the API server holds now, for the servers of zone files
			if zones, zoneErr = cl.WriteZones(ctx, filepath.Join(sr.dir, "zones")); zoneErr == nil {
				proc.Logf("N=%d: %d records written to %s in %s", n, zones.Records, zones.Dir, zones.Took.Round(time.Millisecond))
			} else {
				zoneErr = fmt.Errorf("zone files: %w", zoneErr)
			}
		}
		switch {
		case cfg.skip[c.Name] != "":
			sr.Results = append(sr.Results, &Result{C: c, Skip: cfg.skip[c.Name]})
		case c.Zone && zoneErr != nil:
			sr.Results = append(sr.Results, &Result{C: c, Err: zoneErr})
		default:
			e := &contender.Env{Root: cfg.Root, Coredns: cfg.Coredns, Baseline: cfg.Baseline, BaselineEnv: cfg.BaselineEnv,
				Cl: cl, Dir: filepath.Join(sr.dir, c.Name), Zones: zones}
			if err := os.MkdirAll(e.Dir, 0o755); err != nil {
				return nil, err
			}
			run, envs[c.Name] = append(run, c), e
		}
	}
	proc.Logf("N=%d: timing %d starts of each contender, round robin", n, cfg.StartRuns)
	starts, costs, startErrs := startPhase(ctx, cfg, envs, run, sr.probe)
	for _, c := range run {
		if err := ctx.Err(); err != nil {
			return sr, err
		}
		r := &Result{C: c, Starts: starts[c.Name], StartToAnswer: Median(starts[c.Name]), StartCosts: costs[c.Name], Err: startErrs[c.Name]}
		sr.Results = append(sr.Results, r)
		t := time.Now()
		if r.Err == nil {
			proc.Logf("N=%d: %s (start %s)", n, c.Name, Dur(r.StartToAnswer))
			measure(ctx, cfg, envs[c.Name], sr, r)
		}
		if r.Err == nil && c.User != "" && (cfg.Measures("relist") || cfg.Measures(Sizing)) && ctx.Err() == nil {
			proc.Logf("N=%d: %s through a relist", n, c.Name)
			if r.Relist, r.RelistErr = measureRelist(ctx, envs[c.Name], c, sr.probe); r.RelistErr == nil {
				proc.Logf("N=%d: %s relist: steady %s, peak %s (%.2f×), new Service answered %s after the API server's return",
					n, c.Name, MiB(r.Relist.Steady), MiB(r.Relist.Peak), r.Relist.Ratio(), Dur(r.Relist.Relist))
			}
		}
		for what, err := range map[string]error{"failed": r.Err, "relist failed": r.RelistErr, "profile failed": r.ProfileErr} {
			if err != nil {
				proc.Logf("N=%d: %s %s: %v", n, c.Name, what, err)
			}
		}
		proc.Logf("N=%d: %s done in %s", n, c.Name, time.Since(t).Round(100*time.Millisecond))
	}
	return sr, ctx.Err()
}

// measure starts one contender alone, measures it into r, and stops it.
func measure(ctx context.Context, cfg *Config, e *contender.Env, sr *Size, r *Result) {
	want, name := contender.ProbeAnswer(r.C, sr.probe)
	s, err := r.C.Start(e)
	defer s.Stop()
	r.Commands = s.Commands
	if r.Err = err; err != nil {
		return
	}
	if r.Err = contender.WaitAnswer(ctx, s, e.Dir, name, want, 3*time.Minute); r.Err != nil {
		return
	}
	if !proc.Sleep(ctx, time.Second) { // let start-up garbage be collected
		r.Err = ctx.Err()
		return
	}
	r.RSSSync, r.AnonSync = s.RSS()
	r.StartPeak = s.HWM()
	m := &runs{s: s, dir: e.Dir, own: append(s.PIDs(), e.Cl.PIDs()...)}
	hits := PerfRun{Queries: sr.hits, Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]}
	switch {
	case cfg.Measures("dnsperf"):
		r.Err = m.dnsperf(ctx, cfg, r, sr.hits, sr.misses)
	case cfg.Measures(Sizing): // a short load, for the RSS after it
		r.Hits, r.Err = m.run(ctx, "hits", hits)
	}
	if r.Err != nil {
		return
	}
	if cfg.Measures("profile") && sr.N == ProfileAt && slices.Contains(Profiled, r.C.Name) {
		r.Profile, r.ProfileErr = measureProfile(ctx, cfg, e, s, sr.hits)
	}
	if r.C.ReadsAPI && cfg.PropCount > 0 && cfg.Measures("propagation") {
		hits.Duration, hits.rate, hits.out, hits.Addr = time.Hour, cfg.Rate, filepath.Join(e.Dir, "propagation-load.txt"), s.Addr
		r.Prop, r.Err = propagation(ctx, cfg, e, s, hits)
	}
	r.RSSLoad, r.AnonLoad = s.RSS()
}

// runs runs dnsperf against one started contender.
type runs struct {
	s   *contender.Server
	dir string
	own []int // the benchmark's processes
}

// run runs dnsperf, again (twice at most) when other processes took more
// than NoisyCPU of a CPU meanwhile, and keeps the least disturbed run.
func (m *runs) run(ctx context.Context, name string, pr PerfRun) (*Perf, error) {
	var kept *Perf
	for attempt := 1; attempt <= 3; attempt++ {
		pr.Addr, pr.out, pr.own, pr.server = m.s.Addr, filepath.Join(m.dir, name+".txt"), m.own, m.s.PIDs()
		if attempt > 1 {
			pr.out = filepath.Join(m.dir, fmt.Sprintf("%s-%d.txt", name, attempt))
		}
		res, err := dnsperf(ctx, pr)
		if err == nil {
			err = m.s.Exited()
		}
		if err != nil {
			return nil, err
		}
		if kept == nil || res.Foreign < kept.Foreign {
			kept = res
		}
		if kept.Attempts = attempt; res.Foreign <= NoisyCPU {
			break
		}
		proc.Logf("  %s: other processes took %.0f%% of a CPU during the run", name, 100*res.Foreign)
	}
	return kept, nil
}

// dnsperf makes the saturating runs of every setting in every round, rounds
// outermost (so that a slow spell of the machine does not fall on one
// setting's every run), then the fixed-rate and CPU runs.
func (m *runs) dnsperf(ctx context.Context, cfg *Config, r *Result, hits, misses string) error {
	for _, st := range cfg.PerfSettings {
		r.Sat = append(r.Sat, SatRuns{Setting: st})
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for i := range r.Sat {
			st := &r.Sat[i]
			for _, q := range []struct {
				kind, file string
				runs       *[]*Perf
			}{{"hits", hits, &st.Hits}, {"misses", misses, &st.Misses}} {
				name := q.kind // the first run keeps the names of old
				if i > 0 || round > 1 {
					name = fmt.Sprintf("%s-c%dT%dq%d-r%d", q.kind, st.Setting.Clients, st.Setting.Threads, st.Setting.Outstanding, round)
				}
				res, err := m.run(ctx, name, PerfRun{Queries: q.file, Duration: cfg.PerfDuration, Setting: st.Setting})
				if err != nil {
					return err
				}
				*q.runs = append(*q.runs, res)
			}
		}
	}
	r.Hits, r.Misses = Best(r.Sat[0].Hits, false), Best(r.Sat[0].Misses, false)
	fixed := PerfRun{Queries: hits, Duration: cfg.Duration, Setting: cfg.PerfSettings[0], rate: cfg.Rate, verbose: true}
	var err error
	if r.Fixed, err = m.run(ctx, "fixed-rate", fixed); err != nil {
		return err
	}
	fixed.rate, fixed.verbose = cfg.CPURate, false
	r.CPU, err = m.run(ctx, "cpu-rate", fixed)
	return err
}

// Thousands writes v rounded, with a comma between thousands.
func Thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// Ms writes seconds as milliseconds; "lost" for +Inf, "–" for NaN.
func Ms(sec float64) string {
	switch {
	case math.IsNaN(sec):
		return "–"
	case math.IsInf(sec, 1):
		return "lost"
	case sec < 0.01:
		return fmt.Sprintf("%.3f ms", sec*1000)
	default:
		return fmt.Sprintf("%.1f ms", sec*1000)
	}
}

// MiB writes KiB as MiB; "–" for none.
func MiB(kb int64) string {
	if kb == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
}

// Dur writes a duration as Ms does; "–" for none.
func Dur(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return Ms(d.Seconds())
}

// Config is what one run measures; README.md says what each flag is.
type Config struct {
	Root  string // repository root
	Sizes []int
	// The saturating runs: each setting in each round, PerfDuration long;
	// the first setting is the main table's, and its -c and -q are the
	// fixed-rate runs' (at Rate, and at CPURate for the CPU per answer).
	PerfSettings      []PerfSetting
	Rounds            int
	PerfDuration      time.Duration
	Duration          time.Duration // each fixed-rate dnsperf run
	Rate, CPURate     int
	StartRuns         int           // starts of each contender; the median is reported
	PropCount         int           // Services created one by one under load
	PropTimeout       time.Duration // how long one of them may take to be answered
	Contenders        []string
	Only              []string // measurements (see Measurements); start and RSS after sync always
	Out               string   // the report; also copied into the run directory
	Coredns, Baseline string   // the CoreDNS binary, and another kube-dns for kubedns-baseline
	BaselineEnv       []string // added to kubedns-baseline's environment
	Quick             bool
	RunDir            string            // _output/bench/run-<timestamp>
	skip              map[string]string // contenders that cannot run here, and why (Preflight)
}

// Measures reports whether the run includes measurement m.
func (c *Config) Measures(m string) bool { return slices.Contains(c.Only, m) }

// Measurements are the names --only accepts; start and RSS after sync are
// always measured.
var Measurements = []string{"dnsperf", "propagation", "relist", "profile"}

// Sizing is the measurement of the sizing series (--only=sizing): kubedns's
// start, RSS after sync and after a short load, and relist peak, at each N.
const Sizing = "sizing"

// Preflight checks every program a run needs, naming how to get it. The
// other servers are optional: a contender whose program is missing is
// skipped, and the report says why.
func Preflight(cfg *Config) error {
	need := map[string]string{
		"_output/bin/kube-dns": "make build", "_output/bin/dnsmasq-nanny": "make build",
		"_output/bin/v1.35.4/kube-apiserver": "make control-plane", "_output/bin/v1.35.4/etcd": "make control-plane",
		"_output/bin/v1.35.4/kubectl": "make control-plane", "/usr/sbin/dnsmasq": "apt-get install -y dnsmasq-base",
	}
	if slices.Contains(cfg.Contenders, "coredns") || slices.Contains(cfg.Contenders, "coredns-cache") {
		need[cfg.Coredns] = "hack/build-coredns.sh"
	}
	for path, how := range need {
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Root, path)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is missing: run %s", path, how)
		}
	}
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return errors.New("dnsperf is missing: apt-get install -y dnsperf")
	}
	cfg.skip = map[string]string{}
	if cfg.Baseline == "" {
		cfg.skip["kubedns-baseline"] = "no --baseline-kubedns binary given"
	}
	for _, c := range contender.All() {
		if _, err := proc.LookBin(c.Bin); c.Bin != "" && err != nil {
			cfg.skip[c.Name] = fmt.Sprintf("%s is missing (Debian package %s: apt-get install -y %s)", c.Bin, c.Pkg, c.Pkg)
		}
		if cfg.skip[c.Name] != "" && slices.Contains(cfg.Contenders, c.Name) {
			proc.Logf("skipping %s: %s", c.Name, cfg.skip[c.Name])
		}
	}
	return nil
}
