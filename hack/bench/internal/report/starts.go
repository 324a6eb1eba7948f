package report

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

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
