package report

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

// renderSize writes the table of one N, its notes, and its dnsperf
// settings tables.
func renderSize(b *strings.Builder, cfg *measure.Config, sr *measure.Size) {
	fmt.Fprintf(b, "## N = %d\n\nControl plane start and load: %s; the hits file holds %d queries.\n\n", sr.N, sr.LoadTime.Round(100*time.Millisecond), sr.Queries)
	var rows [][]string
	var descs, notes []string
	note := func(r *measure.Result, format string, args ...any) {
		notes = append(notes, "- **"+r.C.Name+": "+fmt.Sprintf(format, args...)+"**")
	}
	for _, r := range sr.Results {
		descs = append(descs, fmt.Sprintf("- %s: %s", r.C.Name, r.C.Desc))
		if r.Skip != "" {
			rows = append(rows, []string{r.C.Name, "skipped", "", "", "", "", "", "", "", "", ""})
			note(r, "skipped: %s", r.Skip)
			continue
		}
		if r.Err != nil {
			note(r, "failed: %v", r.Err)
		}
		rows = append(rows, []string{r.C.Name, qps(r.Hits), qps(r.Misses), lost(r.Hits, r.Misses), percentiles(latencies(r.Fixed), 50, 99),
			cpuPerM(r.CPU), withAnon(r.RSSSync, r.AnonSync), withAnon(r.RSSLoad, r.AnonLoad), measure.Dur(r.StartToAnswer), propagation(r.Prop), otherCPU(r)})
		if c := r.CPU; c != nil && c.RunTime > 0 && float64(c.Completed)/c.RunTime < 0.95*float64(cfg.CPURate) {
			// its CPU per answer is then that of a saturated server
			note(r, "answered %s qps of the %d asked for in the CPU run (%d lost)", measure.Thousands(float64(c.Completed)/c.RunTime), cfg.CPURate, c.Lost)
		}
		for i, x := range []*measure.Perf{r.Hits, r.Misses, r.Fixed, r.CPU} {
			if x != nil && x.Foreign > measure.NoisyCPU {
				note(r, "other processes took %.0f%% of a CPU during the least disturbed of %d %s runs; its numbers are unreliable",
					100*x.Foreign, x.Attempts, []string{"hits", "misses", "fixed-rate", "cpu-rate"}[i])
			}
		}
		if r.Hits != nil && r.Hits.OkShare("NOERROR") < 1 {
			note(r, "hits answered %s", rcodes(r.Hits))
		}
		if r.Misses != nil && (r.C.ReadsAPI || r.C.Zone) && r.Misses.OkShare("NXDOMAIN") < 1 {
			note(r, "misses answered %s", rcodes(r.Misses))
		}
		if r.Prop != nil && r.Prop.Load != nil && r.Prop.Load.Lost > 0 {
			note(r, "%d queries of the load during propagation lost", r.Prop.Load.Lost)
		}
	}
	table(b, "lrrrrrrrrrr", []string{"contender", "hits QPS", "misses QPS", "lost (hits/misses)", fmt.Sprintf("p50 / p99 at %d qps", cfg.Rate),
		fmt.Sprintf("CPU s / M answers at %d qps", cfg.CPURate), "RSS sync", "RSS load", "start", "propagation p50 / p99", "other CPU"}, rows)
	b.WriteString(strings.Join(append(descs, notes...), "\n") + "\n\n")
	renderSettings(b, cfg, sr)
}

// otherCPU is the most CPU other processes took during one of the
// contender's dnsperf runs, as a share of one CPU.
func otherCPU(r *measure.Result) string {
	worst := -1.0
	for _, x := range []*measure.Perf{r.Hits, r.Misses, r.Fixed, r.CPU} {
		if x != nil {
			worst = max(worst, x.Foreign)
		}
	}
	if worst < 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*worst)
}

// latencies are the fixed-rate run's, if any.
func latencies(r *measure.Perf) []float64 {
	if r == nil {
		return nil
	}
	return r.Latencies
}

func rcodes(r *measure.Perf) string {
	var parts []string
	for k, v := range r.Rcodes {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" of %d", r.Completed)
}

func qps(r *measure.Perf) string {
	if r == nil {
		return "–"
	}
	return measure.Thousands(r.QPS)
}

