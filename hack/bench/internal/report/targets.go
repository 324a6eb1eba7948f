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
// dnsperf setting for the "-each" ones.
type metric struct {
	label  string
	unit   string // qps, s, KiB, x, s/M
	higher bool   // higher is better
	each   bool
	value  func(r *measure.Result, setting int) (float64, bool)
}

func perfValue(p *measure.Perf) (float64, bool) { return qpsOf(p), p != nil }

func qpsOf(p *measure.Perf) float64 {
	if p == nil {
		return 0
	}
	return p.QPS
}

func satValue(hits bool) func(*measure.Result, int) (float64, bool) {
	return func(r *measure.Result, i int) (float64, bool) {
		if i >= len(r.Sat) {
			return 0, false
		}
		runs := r.Sat[i].Misses
		if hits {
			runs = r.Sat[i].Hits
		}
		return perfValue(measure.Best(runs))
	}
}

func positive(v float64) (float64, bool) { return v, v > 0 && !math.IsNaN(v) }

func propValue(p float64) func(*measure.Result, int) (float64, bool) {
	return func(r *measure.Result, _ int) (float64, bool) {
		if r.Prop == nil || len(r.Prop.All()) == 0 {
			return 0, false
		}
		return measure.Percentile(r.Prop.All(), p), true
	}
}

var metrics = map[string]metric{
	"hits-qps":        {"hits QPS", "qps", true, false, func(r *measure.Result, _ int) (float64, bool) { return perfValue(r.Hits) }},
	"misses-qps":      {"misses QPS", "qps", true, false, func(r *measure.Result, _ int) (float64, bool) { return perfValue(r.Misses) }},
	"hits-qps-each":   {"hits QPS", "qps", true, true, satValue(true)},
	"misses-qps-each": {"misses QPS", "qps", true, true, satValue(false)},
	"p99": {"p99 at the fixed rate", "s", false, false, func(r *measure.Result, _ int) (float64, bool) {
		if r.Fixed == nil || len(r.Fixed.Latencies) == 0 {
			return 0, false
		}
		return measure.Percentile(r.Fixed.Latencies, 99), true
	}},
	"cpu-per-m":       {"CPU s per million answers", "s/M", false, false, func(r *measure.Result, _ int) (float64, bool) { return positive(measure.CPUPerM(r.CPU)) }},
	"rss-sync":        {"RSS after sync", "KiB", false, false, func(r *measure.Result, _ int) (float64, bool) { return positive(float64(r.RSSSync)) }},
	"rss-load":        {"RSS after load", "KiB", false, false, func(r *measure.Result, _ int) (float64, bool) { return positive(float64(r.RSSLoad)) }},
	"start":           {"start to first answer", "s", false, false, func(r *measure.Result, _ int) (float64, bool) { return positive(r.StartToAnswer.Seconds()) }},
	"propagation-p50": {"propagation p50 under load", "s", false, false, propValue(50)},
	"propagation-p99": {"propagation p99 under load", "s", false, false, propValue(99)},
	"relist-ratio":    {"peak RSS through a relist / steady RSS", "x", false, false, func(r *measure.Result, _ int) (float64, bool) { return positive(r.Relist.Ratio()) }},
	"relist-peak": {"peak RSS through a relist", "KiB", false, false, func(r *measure.Result, _ int) (float64, bool) {
		if r.Relist == nil {
			return 0, false
		}
		return positive(float64(r.Relist.Peak))
	}},
}

// ParseTargets reads a targets file: see hack/bench/targets.txt.
func ParseTargets(text string) ([]Target, error) {
	var out []Target
	for i, line := range strings.Split(text, "\n") {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		t, err := parseTarget(f)
		if err != nil {
			return nil, fmt.Errorf("targets line %d: %w", i+1, err)
		}
		out = append(out, t)
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
	switch {
	case strings.HasPrefix(goal, ">="):
		t.AtLeast = true
	case !strings.HasPrefix(goal, "<="):
		return t, fmt.Errorf("goal %q does not start with >= or <=", t.Goal)
	}
	num := goal[2:]
	unit, scale := "x", 1.0
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

// targetRow is one checked target.
type targetRow struct {
	what, n, ours, ref, ratio, goal, verdict string
}

// checkTargets checks every target against the run; what it could not
// check is listed in missing.
func checkTargets(cfg *measure.Config, targets []Target, sizes []*measure.Size) (rows []targetRow, missing []string) {
	for _, t := range targets {
		found := false
		for _, sr := range sizes {
			if !t.covers(sr.N, sizes[len(sizes)-1].N) {
				continue
			}
			got := t.check(cfg, sr)
			found = found || len(got) > 0
			rows = append(rows, got...)
		}
		if !found {
			missing = append(missing, fmt.Sprintf("%s of %s at %s %s", t.Metric, t.Who, t.At, t.Goal))
		}
	}
	return rows, missing
}

func (t Target) covers(n, largest int) bool {
	switch t.At {
	case "each":
		return true
	case "largest":
		return n == largest
	}
	return t.At == strconv.Itoa(n)
}

// check gives the target's rows at one N: one, or one per dnsperf setting.
func (t Target) check(cfg *measure.Config, sr *measure.Size) []targetRow {
	m := metrics[t.Metric]
	ours := find(sr, t.Who)
	if ours == nil {
		return nil
	}
	settings := []int{0}
	if m.each {
		settings = settings[:0]
		for i := range ours.Sat {
			settings = append(settings, i)
		}
	}
	var rows []targetRow
	for _, i := range settings {
		v, ok := m.value(ours, i)
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
		row := targetRow{what: what, n: strconv.Itoa(sr.N), ours: m.format(v), goal: strings.NewReplacer(">=", "≥ ", "<=", "≤ ", "x", "×").Replace(t.Goal)}
		x := v
		if len(t.Refs) > 0 {
			ref, rv := bestRef(sr, t.Refs, m, i)
			if ref == nil {
				continue
			}
			what += " vs " + strings.Join(t.Refs, "/")
			row.what, row.ref, row.ratio = what, m.format(rv)+" ("+ref.C.Name+")", fmt.Sprintf("%.2f×", v/rv)
			x = v / rv
		}
		met := x <= t.Bound
		if t.AtLeast {
			met = x >= t.Bound
		}
		row.verdict = map[bool]string{true: "met", false: "**missed**"}[met]
		rows = append(rows, row)
	}
	return rows
}

// bestRef is the better of the named results that have the metric.
func bestRef(sr *measure.Size, names []string, m metric, setting int) (*measure.Result, float64) {
	var best *measure.Result
	var bv float64
	for _, n := range names {
		r := find(sr, n)
		if r == nil {
			continue
		}
		v, ok := m.value(r, setting)
		if ok && (best == nil || (m.higher && v > bv) || (!m.higher && v < bv)) {
			best, bv = r, v
		}
	}
	return best, bv
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
		b.WriteString("| target | N | measured | reference | ratio | goal | result |\n|---|--:|--:|--:|--:|--:|---|\n")
		for _, r := range rows {
			fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.what, r.n, r.ours, r.ref, r.ratio, r.goal, r.verdict)
		}
		b.WriteString("\n")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		fmt.Fprintf(b, "Not measured in this run (N, contender or reference not run): %s.\n\n", strings.Join(missing, "; "))
	}
}
