package measure

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// On 2 cores the QPS ratios between contenders move by ±20% with dnsperf's
// own settings (how many sockets, threads and queries in flight), as
// dnsperf competes with the server for the CPUs. The saturating runs are
// therefore repeated for several settings, and in rounds.

// PerfSetting is one dnsperf load shape of the saturating runs.
type PerfSetting struct{ Clients, Threads, Outstanding int }

// String is the setting as dnsperf's flags.
func (s PerfSetting) String() string {
	return fmt.Sprintf("-c %d -T %d -q %d", s.Clients, s.Threads, s.Outstanding)
}

// ParsePerfSettings reads "C:T:Q,C:T:Q,…" (dnsperf -c, -T, -q).
func ParsePerfSettings(s string) ([]PerfSetting, error) {
	var out []PerfSetting
	for part := range strings.SplitSeq(s, ",") {
		var v [3]int
		f := strings.Split(strings.TrimSpace(part), ":")
		for i := range v {
			if len(f) == 3 {
				v[i], _ = strconv.Atoi(f[i])
			}
		}
		if min(v[0], v[1], v[2]) < 1 {
			return nil, fmt.Errorf("perf-settings: %q is not clients:threads:outstanding, all positive", part)
		}
		if st := (PerfSetting{v[0], v[1], v[2]}); !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("perf-settings: no setting")
	}
	return out, nil
}

// SatRuns are the saturating runs of one setting, one per round.
type SatRuns struct {
	Setting      PerfSetting
	Hits, Misses []*Perf
}

// Best is the run of highest QPS: noise on a shared machine only lowers a
// run's rate, so the best of the rounds is the least disturbed. With worst,
// it is the run of lowest QPS.
func Best(runs []*Perf, worst bool) *Perf {
	var b *Perf
	for _, r := range runs {
		if r != nil && (b == nil || (r.QPS > b.QPS) != worst) {
			b = r
		}
	}
	return b
}
