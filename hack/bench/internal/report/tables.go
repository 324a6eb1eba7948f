package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

// renderRelist writes the relist table: one row per contender and N.
func renderRelist(b *strings.Builder, sizes []*measure.Size) {
	var rows []string
	var notes []string
	for _, sr := range sizes {
		for _, r := range sr.Results {
			switch {
			case r.RelistErr != nil:
				notes = append(notes, fmt.Sprintf("N=%d %s: failed: %v", sr.N, r.C.Name, r.RelistErr))
			case r.Relist != nil:
				x := r.Relist
				lists := make([]string, 0, len(measure.RelistWatched))
				for _, res := range measure.RelistWatched {
					lists = append(lists, strconv.Itoa(x.Lists[res]))
				}
				peak := measure.MiB(x.Peak)
				if !x.Hwm {
					peak += " (samples only)"
				}
				rows = append(rows, fmt.Sprintf("| %d | %s | %s | %s | %.2f× | %s | %s | %s | %s | %s |", sr.N, r.C.Name,
					measure.MiB(x.Steady), peak, x.Ratio(), measure.MiB(x.After), measure.Dur(x.Down), measure.Dur(x.Listed), measure.Dur(x.Relist), strings.Join(lists, " / ")))
			}
		}
	}
	if len(rows) == 0 && len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "## Relist\n\n")
	fmt.Fprintf(b, "The contender is started anew; 1 s after its first answer (*steady*) kube-apiserver is restarted with a watch cache newer than all it has seen, so every reflector lists %s again (checked in the audit log). *peak*: the higher of VmRSS sampled every %s and VmHWM; *API server start*: from its exit to ready; *lists in*: from its exit to the contender's last list; *new Service*: from ready to a new Service answering; *after*: VmRSS %s later. Trace: `relist/rss.tsv`.\n\n",
		strings.Join(measure.RelistWatched, ", "), measure.RSSEvery, measure.RelistTail)
	fmt.Fprintf(b, "| N | contender | steady RSS | peak RSS | peak / steady | after | API server start | lists in | new Service | lists (%s) |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
		strings.Join(measure.RelistWatched, " / "))
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- **%s**\n", n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
}

// renderStarts writes what the starts cost, by contender and N.
func renderStarts(b *strings.Builder, sizes []*measure.Size) {
	var rows []string
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
				alloc = fmt.Sprintf("%.1f MiB / %.2f M", float64(medianInt(bytes))/(1<<20), float64(medianInt(allocs))/1e6)
			}
			all := make([]string, len(r.Starts))
			for i, d := range r.Starts {
				all[i] = strconv.FormatInt(d.Milliseconds(), 10)
			}
			rows = append(rows, fmt.Sprintf("| %d | %s | %s | %s | %s | %s |", sr.N, r.C.Name, measure.Dur(r.StartToAnswer),
				strings.Join(all, ", "), measure.Dur(measure.Median(cpus)), alloc))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Starts\n\nEach start from nothing to the first right answer (medians of the round-robin starts): *CPU* is the user and system time of the contender's processes until then, *allocated* what kube-dns's Go runtime allocated until then (bytes / objects, from its metrics).\n\n")
	b.WriteString("| N | contender | start | every start (ms) | CPU to first answer | allocated to first answer |\n|--:|---|--:|---|--:|--:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
}

func medianInt(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// renderSizing writes the sizing table: per N and contender, start, RSS
// after sync and after a short load, and the relist, each RSS with its
// anonymous part (RssAnon), which is what the memory cgroup cannot reclaim:
// file-backed pages of the binary count in RSS but can be dropped.
func renderSizing(b *strings.Builder, cfg *measure.Config, sizes []*measure.Size) {
	if !cfg.Measures(measure.Sizing) {
		return
	}
	b.WriteString("## Sizing\n\n")
	fmt.Fprintf(b, "Start: the median of %d starts to the first answer. RSS (VmRSS, in parentheses its anonymous part RssAnon) 1 s after the first answer, after a %s saturating hits run (`%s`), and through a relist (see *Relist*; the anonymous peak is the samples' highest). Chart: `chart.svg`.\n\n",
		cfg.StartRuns, cfg.PerfDuration, cfg.PerfSettings[0])
	b.WriteString("| N | contender | start | RSS after sync | RSS after load | relist steady | relist peak |\n|--:|---|--:|--:|--:|--:|--:|\n")
	for _, sr := range sizes {
		for _, r := range sr.Results {
			if r.Skip != "" || r.Err != nil {
				continue
			}
			steady, peak := "–", "–"
			if x := r.Relist; x != nil {
				steady, peak = withAnon(x.Steady, x.SteadyAnon), withAnon(x.Peak, x.PeakAnon)
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s |\n", sr.N, r.C.Name, measure.Dur(r.StartToAnswer),
				withAnon(r.RSSSync, r.AnonSync), withAnon(r.RSSLoad, r.AnonLoad), steady, peak)
		}
	}
	b.WriteString("\n")
}

func withAnon(rss, anon int64) string {
	if anon == 0 {
		return measure.MiB(rss)
	}
	return fmt.Sprintf("%s (%s)", measure.MiB(rss), measure.MiB(anon))
}

// renderProfiles writes the profiles taken at targetsN.
func renderProfiles(b *strings.Builder, cfg *measure.Config, sizes []*measure.Size) {
	var sr *measure.Size
	for _, s := range sizes {
		if s.N == measure.ProfileAt {
			sr = s
		}
	}
	if sr == nil || !cfg.Measures("profile") {
		return
	}
	fmt.Fprintf(b, "## Profiles at saturation (N=%d)\n\n", sr.N)
	if measure.PerfPath() == "" {
		b.WriteString("Not taken: perf is missing (Debian package `linux-perf`).\n\n")
		return
	}
	fmt.Fprintf(b, "One more saturating hits run (`%s`) per contender with `perf record -e cpu-clock -F 1999 -g -p <server pids>` attached for all but its first and last half second; shares of the server's samples. The full reports are `hits-profile.txt` in each contender's directory.\n\n",
		cfg.PerfSettings[0])
	for _, name := range measure.Profiled {
		r := find(sr, name)
		if r == nil {
			continue
		}
		switch {
		case r.ProfileErr != nil:
			fmt.Fprintf(b, "**%s**: not profiled: %v\n\n", name, r.ProfileErr)
			continue
		case r.Profile == nil:
			continue
		}
		p := r.Profile
		fmt.Fprintf(b, "**%s**: %d samples, %.0f%% in the kernel.\n\n| share | where | symbol |\n|--:|---|---|\n", name, p.Samples, 100*p.Kernel)
		for _, row := range p.Top {
			fmt.Fprintf(b, "| %.1f%% | %s | `%s` |\n", 100*row.Share, row.DSO, ShortSymbol(row.Where))
		}
		b.WriteString("\n")
	}
}

// ShortSymbol trims a Go symbol's package path and a long one's tail.
func ShortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 && !strings.Contains(s[:i], " ") {
		s = s[i+1:]
	}
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
