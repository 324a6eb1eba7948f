package report

import (
	"fmt"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"strconv"
	"strings"
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
	fmt.Fprintf(b, "The contender is started anew and, 1 s after its first answer (*steady*), kube-apiserver is stopped, etcd's revision moved past everything it has seen (one write outside `/registry`), and kube-apiserver started again: its new watch cache begins after the contender's resourceVersions, so every watch is refused with 410 Gone and every reflector lists again (counted in kube-apiserver's audit log: the contender's lists of %s after the restart, list calls or watches streaming the list, `sendInitialEvents=true`, as client-go's WatchListClient does by default from 0.35: CoreDNS streams, kube-dns lists). VmRSS is sampled every %s and VmHWM, reset through `/proc/PID/clear_refs` before the restart, read at the end; *peak* is the higher. *API server start*: from kube-apiserver's exit to it being ready again; *lists in*: from its exit to the end of the contender's last list call, or the start of its last streamed list (kube-apiserver may serve lists before it reports ready); *new Service*: from it being ready to a Service created at once answering; *after*: VmRSS %s later. The VmRSS trace is each contender's `relist/rss.tsv`.\n\n",
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
