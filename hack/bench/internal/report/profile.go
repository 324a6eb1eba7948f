package report

import (
	"fmt"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

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

// shortSymbol trims a Go symbol's package path and a long one's tail.
func ShortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 && !strings.Contains(s[:i], " ") {
		s = s[i+1:]
	}
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
