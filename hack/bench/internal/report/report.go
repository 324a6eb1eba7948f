// Package report writes a run's results as markdown, with its targets, and
// as an SVG chart.
package report

import (
	"cmp"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Machine describes where the run is made: rows of the report's Machine
// table.
func Machine(cfg *measure.Config) [][]string {
	model, cpus, mem := "", 0, ""
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name":
			model = cmp.Or(model, strings.TrimSpace(v))
		case "processor":
			cpus++
		}
	}
	b, _ = os.ReadFile("/proc/meminfo")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(v, &kb)
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	b, _ = os.ReadFile("/proc/sys/kernel/osrelease")
	rows := [][]string{{"CPU", fmt.Sprintf("%s, %d logical CPUs", model, cpus)}, {"memory", mem}, {"kernel", "Linux " + strings.TrimSpace(string(b))}}
	for _, v := range [][]string{{"Go", "go", "version"}, {"kube-dns", filepath.Join(cfg.Root, "_output/bin/kube-dns"), "--version"},
		{"kube-apiserver", filepath.Join(cfg.Root, "_output/bin/v1.35.4/kube-apiserver"), "--version"}, {"CoreDNS", cfg.Coredns, "-version"},
		{"dnsmasq", "/usr/sbin/dnsmasq", "--version"}, {"Knot DNS", "knotd", "-V"}, {"NSD", "nsd", "-v"}} {
		out := "not installed"
		if bin, err := proc.LookBin(v[1]); err == nil {
			out = command(cfg.Root, bin, v[2])
			if v[0] != "CoreDNS" { // whose version is on two lines
				out, _, _ = strings.Cut(out, "\n")
			}
		}
		rows = append(rows, []string{v[0], cmp.Or(strings.ReplaceAll(out, "\n", " "), "?")})
	}
	dnsperf := "?"
	for line := range strings.Lines(command(cfg.Root, "dnsperf", "-h")) {
		if v, ok := strings.CutPrefix(line, "Version"); ok {
			dnsperf = "dnsperf " + strings.TrimSpace(v)
		}
	}
	commit := cmp.Or(command(cfg.Root, "git", "rev-parse", "HEAD"), "?")
	if command(cfg.Root, "git", "status", "--porcelain", "--untracked-files=no") != "" {
		commit += " (with uncommitted changes)"
	}
	return append(rows, []string{"dnsperf", dnsperf}, []string{"project commit", commit})
}

// command runs a version query; "" when it fails. GIT_OPTIONAL_LOCKS=0 keeps
// git status from writing the index.
func command(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	out, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(out))
}

