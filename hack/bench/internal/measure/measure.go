package measure

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
	CPU                 *Perf           // hits at cfg.cpuRate, for the CPU per answer
	Skip                string          // why the contender did not run here
	RSSSync, RSSLoad    int64           // KiB: VmRSS 1 s after the first answer, and after the load
	AnonSync, AnonLoad  int64           // KiB: their anonymous part (RssAnon)
	StartToAnswer       time.Duration   // the median of starts
	Starts              []time.Duration // every start's time to the first answer
	StartCosts          []startCost     // what each start cost
	Prop                *PropResult     // nil when not measured
	Relist              *RelistResult
	RelistErr           error
	Profile             *profile // at targetsN, for the profiled contenders
	ProfileErr          error
	Commands            []string
	Err                 error
}

// Size is one N: the load and every contender's result.
type Size struct {
	N        int
	LoadTime time.Duration
	Queries  int // lines of the hits file
	zones    *cluster.ZoneFiles
	Results  []*Result

	dir, hits, misses string          // the run directory of this N and the query files
	probe             cluster.Service // polled for the first answer
}

// AtSize measures every contender at n Services: the cluster is
// started and loaded, the query and zone files written, every contender's
// starts timed, then each measured alone.
func AtSize(ctx context.Context, cfg *Config, n int) (*Size, error) {
	dir := filepath.Join(cfg.RunDir, fmt.Sprintf("n%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	proc.Logf("N=%d: starting the control plane in _output/bench/cluster-%d", n, n)
	t0 := time.Now()
	cl, err := cluster.Start(ctx, cfg.Root, filepath.Join(cfg.Root, "_output/bench", fmt.Sprintf("cluster-%d", n)),
		filepath.Join(dir, "cluster.log"))
	defer cl.Stop()
	if err != nil {
		return nil, err
	}
	proc.Logf("N=%d: control plane up in %s", n, time.Since(t0).Round(100*time.Millisecond))
	if err := cl.Load(ctx, n); err != nil {
		return nil, err
	}
	sr := &Size{N: n, LoadTime: time.Since(t0), dir: dir}
	if err := sr.queries(ctx, cl); err != nil {
		return nil, err
	}
	zoneErr := sr.writeZones(ctx, cfg, cl)
	run, envs, err := sr.prepare(cfg, cl, zoneErr)
	if err != nil || len(run) == 0 {
		return sr, err
	}
	proc.Logf("N=%d: timing %d starts of each contender, round robin", n, cfg.StartRuns)
	starts, costs, startErrs := startPhase(ctx, cfg, envs, run, sr.probe)
	for _, c := range run {
		if err := ctx.Err(); err != nil {
			return sr, err
		}
		if err := startErrs[c.Name]; err != nil {
			proc.Logf("N=%d: %s failed to start: %v", n, c.Name, err)
			sr.Results = append(sr.Results, &Result{C: c, Err: err})
			continue
		}
		r := sr.measure(ctx, cfg, envs[c.Name], c, starts[c.Name])
		r.StartCosts = costs[c.Name]
	}
	return sr, ctx.Err()
}

// queries writes the query files of the Services the cluster holds.
func (sr *Size) queries(ctx context.Context, cl *cluster.Cluster) error {
	svcs, err := cl.Services(ctx)
	if err != nil {
		return err
	}
	sr.hits, sr.misses = filepath.Join(sr.dir, "hits.txt"), filepath.Join(sr.dir, "misses.txt")
	if sr.probe, err = cluster.QueryFiles(svcs, sr.hits, sr.misses); err != nil {
		return err
	}
	if b, err := os.ReadFile(sr.hits); err == nil {
		sr.Queries = bytes.Count(b, []byte("\n"))
	}
	return nil
}

// writeZones writes the zone files, from what the API server holds now,
// when a contender serves them; without them those contenders fail.
func (sr *Size) writeZones(ctx context.Context, cfg *Config, cl *cluster.Cluster) error {
	if !slices.ContainsFunc(contender.All(), func(c contender.Contender) bool {
		return c.Zone && slices.Contains(cfg.Contenders, c.Name) && cfg.skip[c.Name] == ""
	}) {
		return nil
	}
	var err error
	if sr.zones, err = cl.WriteZones(ctx, filepath.Join(sr.dir, "zones")); err != nil {
		err = fmt.Errorf("zone files: %w", err)
		proc.Logf("N=%d: %v", sr.N, err)
		return err
	}
	proc.Logf("N=%d: %d records written to %s in %s", sr.N, sr.zones.Records, sr.zones.Dir, sr.zones.Took.Round(time.Millisecond))
	return nil
}

// prepare lists the contenders to run, with their environments; those that
// cannot run get their result at once.
func (sr *Size) prepare(cfg *Config, cl *cluster.Cluster, zoneErr error) ([]contender.Contender, map[string]*contender.Env, error) {
	var run []contender.Contender
	envs := map[string]*contender.Env{}
	for _, c := range contender.All() {
		switch {
		case !slices.Contains(cfg.Contenders, c.Name):
			continue
		case cfg.skip[c.Name] != "":
			sr.Results = append(sr.Results, &Result{C: c, Skip: cfg.skip[c.Name]})
			continue
		case c.Zone && zoneErr != nil:
			sr.Results = append(sr.Results, &Result{C: c, Err: zoneErr})
			continue
		}
		e := &contender.Env{Root: cfg.Root, Coredns: cfg.Coredns, Baseline: cfg.Baseline, BaselineEnv: cfg.BaselineEnv,
			Cl: cl, Dir: filepath.Join(sr.dir, c.Name), Zones: sr.zones, N: sr.N}
		if err := os.MkdirAll(e.Dir, 0o755); err != nil {
			return nil, nil, err
		}
		run = append(run, c)
		envs[c.Name] = e
	}
	return run, envs, nil
}

// measure measures one contender that started, then, for the ones that
// have it, the relist.
func (sr *Size) measure(ctx context.Context, cfg *Config, e *contender.Env, c contender.Contender, starts []time.Duration) *Result {
	proc.Logf("N=%d: %s (start %s)", sr.N, c.Name, Dur(Median(starts)))
	t := time.Now()
	r := measure(ctx, cfg, e, c, sr, starts)
	sr.Results = append(sr.Results, r)
	if r.Err != nil {
		proc.Logf("N=%d: %s failed: %v", sr.N, c.Name, r.Err)
	}
	if r.Err == nil && c.Relist && (cfg.Measures("relist") || cfg.Measures(Sizing)) && ctx.Err() == nil {
		proc.Logf("N=%d: %s through a relist", sr.N, c.Name)
		if r.Relist, r.RelistErr = measureRelist(ctx, e, c, sr.probe); r.RelistErr != nil {
			proc.Logf("N=%d: %s relist failed: %v", sr.N, c.Name, r.RelistErr)
		} else {
			proc.Logf("N=%d: %s relist: steady %s, peak %s (%.2f×), new Service answered %s after the API server's return",
				sr.N, c.Name, MiB(r.Relist.Steady), MiB(r.Relist.Peak), r.Relist.Ratio(), Dur(r.Relist.Relist))
		}
	}
	proc.Logf("N=%d: %s done in %s", sr.N, c.Name, time.Since(t).Round(100*time.Millisecond))
	return r
}

// measure starts one contender alone, measures it, and stops it.
func measure(ctx context.Context, cfg *Config, e *contender.Env, c contender.Contender, sr *Size, starts []time.Duration) *Result {
	r := &Result{C: c, Starts: starts, StartToAnswer: Median(starts)}
	want, name := contender.ProbeAnswer(c, sr.probe)
	s, err := c.Start(ctx, e)
	defer s.Stop()
	r.Commands = s.Commands
	if err != nil {
		r.Err = err
		return r
	}
	if r.Err = contender.WaitAnswer(ctx, s, e.Dir, name, want, 3*time.Minute); r.Err != nil {
		return r
	}
	if !proc.Sleep(ctx, time.Second) { // let start-up garbage be collected
		r.Err = ctx.Err()
		return r
	}
	r.RSSSync, r.AnonSync = s.RSS()
	m := &runs{cfg: cfg, s: s, dir: e.Dir, own: append(s.PIDs(), e.Cl.PIDs()...)}
	switch {
	case cfg.Measures("dnsperf"):
		r.Err = m.dnsperf(ctx, r, sr.hits, sr.misses)
	case cfg.Measures(Sizing): // a short load, for the RSS after it
		r.Hits, r.Err = m.run(ctx, "hits", PerfRun{Queries: sr.hits, Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
	}
	if r.Err != nil {
		return r
	}
	if cfg.Measures("profile") && e.N == ProfileAt && slices.Contains(Profiled, c.Name) {
		if r.Profile, r.ProfileErr = measureProfile(ctx, cfg, e, s, sr.hits); r.ProfileErr != nil {
			proc.Logf("  profile: %v", r.ProfileErr)
		}
	}
	if c.ReadsAPI && cfg.PropCount > 0 && cfg.Measures("propagation") {
		r.Prop, r.Err = propagation(ctx, cfg, e, s, sr.hits)
	}
	r.RSSLoad, r.AnonLoad = s.RSS()
	return r
}

// runs runs dnsperf against one started contender.
type runs struct {
	cfg *Config
	s   *contender.Server
	dir string
	own []int // the benchmark's processes
}

// run runs dnsperf, again (twice at most) when other processes took more
// than NoisyCPU of a CPU meanwhile, and keeps the least disturbed run.
func (m *runs) run(ctx context.Context, name string, pr PerfRun) (*Perf, error) {
	var kept *Perf
	for attempt := 1; attempt <= 3; attempt++ {
		out := filepath.Join(m.dir, name+".txt")
		if attempt > 1 {
			out = filepath.Join(m.dir, fmt.Sprintf("%s-%d.txt", name, attempt))
		}
		pr.Addr, pr.out, pr.own, pr.server = m.s.Addr, out, m.own, m.s.PIDs()
		res, err := m.cfg.dnsperf(ctx, pr)
		if err == nil {
			err = m.s.Exited()
		}
		if err != nil {
			return nil, err
		}
		if kept == nil || res.Foreign < kept.Foreign {
			kept = res
		}
		kept.Attempts = attempt
		if res.Foreign <= NoisyCPU {
			break
		}
		proc.Logf("  %s: other processes took %.0f%% of a CPU during the run", name, 100*res.Foreign)
	}
	return kept, nil
}

// dnsperf makes the saturating runs of every setting in every round, rounds
// outermost (so that a slow spell of the machine does not fall on one
// setting's every run), then the fixed-rate and CPU runs.
func (m *runs) dnsperf(ctx context.Context, r *Result, hits, misses string) error {
	cfg := m.cfg
	for _, st := range cfg.PerfSettings {
		r.Sat = append(r.Sat, SatRuns{Setting: st})
	}
	for round := 1; round <= cfg.Rounds; round++ {
		for i := range r.Sat {
			sr := &r.Sat[i]
			for _, q := range []struct {
				kind, file string
				runs       *[]*Perf
			}{{"hits", hits, &sr.Hits}, {"misses", misses, &sr.Misses}} {
				name := q.kind // the first run keeps the names of old
				if i > 0 || round > 1 {
					name = fmt.Sprintf("%s-%s-r%d", q.kind, sr.Setting.tag(), round)
				}
				res, err := m.run(ctx, name, PerfRun{Queries: q.file, Duration: cfg.PerfDuration, Setting: sr.Setting})
				if err != nil {
					return err
				}
				*q.runs = append(*q.runs, res)
			}
		}
	}
	r.Hits, r.Misses = Best(r.Sat[0].Hits), Best(r.Sat[0].Misses)
	var err error
	if r.Fixed, err = m.run(ctx, "fixed-rate", PerfRun{Queries: hits, Duration: cfg.Duration, rate: cfg.Rate, verbose: true}); err != nil {
		return err
	}
	r.CPU, err = m.run(ctx, "cpu-rate", PerfRun{Queries: hits, Duration: cfg.Duration, rate: cfg.CPURate})
	return err
}
