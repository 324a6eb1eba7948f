package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

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