// table writes a markdown table: align has an l or r per column.
func table(b *strings.Builder, align string, head []string, rows [][]string) {
	row := func(cells []string) { fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | ")) }
	row(head)
	for _, a := range align {
		b.WriteString(map[rune]string{'l': "|---", 'r': "|--:"}[a])
	}
	b.WriteString("|\n")
	for _, r := range rows {
		row(r)
	}
	b.WriteString("\n")
}

// Markdown is the report of a run.
func Markdown(cfg *measure.Config, machine [][]string, targets []Target, sizes []*measure.Size, took time.Duration, runErr error) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# kube-dns benchmark\n\n")
	mode := ""
	if cfg.Quick {
		mode = " in quick mode (a smoke test; not for comparison)"
	}
	if len(cfg.Only) < len(measure.Measurements) {
		mode += fmt.Sprintf(", measuring start, RSS and %s only (`--only=%s`)", strings.Join(cfg.Only, ", "), strings.Join(cfg.Only, ","))
	}
	run, _ := filepath.Rel(cfg.Root, cfg.RunDir)
	p("Run %s%s; it took %s. Written by `hack/bench` (see its README.md); raw dnsperf outputs and server logs in `%s`. Before/after comparisons that decisions rest on are kept by hand in [history.md](history.md), as this file is rewritten whole.\n\n",
		time.Now().Format("2006-01-02 15:04 MST"), mode, took.Round(time.Second), run)
	if runErr != nil {
		p("**The run stopped early:** %v\n\n", runErr)
	}
	p("## Machine\n\n")
	table(&b, "ll", []string{"", ""}, machine)
	p("Everything runs on this machine over loopback: the control plane (etcd, kube-apiserver), the server under test and dnsperf share its CPUs.\n\n")
	rounds := "one round"
	if cfg.Rounds > 1 {
		rounds = fmt.Sprintf("the best of %d rounds", cfg.Rounds)
	}
	var settings []string
	for _, s := range cfg.PerfSettings {
		settings = append(settings, "`"+s.String()+"`")
	}
	args := measure.DnsperfArgs(measure.PerfRun{Addr: "127.0.0.1:PORT", Queries: "hits.txt", Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
	p("## Method\n\nWhat each figure is: hack/bench/README.md, *Measurements*. Each contender runs alone on this machine, over loopback, beside the control plane and dnsperf. This run:\n\n")
	p("- **QPS**: dnsperf saturating the server for %s (`dnsperf %s`), at each of %s, %s (rounds outermost); **lost**: no answer within 2 s.\n",
		cfg.PerfDuration, strings.Join(args, " "), strings.Join(settings, ", "), rounds)
	p("- **p50/p99**: hits at %d qps for %s; **CPU s / M answers**: hits at %d qps for %s, the server's CPU time per million answers; **CPU split**: server / dnsperf / idle as shares of all %d CPUs.\n",
		cfg.Rate, cfg.Duration, cfg.CPURate, cfg.Duration, runtime.NumCPU())
	p("- **RSS**: VmRSS (its anonymous part RssAnon in parentheses) summed over the contender's processes, 1 s after the first answer (*sync*) and after the load (*load*); **start**: the median of %d starts to the first answer, round robin over the contenders.\n", cfg.StartRuns)
	p("- **propagation**: %d Services created one at a time under %d qps of hits, each polled until answered (given up after %s); **other CPU**: the most that processes outside the benchmark took during one of the row's dnsperf runs, a run over %.0f%% of a CPU repeated (twice at most).\n\n",
		cfg.PropCount, cfg.Rate, cfg.PropTimeout, 100*measure.NoisyCPU)
	for _, sr := range sizes {
		renderSize(&b, cfg, sr)
	}
	renderSizing(&b, cfg, sizes)
	renderStarts(&b, sizes)
	renderRelist(&b, sizes)
	renderTargets(&b, cfg, targets, sizes)
	renderProfiles(&b, cfg, sizes)
	renderDnsmasq(&b, sizes)
	p("## Commands\n\nPorts are free loopback ports picked at each start.\n\n```\n")
	p("make bench   # make build control-plane coredns, then: _output/bin/kubedns-bench --coredns=_output/bin/coredns-v1.14.7/coredns\n")
	for _, r := range sizes[len(sizes)-1].Results {
		if r.Skip == "" {
			p("\n# %s\n%s", r.C.Name, strings.Join(append(r.Commands, ""), "\n"))
		}
	}
	p("```\n")
	return b.String()
}

// find is the result of contender name at one N, nil unless it ran.
func find(sr *measure.Size, name string) *measure.Result {
	for _, r := range sr.Results {
		if r.C.Name == name && r.Err == nil && r.Skip == "" {
			return r
		}
	}
	return nil
}

// Target is one line of the targets file (hack/bench/targets.txt).
type Target struct {
	Metric, Who string
	At          string // a number of Services, "each" or "largest"
	AtLeast     bool   // the goal is ≥ Bound, else ≤
	Bound       float64
	Goal        string   // as written
	Refs        []string // the better of them is the reference; none: Bound is in the metric's unit
}

// metric is what a target compares: a value of one contender's result, per
// dnsperf setting for the "-each" ones; ok false when it was not measured.
type metric struct {
	label  string
	unit   string // qps, s, KiB, x, s/M
	higher bool   // higher is better
	each   bool
	value  func(r *measure.Result, setting int) float64
}

func (m metric) of(r *measure.Result, setting int) (v float64, ok bool) {
	v = m.value(r, setting)
	return v, v > 0 && !math.IsNaN(v)
}

func qpsOf(p *measure.Perf) float64 {
	if p == nil {
		return 0
	}
	return p.QPS
}

func sat(hits bool) func(*measure.Result, int) float64 {
	return func(r *measure.Result, i int) float64 {
		if i >= len(r.Sat) {
			return 0
		}
		return qpsOf(measure.Best(map[bool][]*measure.Perf{true: r.Sat[i].Hits, false: r.Sat[i].Misses}[hits], false))
	}
}

func percentile(xs func(*measure.Result) []float64, p float64) func(*measure.Result, int) float64 {
	return func(r *measure.Result, _ int) float64 { return measure.Percentile(xs(r), p) }
}

func relist(v func(*measure.RelistResult) float64) func(*measure.Result, int) float64 {
	return func(r *measure.Result, _ int) float64 {
		if r.Relist == nil {
			return 0
		}
		return v(r.Relist)
	}
}

func propSamples(r *measure.Result) []float64 {
	if r.Prop == nil {
		return nil
	}
	return r.Prop.All()
}

var metrics = map[string]metric{
	"hits-qps":        {"hits QPS", "qps", true, false, func(r *measure.Result, _ int) float64 { return qpsOf(r.Hits) }},
	"misses-qps":      {"misses QPS", "qps", true, false, func(r *measure.Result, _ int) float64 { return qpsOf(r.Misses) }},
	"hits-qps-each":   {"hits QPS", "qps", true, true, sat(true)},
	"misses-qps-each": {"misses QPS", "qps", true, true, sat(false)},
	"p99":             {"p99 at the fixed rate", "s", false, false, percentile(func(r *measure.Result) []float64 { return latencies(r.Fixed) }, 99)},
	"cpu-per-m":       {"CPU s per million answers", "s/M", false, false, func(r *measure.Result, _ int) float64 { return measure.CPUPerM(r.CPU) }},
	"rss-sync":        {"RSS after sync", "KiB", false, false, func(r *measure.Result, _ int) float64 { return float64(r.RSSSync) }},
	"rss-load":        {"RSS after load", "KiB", false, false, func(r *measure.Result, _ int) float64 { return float64(r.RSSLoad) }},
	"start":           {"start to first answer", "s", false, false, func(r *measure.Result, _ int) float64 { return r.StartToAnswer.Seconds() }},
	"propagation-p50": {"propagation p50 under load", "s", false, false, percentile(propSamples, 50)},
	"propagation-p99": {"propagation p99 under load", "s", false, false, percentile(propSamples, 99)},
	"relist-ratio":    {"peak RSS through a relist / steady RSS", "x", false, false, relist((*measure.RelistResult).Ratio)},
	"relist-peak":     {"peak RSS through a relist", "KiB", false, false, relist(func(x *measure.RelistResult) float64 { return float64(x.Peak) })},
}

// ParseTargets reads a targets file: see hack/bench/targets.txt.
func ParseTargets(text string) ([]Target, error) {
	var out []Target
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if f := strings.Fields(line); len(f) > 0 {
			t, err := parseTarget(f)
			if err != nil {
				return nil, fmt.Errorf("targets line %d: %w", i+1, err)
			}
			out = append(out, t)
		}
	}
	return out, nil
}

func parseTarget(f []string) (Target, error) {
	if len(f) < 4 || len(f) > 5 {
		return Target{}, fmt.Errorf("want metric, contender, N, goal and maybe references, not %q", strings.Join(f, " "))
	}
	t := Target{Metric: f[0], Who: f[1], At: f[2], Goal: f[3]}
	m, ok := metrics[t.Metric]
	if !ok {
		return t, fmt.Errorf("unknown metric %q", t.Metric)
	}
	if _, err := strconv.Atoi(t.At); err != nil && t.At != "each" && t.At != "largest" {
		return t, fmt.Errorf("N %q is not a number, each or largest", t.At)
	}
	if len(f) == 5 {
		t.Refs = strings.Split(f[4], ",")
	}
	goal := strings.NewReplacer("≥", ">=", "≤", "<=", "×", "x").Replace(t.Goal)
	t.AtLeast = strings.HasPrefix(goal, ">=")
	if !t.AtLeast && !strings.HasPrefix(goal, "<=") {
		return t, fmt.Errorf("goal %q does not start with >= or <=", t.Goal)
	}
	num, unit, scale := goal[2:], "x", 1.0
	for _, u := range []struct {
		suffix, unit string
		scale        float64
	}{{"ms", "s", 1e-3}, {"MiB", "KiB", 1024}, {"x", "x", 1}} {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, unit, scale = v, u.unit, u.scale
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return t, fmt.Errorf("goal %q: %w", t.Goal, err)
	}
	t.Bound = v * scale
	if len(t.Refs) == 0 && unit != m.unit {
		return t, fmt.Errorf("goal %q: %s is measured in %s", t.Goal, t.Metric, m.unit)
	}
	return t, nil
}

// checkTargets checks every target against the run, a row of the targets
// table each (one per dnsperf setting for the "-each" metrics); what it
// could not check is listed in missing.
func checkTargets(cfg *measure.Config, targets []Target, sizes []*measure.Size) (rows [][]string, missing []string) {
	for _, t := range targets {
		m, found := metrics[t.Metric], false
		for _, sr := range sizes {
			ours := find(sr, t.Who)
			if ours == nil || (t.At == "largest" && sr != sizes[len(sizes)-1]) || (t.At != "each" && t.At != "largest" && t.At != strconv.Itoa(sr.N)) {
				continue
			}
			settings := []int{0}
			if m.each {
				settings = settings[:0]
				for i := range ours.Sat {
					settings = append(settings, i)
				}
			}
			for _, i := range settings {
				v, ok := m.of(ours, i)
				if !ok {
					continue
				}
				what := m.label
				switch {
				case m.each:
					what += fmt.Sprintf(", `%s`", ours.Sat[i].Setting)
				case t.Metric == "p99":
					what += fmt.Sprintf(" (%d qps)", cfg.Rate)
				case t.Metric == "cpu-per-m":
					what += fmt.Sprintf(" at %d qps", cfg.CPURate)
				}
				if t.Who != "kubedns" {
					what = t.Who + ": " + what
				}
				x, ref, ratio := v, "", ""
				if len(t.Refs) > 0 {
					var best *measure.Result
					var bv float64
					for _, n := range t.Refs {
						if r := find(sr, n); r != nil {
							if rv, ok := m.of(r, i); ok && (best == nil || (m.higher && rv > bv) || (!m.higher && rv < bv)) {
								best, bv = r, rv
							}
						}
					}
					if best == nil {
						continue
					}
					what += " vs " + strings.Join(t.Refs, "/")
					x, ref, ratio = v/bv, m.format(bv)+" ("+best.C.Name+")", fmt.Sprintf("%.2f×", v/bv)
				}
				verdict := "**missed**"
				if (t.AtLeast && x >= t.Bound) || (!t.AtLeast && x <= t.Bound) {
					verdict = "met"
				}
				found = true
				rows = append(rows, []string{what, strconv.Itoa(sr.N), m.format(v), ref, ratio,
					strings.NewReplacer(">=", "≥ ", "<=", "≤ ", "x", "×").Replace(t.Goal), verdict})
			}
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s of %s at %s %s", t.Metric, t.Who, t.At, t.Goal))
		}
	}
	return rows, missing
}

func (m metric) format(v float64) string {
	switch m.unit {
	case "qps":
		return measure.Thousands(v)
	case "s":
		return measure.Ms(v)
	case "KiB":
		return measure.MiB(int64(v))
	case "s/M":
		return fmt.Sprintf("%.2f s", v)
	}
	return fmt.Sprintf("%.2f×", v)
}

// renderTargets writes the targets table.
func renderTargets(b *strings.Builder, cfg *measure.Config, targets []Target, sizes []*measure.Size) {
	rows, missing := checkTargets(cfg, targets, sizes)
	b.WriteString("## Targets\n\nFrom `hack/bench/targets.txt`; kubedns unless the row says otherwise, ratios of numbers measured in this run (QPS are each setting's best round).\n\n")
	if len(rows) > 0 {
		table(b, "lrrrrrl", []string{"target", "N", "measured", "reference", "ratio", "goal", "result"}, rows)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fmt.Fprintf(b, "Not measured in this run (N, contender or reference not run): %s.\n\n", strings.Join(missing, "; "))
	}
}
