package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// propPrefix names the Services created to time propagation.
const propPrefix = "prop-"

// result is everything measured for one contender at one N.
type result struct {
	c                   contender
	hits, misses, fixed *perfResult     // hits and misses: the best round of the first setting
	sat                 []satRuns       // every setting's saturating runs
	cpu                 *perfResult     // hits at cfg.cpuRate, for the CPU per answer
	skip                string          // why the contender did not run here
	rssSync, rssLoad    int64           // KiB
	startToAnswer       time.Duration   // the median of starts
	starts              []time.Duration // every start's time to the first answer
	startCosts          []startCost     // what each start cost
	prop                *propResult     // nil when not measured
	relist              *relistResult
	relistErr           error
	profile             *profile // at targetsN, for the profiled contenders
	profileErr          error
	commands            []string
	err                 error
}

// sizeResult is one N: the load and every contender's result.
type sizeResult struct {
	n        int
	loadTime time.Duration
	queries  int // lines of the hits file
	zones    *zoneFiles
	results  []*result
}

// run measures every size, writes the report and prints it.
func run(ctx context.Context, cfg *config) error {
	if err := preflight(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.runDir, 0o755); err != nil {
		return err
	}
	logf("raw outputs and logs in %s", cfg.runDir)
	started := time.Now()
	var sizes []*sizeResult
	var runErr error
	for _, n := range cfg.sizes {
		sr, err := measureSize(ctx, cfg, n)
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
	report := renderReport(cfg, machineInfo(cfg), sizes, time.Since(started), runErr)
	paths := []string{filepath.Join(cfg.runDir, "results.md")}
	if cfg.out != "" && ctx.Err() == nil { // an interrupted run leaves the last report alone
		paths = append(paths, cfg.out)
	}
	for _, p := range paths {
		if err := os.WriteFile(p, []byte(report), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(report)
	logf("report written to %v (%s)", paths, time.Since(started).Round(time.Second))
	return runErr
}

// preflight checks every program a run needs, naming how to get it.
func preflight(cfg *config) error {
	need := map[string]string{
		filepath.Join(cfg.root, "_output/bin/kube-dns"):               "make build",
		filepath.Join(cfg.root, "_output/bin/dnsmasq-nanny"):          "make build",
		filepath.Join(cfg.root, "_output/bin/v1.35.4/kube-apiserver"): "make control-plane",
		filepath.Join(cfg.root, "_output/bin/v1.35.4/etcd"):           "make control-plane",
		filepath.Join(cfg.root, "_output/bin/v1.35.4/kubectl"):        "make control-plane",
		"/usr/sbin/dnsmasq": "apt-get install -y dnsmasq-base",
	}
	for _, c := range cfg.contenders {
		if c == "coredns" || c == "coredns-cache" {
			need[cfg.coredns] = "hack/build-coredns.sh"
		}
	}
	for path, how := range need {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is missing: run %s", path, how)
		}
	}
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return errors.New("dnsperf is missing: apt-get install -y dnsperf")
	}
	// The other servers are optional: a contender whose program is missing
	// is skipped, and the report says why.
	cfg.skip = map[string]string{}
	if slices.Contains(cfg.contenders, "kubedns-baseline") && cfg.baseline == "" {
		cfg.skip["kubedns-baseline"] = "no --baseline-kubedns binary given"
		logf("skipping kubedns-baseline: %s", cfg.skip["kubedns-baseline"])
	}
	for _, c := range allContenders() {
		if c.bin == "" || !slices.Contains(cfg.contenders, c.name) {
			continue
		}
		if _, err := lookBin(c.bin); err != nil {
			cfg.skip[c.name] = fmt.Sprintf("%s is missing (Debian package %s: apt-get install -y %s)", c.bin, c.pkg, c.pkg)
			logf("skipping %s: %s", c.name, cfg.skip[c.name])
		}
	}
	return nil
}

func measureSize(ctx context.Context, cfg *config, n int) (*sizeResult, error) {
	dir := filepath.Join(cfg.runDir, fmt.Sprintf("n%d", n))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	logf("N=%d: starting the control plane in _output/bench/cluster-%d", n, n)
	t0 := time.Now()
	cl, err := startCluster(ctx, cfg.root, filepath.Join(cfg.root, "_output/bench", fmt.Sprintf("cluster-%d", n)),
		filepath.Join(dir, "cluster.log"))
	defer cl.stop()
	if err != nil {
		return nil, err
	}
	logf("N=%d: control plane up in %s", n, time.Since(t0).Round(100*time.Millisecond))
	if err := cl.load(ctx, n); err != nil {
		return nil, err
	}
	sr := &sizeResult{n: n, loadTime: time.Since(t0)}
	svcs, err := cl.services(ctx)
	if err != nil {
		return nil, err
	}
	hits, misses := filepath.Join(dir, "hits.txt"), filepath.Join(dir, "misses.txt")
	probe, err := queryFiles(svcs, hits, misses)
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(hits); err == nil {
		sr.queries = bytes.Count(b, []byte("\n"))
	}
	// The zone files, from what the API server holds now, for the
	// contenders that serve them; without them those contenders fail.
	var zoneErr error
	if slices.ContainsFunc(allContenders(), func(c contender) bool {
		return c.zone && slices.Contains(cfg.contenders, c.name) && cfg.skip[c.name] == ""
	}) {
		if sr.zones, zoneErr = cl.writeZones(ctx, filepath.Join(dir, "zones")); zoneErr != nil {
			zoneErr = fmt.Errorf("zone files: %w", zoneErr)
			logf("N=%d: %v", n, zoneErr)
		} else {
			logf("N=%d: %d records written to %s in %s", n, sr.zones.records, sr.zones.dir, sr.zones.took.Round(time.Millisecond))
		}
	}
	var run []contender
	envs := map[string]*benchEnv{}
	for _, c := range allContenders() {
		if !slices.Contains(cfg.contenders, c.name) {
			continue
		}
		if why := cfg.skip[c.name]; why != "" {
			sr.results = append(sr.results, &result{c: c, skip: why})
			continue
		}
		if c.zone && zoneErr != nil {
			sr.results = append(sr.results, &result{c: c, err: zoneErr})
			continue
		}
		e := &benchEnv{cfg: cfg, cl: cl, dir: filepath.Join(dir, c.name), zones: sr.zones, n: n}
		if err := os.MkdirAll(e.dir, 0o755); err != nil {
			return sr, err
		}
		run = append(run, c)
		envs[c.name] = e
	}
	if len(run) == 0 {
		return sr, nil
	}
	logf("N=%d: timing %d starts of each contender, round robin", n, cfg.startRuns)
	starts, costs, startErrs := startPhase(ctx, envs, run, probe)
	if err := ctx.Err(); err != nil {
		return sr, err
	}
	for _, c := range run {
		if err := startErrs[c.name]; err != nil {
			logf("N=%d: %s failed to start: %v", n, c.name, err)
			sr.results = append(sr.results, &result{c: c, err: err})
			continue
		}
		e := envs[c.name]
		logf("N=%d: %s (start %s)", n, c.name, dur(median(starts[c.name])))
		t := time.Now()
		r := measure(ctx, e, c, probe, hits, misses, starts[c.name])
		r.startCosts = costs[c.name]
		sr.results = append(sr.results, r)
		if r.err != nil {
			logf("N=%d: %s failed: %v", n, c.name, r.err)
		}
		if r.err == nil && c.relist && cfg.measures("relist") && ctx.Err() == nil {
			logf("N=%d: %s through a relist", n, c.name)
			if r.relist, r.relistErr = measureRelist(ctx, e, c, probe); r.relistErr != nil {
				logf("N=%d: %s relist failed: %v", n, c.name, r.relistErr)
			} else {
				logf("N=%d: %s relist: steady %s, peak %s (%.2f×), new Service answered %s after the API server's return",
					n, c.name, mib(r.relist.steady), mib(r.relist.peak), r.relist.ratio(), dur(r.relist.relist))
			}
		}
		logf("N=%d: %s done in %s", n, c.name, time.Since(t).Round(100*time.Millisecond))
		if err := ctx.Err(); err != nil {
			return sr, err
		}
	}
	return sr, nil
}

// measure starts one contender alone, measures it, and stops it.
func measure(ctx context.Context, e *benchEnv, c contender, probe svcInfo, hits, misses string, starts []time.Duration) *result {
	r := &result{c: c, starts: starts, startToAnswer: median(starts)}
	want, name := probeAnswer(c, probe)
	s, err := c.start(ctx, e)
	defer s.stop()
	r.commands = s.commands
	if err != nil {
		r.err = err
		return r
	}
	if r.err = waitAnswer(ctx, s, e.dir, name, want, 3*time.Minute); r.err != nil {
		return r
	}
	if !sleep(ctx, time.Second) { // let start-up garbage be collected
		r.err = ctx.Err()
		return r
	}
	r.rssSync = s.rss()
	own := append(s.pids(), e.cl.pids()...)
	// run runs dnsperf, again (twice at most) when other processes took more
	// than noisyCPU of a CPU meanwhile, and keeps the least disturbed run.
	run := func(name string, pr perfRun) (*perfResult, error) {
		var kept *perfResult
		tries := 0
		for attempt := 1; attempt <= 3; attempt++ {
			tries = attempt
			out := filepath.Join(e.dir, name+".txt")
			if attempt > 1 {
				out = filepath.Join(e.dir, fmt.Sprintf("%s-%d.txt", name, attempt))
			}
			pr.addr, pr.out, pr.own, pr.server = s.addr, out, own, s.pids()
			res, err := e.cfg.dnsperf(ctx, pr)
			if err == nil {
				err = s.exited()
			}
			if err != nil {
				return nil, err
			}
			if kept == nil || res.foreign < kept.foreign {
				kept = res
			}
			if res.foreign <= noisyCPU {
				break
			}
			logf("  %s: other processes took %.0f%% of a CPU during the run", name, 100*res.foreign)
		}
		kept.attempts = tries
		return kept, nil
	}
	if e.cfg.measures("dnsperf") {
		// Rounds outermost, so that a slow spell of the machine does not
		// fall on one setting's every run.
		for _, st := range e.cfg.perfSettings {
			r.sat = append(r.sat, satRuns{setting: st})
		}
		for round := 1; round <= e.cfg.rounds; round++ {
			for i := range r.sat {
				sr := &r.sat[i]
				for _, q := range []struct {
					kind, file string
					runs       *[]*perfResult
				}{{"hits", hits, &sr.hits}, {"misses", misses, &sr.misses}} {
					name := q.kind // the first run keeps the names of old
					if i > 0 || round > 1 {
						name = fmt.Sprintf("%s-%s-r%d", q.kind, sr.setting.tag(), round)
					}
					res, err := run(name, perfRun{queries: q.file, duration: e.cfg.perfDuration, setting: sr.setting})
					if err != nil {
						r.err = err
						return r
					}
					*q.runs = append(*q.runs, res)
				}
			}
		}
		r.hits, r.misses = best(r.sat[0].hits), best(r.sat[0].misses)
		if r.fixed, r.err = run("fixed-rate", perfRun{queries: hits, duration: e.cfg.duration, rate: e.cfg.rate, verbose: true}); r.err != nil {
			return r
		}
		if r.cpu, r.err = run("cpu-rate", perfRun{queries: hits, duration: e.cfg.duration, rate: e.cfg.cpuRate}); r.err != nil {
			return r
		}
	}
	if e.cfg.measures("profile") && e.n == targetsN && slices.Contains(profiled, c.name) {
		r.profile, r.profileErr = measureProfile(ctx, e, s, hits)
		if r.profileErr != nil {
			logf("  profile: %v", r.profileErr)
		}
	}
	if c.readsAPI && e.cfg.propCount > 0 && e.cfg.measures("propagation") {
		r.prop, r.err = propagation(ctx, e, s, hits)
	}
	r.rssLoad = s.rss()
	return r
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// answers reports whether name's A records at addr include want, and
// otherwise what came back.
func answers(ctx context.Context, addr, name, want string, timeout time.Duration) (bool, string) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	r, _, err := c.ExchangeContext(ctx, m, addr)
	if err != nil {
		return false, err.Error()
	}
	if r.Rcode != dns.RcodeSuccess {
		return false, dns.RcodeToString[r.Rcode]
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.Equal(net.ParseIP(want)) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("NOERROR with %d answers, not %s", len(r.Answer), want)
}

// waitAnswer polls every 5 ms until name resolves to want, writing each
// change of what came back to dir/start-probe.log.
func waitAnswer(ctx context.Context, s *server, dir, name, want string, limit time.Duration) error {
	start := time.Now()
	deadline := start.Add(limit)
	log, err := os.Create(filepath.Join(dir, "start-probe.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	last := ""
	for time.Now().Before(deadline) {
		ok, got := answers(ctx, s.addr, name, want, 100*time.Millisecond)
		if ok {
			fmt.Fprintf(log, "%8.1f ms  answered %s\n", time.Since(start).Seconds()*1000, want)
			return nil
		}
		if got != last {
			fmt.Fprintf(log, "%8.1f ms  %s\n", time.Since(start).Seconds()*1000, got)
			last = got
		}
		if err := s.exited(); err != nil {
			return err
		}
		if !sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s did not answer %s with %s within %s", s.addr, name, want, limit)
}

// propResult is the time from a Service's create call returning to the
// contender answering its name with the cluster IP.
type propResult struct {
	samples  []float64 // seconds; +Inf for one that timed out
	timeouts int
	skipped  int // not measured: three timed out in a row
	load     *perfResult
}

// propagation creates Services one at a time while dnsperf sends hits at
// the fixed rate, polls each new name until it is answered, and deletes
// them afterwards.
func propagation(ctx context.Context, e *benchEnv, s *server, hits string) (*propResult, error) {
	loadCtx, stopLoad := context.WithCancel(ctx)
	out := filepath.Join(e.dir, "propagation-load.txt")
	cmd, f, err := e.cfg.startDNSPerf(loadCtx, perfRun{addr: s.addr, queries: hits, out: out,
		duration: time.Hour, rate: e.cfg.rate})
	if err != nil {
		stopLoad()
		return nil, err
	}
	res := &propResult{}
	client := e.cl.client.CoreV1().Services("bench-0")
	var created []string
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, name := range created {
			_ = client.Delete(dctx, name, metav1.DeleteOptions{})
		}
	}()
	plog, err := os.Create(filepath.Join(e.dir, "propagation.log"))
	if err != nil {
		stopLoad()
		_ = cmd.Wait()
		f.Close()
		return nil, err
	}
	defer plog.Close()
	tag := strconv.FormatInt(time.Now().UnixMilli()%1e6, 36)
	if sleep(ctx, 500*time.Millisecond) { // the load ramps up
		inARow := 0
		for k := range e.cfg.propCount {
			if inARow == 3 {
				res.skipped = e.cfg.propCount - k
				break
			}
			svc := &corev1.Service{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s%s-%02d", propPrefix, tag, k)},
				Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: servicePorts()},
			}
			got, err := client.Create(ctx, svc, metav1.CreateOptions{})
			if err != nil {
				stopLoad()
				_ = cmd.Wait()
				f.Close()
				return nil, fmt.Errorf("create %s: %w", svc.Name, err)
			}
			t0 := time.Now()
			created = append(created, got.Name)
			name := fqdn(got.Name, "bench-0")
			d, first, polls := math.Inf(1), "", 0
			for time.Since(t0) < e.cfg.propTimeout && ctx.Err() == nil {
				ok, reply := answers(ctx, s.addr, name, got.Spec.ClusterIP, 50*time.Millisecond)
				polls++
				if ok {
					d = time.Since(t0).Seconds()
					break
				}
				if first == "" {
					first = reply
				}
				sleep(ctx, time.Millisecond)
			}
			fmt.Fprintf(plog, "%s %s %s after %d queries; first reply: %s\n", name, got.Spec.ClusterIP,
				strings.ReplaceAll(ms(d), "lost", "not answered"), polls, or(first, "the answer"))
			res.samples = append(res.samples, d)
			if math.IsInf(d, 1) {
				res.timeouts++
				inARow++
			} else {
				inARow = 0
			}
		}
	}
	stopLoad()
	_ = cmd.Wait()
	f.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if load, err := readDNSPerf(out); err == nil {
		res.load = load
	}
	if err := s.exited(); err != nil {
		return res, err
	}
	return res, nil
}
