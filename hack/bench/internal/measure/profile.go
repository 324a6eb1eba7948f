package measure

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// The profile measurement: where the CPU goes at saturation, for the servers
// the targets hold kube-dns to. After the measured runs, one more saturating
// hits run (the first setting) is made with perf attached to the server's
// processes, sampling the CPU clock (no hardware counters are needed); the
// report lists each profiled contender's share in the kernel and its
// heaviest symbols. The run itself is not reported: perf costs the server a
// little. Without perf (Debian package linux-perf) nothing is profiled and the
// report says so.

// Profiled are the contenders profiled, at ProfileAt Services only.
var Profiled = []string{"kubedns", "kubedns-reuseport", "knot", "nsd"}

// ProfileAt is the number of Services the profiles are taken at.
const ProfileAt = 10000

type profile struct {
	Samples int
	Kernel  float64 // share of the samples in the kernel
	Top     []profileRow
}

type profileRow struct {
	Share      float64
	DSO, Where string // where: the symbol
}

// PerfPath is perf's path, "" when it is not installed.
func PerfPath() string {
	p, _ := exec.LookPath("perf")
	return p
}

// measureProfile profiles s while dnsperf saturates it with hits; the
// report by symbol is left in hits-profile.txt.
func measureProfile(ctx context.Context, cfg *Config, e *contender.Env, s *contender.Server, hits string) (*profile, error) {
	perf := PerfPath()
	if perf == "" {
		return nil, errors.New("perf is missing: apt-get install -y linux-perf")
	}
	data := filepath.Join(e.Dir, "hits-perf.data")
	var pids []string
	for _, p := range s.PIDs() {
		pids = append(pids, strconv.Itoa(p))
	}
	done := make(chan error, 1)
	go func() {
		_, err := dnsperf(ctx, PerfRun{Addr: s.Addr, Queries: hits, out: filepath.Join(e.Dir, "hits-profiled.txt"),
			Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
		done <- err
	}()
	if !proc.Sleep(ctx, 500*time.Millisecond) {
		return nil, ctx.Err()
	}
	// perf samples for one second less than dnsperf runs, starting half a
	// second in, so that it sees only the saturated server.
	window := max(cfg.PerfDuration-time.Second, time.Second)
	out, recErr := exec.CommandContext(ctx, perf, "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-o", data,
		"-p", strings.Join(pids, ","), "--", "sleep", strconv.FormatFloat(window.Seconds(), 'f', -1, 64)).CombinedOutput()
	if err := <-done; err != nil {
		return nil, err
	}
	if recErr != nil {
		return nil, fmt.Errorf("perf record: %v: %s", recErr, bytes.TrimSpace(out))
	}
	defer os.Remove(data) // tens of MB; the text report stays
	var reports [2][]byte
	for i, sort := range [][]string{{"dso,sym", "--percent-limit", "0.3"}, {"dso"}} {
		cmd := exec.CommandContext(ctx, perf, append([]string{"report", "-i", data, "--stdio", "--no-children", "-g", "none", "--sort"}, sort...)...)
		if reports[i], recErr = cmd.Output(); recErr != nil {
			return nil, fmt.Errorf("perf report: %v", recErr)
		}
	}
	p := &profile{Samples: perfSamples(reports[0]), Top: perfRows(reports[0])}
	p.Top = p.Top[:min(len(p.Top), 12)]
	for _, r := range perfRows(reports[1]) {
		if strings.HasPrefix(r.DSO, "[kernel") {
			p.Kernel += r.Share
		}
	}
	return p, os.WriteFile(filepath.Join(e.Dir, "hits-profile.txt"), reports[0], 0o644)
}

// perfSamples reads "# Samples: 12K of event 'cpu-clock'" from a report.
func perfSamples(b []byte) int {
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "# Samples: "); ok {
			f, _, _ := strings.Cut(rest, " ")
			v, _ := strconv.ParseFloat(strings.TrimRight(f, "KM"), 64)
			switch {
			case strings.HasSuffix(f, "K"):
				v *= 1e3
			case strings.HasSuffix(f, "M"):
				v *= 1e6
			}
			return int(v)
		}
	}
	return 0
}

// perfRows reads the rows of a perf report sorted by dso or by dso,sym,
// "    12.34%  kube-dns  [.] main.f" or "    60.00%  [kernel.kallsyms]",
// the largest first.
func perfRows(b []byte) []profileRow {
	var rows []profileRow
	for line := range strings.Lines(string(b)) {
		pct, rest, ok := strings.Cut(strings.TrimSpace(line), "%")
		share, err := strconv.ParseFloat(pct, 64)
		if !ok || err != nil {
			continue
		}
		dso, sym, _ := strings.Cut(strings.TrimSpace(rest), " ")
		sym = strings.TrimSpace(sym)
		sym = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(sym, "[k]"), "[.]"))
		rows = append(rows, profileRow{Share: share / 100, DSO: dso, Where: sym})
	}
	slices.SortStableFunc(rows, func(a, b profileRow) int { return cmp.Compare(b.Share, a.Share) })
	return rows
}
