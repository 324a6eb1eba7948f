package report

import (
	"fmt"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

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