func lost(h, m *measure.Perf) string {
	if h == nil || m == nil {
		return "–"
	}
	return fmt.Sprintf("%d / %d", h.Lost, m.Lost)
}

// percentiles are the given percentiles of xs, "p50 / p99".
func percentiles(xs []float64, ps ...float64) string {
	if len(xs) == 0 {
		return "–"
	}
	var out []string
	for _, p := range ps {
		out = append(out, measure.Ms(measure.Percentile(xs, p)))
	}
	return strings.Join(out, " / ")
}

func propagation(p *measure.PropResult) string {
	if p == nil {
		return "–"
	}
	s := percentiles(p.All(), 50, 99)
	switch {
	case p.Skipped > 0:
		s += fmt.Sprintf(" (%d of %d not answered, %d not tried)", p.Timeouts, len(p.Samples), p.Skipped)
	case p.Timeouts > 0:
		s += fmt.Sprintf(" (%d of %d not answered)", p.Timeouts, len(p.Samples))
	}
	return strings.ReplaceAll(s, "lost", "timeout")
}

func cpuPerM(r *measure.Perf) string {
	if v := measure.CPUPerM(r); !math.IsNaN(v) {
		return fmt.Sprintf("%.2f", v)
	}
	return "–"
}

func withAnon(rss, anon int64) string {
	if anon == 0 {
		return measure.MiB(rss)
	}
	return fmt.Sprintf("%s (%s)", measure.MiB(rss), measure.MiB(anon))
}

// renderSettings writes, for one N, every contender's saturating QPS at
// each dnsperf setting and the CPU split of its hits runs.
func renderSettings(b *strings.Builder, cfg *measure.Config, sr *measure.Size) {
	head := []string{"contender"}
	for _, s := range cfg.PerfSettings {
		head = append(head, "`"+s.String()+"`")
	}
	align := "l" + strings.Repeat("r", len(cfg.PerfSettings))
	var rates, splits [][]string
	for _, r := range sr.Results {
		if r.Skip != "" || len(r.Sat) == 0 {
			continue
		}
		rate, split := []string{r.C.Name}, []string{r.C.Name}
		for _, s := range r.Sat {
			rate = append(rate, satCell(s.Hits)+" / "+satCell(s.Misses))
			cell := "–"
			if best := measure.Best(s.Hits, false); best != nil && best.CPU != (measure.CPUSplit{}) {
				cell = fmt.Sprintf("%.0f%% / %.0f%% / %.0f%%", 100*best.CPU.Server, 100*best.CPU.Dnsperf, 100*best.CPU.Idle)
			}
			split = append(split, cell)
		}
		rates, splits = append(rates, rate), append(splits, split)
	}
	if len(rates) == 0 {
		return
	}
	fmt.Fprintf(b, "### dnsperf settings, N = %d\n\nSaturating runs of %s each; a cell is the best of %d round(s)", sr.N, cfg.PerfDuration, cfg.Rounds)
	if cfg.Rounds > 1 {
		b.WriteString(", and in parentheses how far below it the worst round was")
	}
	b.WriteString(". The first setting is the table's above.\n\nhits QPS / misses QPS:\n\n")
	table(b, align, head, rates)
	fmt.Fprintf(b, "CPU during the best hits run, as shares of all %d CPUs: server / dnsperf / idle:\n\n", runtime.NumCPU())
	table(b, align, head, splits)
}

// satCell is a setting's best QPS and, with several rounds, how far below
// it the worst round was.
func satCell(runs []*measure.Perf) string {
	best, worst := measure.Best(runs, false), measure.Best(runs, true)
	if best == nil {
		return "–"
	}
	s := measure.Thousands(best.QPS)
	if len(runs) > 1 && best.QPS > 0 {
		s += fmt.Sprintf(" (−%.0f%%)", 100*(best.QPS-worst.QPS)/best.QPS)
	}
	return s
}

