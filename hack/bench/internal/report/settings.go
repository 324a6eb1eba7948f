package report

import (
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

// renderMethod writes the run's parameters; what they measure is in
// hack/bench/README.md (*Measurements*).
func renderMethod(b *strings.Builder, cfg *measure.Config) {
	rounds := "one round"
	if cfg.Rounds > 1 {
		rounds = fmt.Sprintf("the best of %d rounds", cfg.Rounds)
	}
	args := cfg.DnsperfArgs(measure.PerfRun{Addr: "127.0.0.1:PORT", Queries: "hits.txt", Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
	fmt.Fprintf(b, "## Method\n\nWhat each figure is: hack/bench/README.md, *Measurements*. Each contender runs alone on this machine, over loopback, beside the control plane and dnsperf. This run:\n\n")
	fmt.Fprintf(b, "- **QPS**: dnsperf saturating the server for %s (`dnsperf %s`), at each of %s, %s (rounds outermost); **lost**: no answer within 2 s.\n",
		cfg.PerfDuration, strings.Join(args, " "), settingList(cfg.PerfSettings), rounds)
	fmt.Fprintf(b, "- **p50/p99**: hits at %d qps for %s; **CPU s / M answers**: hits at %d qps for %s, the server's CPU time per million answers; **CPU split**: server / dnsperf / idle as shares of all %d CPUs.\n",
		cfg.Rate, cfg.Duration, cfg.CPURate, cfg.Duration, runtime.NumCPU())
	fmt.Fprintf(b, "- **RSS**: VmRSS (its anonymous part RssAnon in parentheses) summed over the contender's processes, 1 s after the first answer (*sync*) and after the load (*load*); **start**: the median of %d starts to the first answer, round robin over the contenders.\n", cfg.StartRuns)
	fmt.Fprintf(b, "- **propagation**: %d Services created one at a time under %d qps of hits, each polled until answered (given up after %s); **other CPU**: the most that processes outside the benchmark took during one of the row's dnsperf runs, a run over %.0f%% of a CPU repeated (twice at most).\n\n",
		cfg.PropCount, cfg.Rate, cfg.PropTimeout, 100*measure.NoisyCPU)
}

func settingList(ss []measure.PerfSetting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, "`"+s.String()+"`")
	}
	return strings.Join(parts, ", ")
}

func CPUPerMCell(r *measure.Perf) string {
	v := measure.CPUPerM(r)
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

// cpuNotes flags a CPU run that did not get the rate asked for: its CPU per
// answer is then that of a saturated server.
func cpuNotes(cfg *measure.Config, r *measure.Result) []string {
	if r.CPU == nil || r.CPU.RunTime == 0 {
		return nil
	}
	got := float64(r.CPU.Completed) / r.CPU.RunTime
	if got < 0.95*float64(cfg.CPURate) {
		return []string{fmt.Sprintf("%s: answered %s qps of the %d asked for in the CPU run (%d lost)",
			r.C.Name, measure.Thousands(got), cfg.CPURate, r.CPU.Lost)}
	}
	return nil
}

func splitCell(r *measure.Perf) string {
	if r == nil || r.CPU == (measure.CPUSplit{}) {
		return "–"
	}
	return fmt.Sprintf("%.0f%% / %.0f%% / %.0f%%", 100*r.CPU.Server, 100*r.CPU.Dnsperf, 100*r.CPU.Idle)
}

// SatCell is a setting's best QPS and, with several rounds, how far below
// it the worst round was.
func SatCell(runs []*measure.Perf) string {
	b, w := measure.Best(runs), measure.Worst(runs)
	if b == nil {
		return "–"
	}
	s := measure.Thousands(b.QPS)
	if len(runs) > 1 && b.QPS > 0 {
		s += fmt.Sprintf(" (−%.0f%%)", 100*(b.QPS-w.QPS)/b.QPS)
	}
	return s
}

// renderSettings writes, for one N, every contender's saturating QPS at
// each dnsperf setting and the CPU split of its hits runs.
func renderSettings(b *strings.Builder, cfg *measure.Config, sr *measure.Size) {
	var rows []*measure.Result
	for _, r := range sr.Results {
		if r.Skip == "" && len(r.Sat) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### dnsperf settings, N = %d\n\n", sr.N)
	p("Saturating runs of %s each; a cell is the best of %d round(s)", cfg.PerfDuration, cfg.Rounds)
	if cfg.Rounds > 1 {
		p(", and in parentheses how far below it the worst round was")
	}
	p(". The first setting is the table's above.\n\n")
	head := func() {
		p("| contender |")
		for _, s := range rows[0].Sat {
			p(" `%s` |", s.Setting)
		}
		p("\n|---|")
		for range rows[0].Sat {
			p("--:|")
		}
		p("\n")
	}
	p("hits QPS / misses QPS:\n\n")
	head()
	for _, r := range rows {
		p("| %s |", r.C.Name)
		for _, s := range r.Sat {
			p(" %s / %s |", SatCell(s.Hits), SatCell(s.Misses))
		}
		p("\n")
	}
	p("\nCPU during the best hits run, as shares of all %d CPUs: server / dnsperf / idle:\n\n", runtime.NumCPU())
	head()
	for _, r := range rows {
		p("| %s |", r.C.Name)
		for _, s := range r.Sat {
			p(" %s |", splitCell(measure.Best(s.Hits)))
		}
		p("\n")
	}
	p("\n")
}
