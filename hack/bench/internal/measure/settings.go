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

// tag names the setting in file names: c4T2q100.
func (s PerfSetting) tag() string {
	return fmt.Sprintf("c%dT%dq%d", s.Clients, s.Threads, s.Outstanding)
}

// ExtraSettings follow the main setting (--clients, --threads,
// --outstanding) unless --perf-settings says otherwise: one socket and
// thread, and twice the sockets with more queries in flight.
const ExtraSettings = "1:1:64,8:2:200"

// ParsePerfSettings reads "C:T:Q,C:T:Q,…" (dnsperf -c, -T, -q), each also
// accepted as dnsperf's own flags, "-c 4 -T 2 -q 100", the list then
// separated by ';'.
func ParsePerfSettings(s string) ([]PerfSetting, error) {
	sep := ","
	if strings.Contains(s, "-") {
		sep = ";"
	}
	var out []PerfSetting
	for part := range strings.SplitSeq(s, sep) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		st, err := parsePerfSetting(part)
		if err != nil {
			return nil, fmt.Errorf("perf-settings: %q: %w", part, err)
		}
		if !slices.Contains(out, st) {
			out = append(out, st)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("perf-settings: no setting")
	}
	return out, nil
}

func parsePerfSetting(s string) (PerfSetting, error) {
	var st PerfSetting
	if !strings.HasPrefix(s, "-") {
		f := strings.Split(s, ":")
		if len(f) != 3 {
			return st, errors.New("want clients:threads:outstanding")
		}
		for i, p := range []*int{&st.Clients, &st.Threads, &st.Outstanding} {
			v, err := strconv.Atoi(strings.TrimSpace(f[i]))
			if err != nil {
				return st, err
			}
			*p = v
		}
	} else {
		f := strings.Fields(s)
		if len(f)%2 != 0 {
			return st, errors.New("want flag value pairs")
		}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.Atoi(f[i+1])
			if err != nil {
				return st, err
			}
			switch f[i] {
			case "-c":
				st.Clients = v
			case "-T":
				st.Threads = v
			case "-q":
				st.Outstanding = v
			default:
				return st, fmt.Errorf("unknown flag %s (-c, -T and -q only)", f[i])
			}
		}
	}
	if st.Clients < 1 || st.Threads < 1 || st.Outstanding < 1 {
		return st, errors.New("-c, -T and -q must all be given and positive")
	}
	return st, nil
}

// SatRuns are the saturating runs of one setting, one per round.
type SatRuns struct {
	Setting      PerfSetting
	Hits, Misses []*Perf
}

// Best is the run of highest QPS: noise on a shared machine only lowers a
// run's rate, so the best of the rounds is the least disturbed.
func Best(runs []*Perf) *Perf {
	var b *Perf
	for _, r := range runs {
		if r != nil && (b == nil || r.QPS > b.QPS) {
			b = r
		}
	}
	return b
}

// Worst is the run of lowest QPS.
func Worst(runs []*Perf) *Perf {
	var w *Perf
	for _, r := range runs {
		if r != nil && (w == nil || r.QPS < w.QPS) {
			w = r
		}
	}
	return w
}