// renderDnsmasq compares the pod's dnsmasq settings: what negative caching
// and a larger cache change.
func renderDnsmasq(b *strings.Builder, sizes []*measure.Size) {
	var rows [][]string
	for _, sr := range sizes {
		for _, name := range []string{"pod", "pod-negcache", "pod-negcache-cache10k"} {
			if r := find(sr, name); r != nil {
				rows = append(rows, []string{strconv.Itoa(sr.N), name, qps(r.Hits), qps(r.Misses), percentiles(latencies(r.Fixed), 99), measure.MiB(r.RSSLoad), propagation(r.Prop)})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## dnsmasq settings in the pod\n\n`pod` uses the manifest's `--cache-size=1000 --no-negcache`; the variants replace them.\n\n")
	table(b, "rlrrrrr", []string{"N", "variant", "hits QPS", "misses QPS", "p99 at fixed rate", "RSS load", "propagation p50 / p99"}, rows)
	b.WriteString("With negative caching on, a name asked for before the server has seen its Service gets an NXDOMAIN that is then cached: dnsmasq keeps a negative answer for its SOA's TTL and minimum (kube-dns's `--negative-ttl`, 5 s in the variants; dnsmasq's own `--neg-ttl` only applies to negative answers without an SOA, which kube-dns never sends), CoreDNS's `cache` for up to 30 s. The propagation poll starts as soon as the create call returns, often before the watch event has arrived, so those rows can show Services answered only after that time, or not within the timeout; each contender's `propagation.log` lists the first reply for every Service.\n\n")
}

// renderRelist writes the relist table: one row per contender and N.
func renderRelist(b *strings.Builder, sizes []*measure.Size) {
	var rows [][]string
	var notes []string
	for _, sr := range sizes {
		for _, r := range sr.Results {
			if r.RelistErr != nil {
				notes = append(notes, fmt.Sprintf("- **N=%d %s: failed: %v**\n", sr.N, r.C.Name, r.RelistErr))
			}
			if x := r.Relist; x != nil {
				var lists []string
				for _, res := range measure.RelistWatched {
					lists = append(lists, strconv.Itoa(x.Lists[res]))
				}
				peak := measure.MiB(x.Peak)
				if !x.Hwm {
					peak += " (samples only)"
				}
				rows = append(rows, []string{strconv.Itoa(sr.N), r.C.Name, measure.MiB(x.Steady), peak, fmt.Sprintf("%.2f×", x.Ratio()), measure.MiB(x.After),
					measure.Dur(x.Down), measure.Dur(x.Listed), measure.Dur(x.Relist), strings.Join(lists, " / ")})
			}
		}
	}
	if len(rows) == 0 && len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "## Relist\n\nThe contender is started anew; 1 s after its first answer (*steady*) kube-apiserver is restarted with a watch cache newer than all it has seen, so every reflector lists %s again (checked in the audit log). *peak*: the higher of VmRSS sampled every %s and VmHWM; *API server start*: from its exit to ready; *lists in*: from its exit to the contender's last list; *new Service*: from ready to a new Service answering; *after*: VmRSS %s later. Trace: `relist/rss.tsv`.\n\n",
		strings.Join(measure.RelistWatched, ", "), measure.RSSEvery, measure.RelistTail)
	table(b, "rlrrrrrrrr", []string{"N", "contender", "steady RSS", "peak RSS", "peak / steady", "after", "API server start", "lists in", "new Service",
		"lists (" + strings.Join(measure.RelistWatched, " / ") + ")"}, rows)
	if len(notes) > 0 {
		b.WriteString(strings.Join(notes, "") + "\n")
	}
}

// renderStarts writes what the starts cost, by contender and N.
func renderStarts(b *strings.Builder, sizes []*measure.Size) {
	var rows [][]string
	for _, sr := range sizes {
		for _, r := range sr.Results {
			if len(r.StartCosts) == 0 {
				continue
			}
			var cpus []time.Duration
			var bytes, allocs []int64
			for _, c := range r.StartCosts {
				cpus = append(cpus, c.CPU)
				if c.Bytes >= 0 {
					bytes, allocs = append(bytes, c.Bytes), append(allocs, c.Allocs)
				}
			}
			alloc := "–"
			if len(bytes) > 0 {
				slices.Sort(bytes)
				slices.Sort(allocs)
				alloc = fmt.Sprintf("%.1f MiB / %.2f M", float64(bytes[len(bytes)/2])/(1<<20), float64(allocs[len(allocs)/2])/1e6)
			}
			var ms []string
			for _, d := range r.Starts {
				ms = append(ms, strconv.FormatInt(d.Milliseconds(), 10))
			}
			rows = append(rows, []string{strconv.Itoa(sr.N), r.C.Name, measure.Dur(r.StartToAnswer), strings.Join(ms, ", "), measure.Dur(measure.Median(cpus)), alloc})
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Starts\n\nEach start from nothing to the first right answer (medians of the round-robin starts): *CPU* is the user and system time of the contender's processes until then, *allocated* what kube-dns's Go runtime allocated until then (bytes / objects, from its metrics).\n\n")
	table(b, "rlrlrr", []string{"N", "contender", "start", "every start (ms)", "CPU to first answer", "allocated to first answer"}, rows)
}

// renderSizing writes the sizing table: per N and contender, start, RSS
// after sync and after a short load, and the relist, each RSS with its
// anonymous part (RssAnon), which is what the memory cgroup cannot reclaim:
// file-backed pages of the binary count in RSS but can be dropped.
func renderSizing(b *strings.Builder, cfg *measure.Config, sizes []*measure.Size) {
	if !cfg.Measures(measure.Sizing) {
		return
	}
	var rows [][]string
	for _, sr := range sizes {
		for _, r := range sr.Results {
			if r.Skip != "" || r.Err != nil {
				continue
			}
			steady, peak := "–", "–"
			if x := r.Relist; x != nil {
				steady, peak = withAnon(x.Steady, x.SteadyAnon), withAnon(x.Peak, x.PeakAnon)
			}
			rows = append(rows, []string{strconv.Itoa(sr.N), r.C.Name, measure.Dur(r.StartToAnswer), measure.MiB(r.StartPeak),
				withAnon(r.RSSSync, r.AnonSync), withAnon(r.RSSLoad, r.AnonLoad), steady, peak})
		}
	}
	fmt.Fprintf(b, "## Sizing\n\nStart: the median of %d starts to the first answer; *start peak*: VmHWM 1 s after the first answer (no memory limit). RSS (VmRSS, in parentheses its anonymous part RssAnon) 1 s after the first answer, after a %s saturating hits run (`%s`), and through a relist (see *Relist*; the anonymous peak is the samples' highest). Chart: `chart.svg`.\n\n",
		cfg.StartRuns, cfg.PerfDuration, cfg.PerfSettings[0])
	table(b, "rlrrrrrr", []string{"N", "contender", "start", "start peak", "RSS after sync", "RSS after load", "relist steady", "relist peak"}, rows)
}

// renderProfiles writes the profiles taken at measure.ProfileAt.
func renderProfiles(b *strings.Builder, cfg *measure.Config, sizes []*measure.Size) {
	i := slices.IndexFunc(sizes, func(s *measure.Size) bool { return s.N == measure.ProfileAt })
	if i < 0 || !cfg.Measures("profile") {
		return
	}
	fmt.Fprintf(b, "## Profiles at saturation (N=%d)\n\n", measure.ProfileAt)
	if measure.PerfPath() == "" {
		b.WriteString("Not taken: perf is missing (Debian package `linux-perf`).\n\n")
		return
	}
	fmt.Fprintf(b, "One more saturating hits run (`%s`) per contender with `perf record -e cpu-clock -F 1999 -g -p <server pids>` attached for all but its first and last half second; shares of the server's samples. The full reports are `hits-profile.txt` in each contender's directory.\n\n",
		cfg.PerfSettings[0])
	for _, name := range measure.Profiled {
		r := find(sizes[i], name)
		switch {
		case r == nil:
		case r.ProfileErr != nil:
			fmt.Fprintf(b, "**%s**: not profiled: %v\n\n", name, r.ProfileErr)
		case r.Profile != nil:
			p := r.Profile
			fmt.Fprintf(b, "**%s**: %d samples, %.0f%% in the kernel.\n\n", name, p.Samples, 100*p.Kernel)
			var rows [][]string
			for _, row := range p.Top {
				rows = append(rows, []string{fmt.Sprintf("%.1f%%", 100*row.Share), row.DSO, "`" + shortSymbol(row.Where) + "`"})
			}
			table(b, "rll", []string{"share", "where", "symbol"}, rows)
		}
	}
}

// shortSymbol trims a Go symbol's package path and a long one's tail.
func shortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 && !strings.Contains(s[:i], " ") {
		s = s[i+1:]
	}
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
