package report

import (
	"fmt"
	"strconv"
	"strings"

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
