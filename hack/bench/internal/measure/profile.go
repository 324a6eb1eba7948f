package measure

import (
	"bufio"
	"bytes"
	"context"
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

// profiled are the contenders profiled, at targetsN only.
var Profiled = []string{"kubedns", "kubedns-reuseport", "knot", "nsd"}

// ProfileAt is the number of Services the profiles are taken at.
const ProfileAt = 10000

// profileTop is how many symbols the report lists per contender.
const profileTop = 12

type profile struct {
	Samples int
	Kernel  float64 // share of the samples in the kernel
	Top     []profileRow
	file    string // perf report --stdio, in the contender's directory
}

type profileRow struct {
	Share      float64
	DSO, Where string // where: the symbol
}

// perfPath is perf's path, "" when it is not installed.
func PerfPath() string {
	p, err := exec.LookPath("perf")
	if err != nil {
		return ""
	}
	return p
}

// measureProfile profiles s while dnsperf saturates it with hits.
func measureProfile(ctx context.Context, cfg *Config, e *contender.Env, s *contender.Server, hits string) (*profile, error) {
	perf := PerfPath()
	if perf == "" {
		return nil, fmt.Errorf("perf is missing: apt-get install -y linux-perf")
	}
	data := filepath.Join(e.Dir, "hits-perf.data")
	pids := make([]string, 0, len(s.PIDs()))
	for _, p := range s.PIDs() {
		pids = append(pids, strconv.Itoa(p))
	}
	// perf samples for one second less than dnsperf runs, starting half a
	// second in, so that it sees only the saturated server.
	window := max(cfg.PerfDuration-time.Second, time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := cfg.dnsperf(ctx, PerfRun{Addr: s.Addr, Queries: hits, out: filepath.Join(e.Dir, "hits-profiled.txt"),
			Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
		done <- err
	}()
	if !proc.Sleep(ctx, 500*time.Millisecond) {
		return nil, ctx.Err()
	}
	rec := exec.CommandContext(ctx, perf, "record", "-q", "-e", "cpu-clock", "-F", "1999", "-g", "-o", data,
		"-p", strings.Join(pids, ","), "--", "sleep", strconv.FormatFloat(window.Seconds(), 'f', -1, 64))
	out, recErr := rec.CombinedOutput()
	if err := <-done; err != nil {
		return nil, err
	}
	if recErr != nil {
		return nil, fmt.Errorf("perf record: %v: %s", recErr, bytes.TrimSpace(out))
	}
	defer os.Remove(data) // tens of MB; the text report stays
	return readProfile(ctx, perf, data, filepath.Join(e.Dir, "hits-profile.txt"))
}

// readProfile reads perf's data into a profile, writing the report by
// symbol to file.
func readProfile(ctx context.Context, perf, data, file string) (*profile, error) {
	p := &profile{file: file}
	report := func(args ...string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, perf, append([]string{"report", "-i", data, "--stdio", "--no-children", "-g", "none"}, args...)...)
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("perf report: %v", err)
		}
		return b, nil
	}
	bySym, err := report("--sort", "dso,sym", "--percent-limit", "0.3")
	if err != nil {
		return nil, err
	}
	byDSO, err := report("--sort", "dso")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(p.file, bySym, 0o644); err != nil {
		return nil, err
	}
	p.Samples = perfSamples(bySym)
	for _, r := range perfRows(byDSO) {
		if strings.HasPrefix(r.DSO, "[kernel") {
			p.Kernel += r.Share
		}
	}
	p.Top = perfRows(bySym)
	p.Top = p.Top[:min(len(p.Top), profileTop)]
	return p, nil
}

// perfSamples reads "# Samples: 12K of event 'cpu-clock'" from a report.
func perfSamples(b []byte) int {
	for line := range strings.Lines(string(b)) {
		rest, ok := strings.CutPrefix(line, "# Samples: ")
		if !ok {
			continue
		}
		f, _, _ := strings.Cut(rest, " ")
		mult := 1
		switch {
		case strings.HasSuffix(f, "K"):
			f, mult = strings.TrimSuffix(f, "K"), 1000
		case strings.HasSuffix(f, "M"):
			f, mult = strings.TrimSuffix(f, "M"), 1000000
		}
		v, _ := strconv.ParseFloat(f, 64)
		return int(v * float64(mult))
	}
	return 0
}

// perfRows reads the rows of a perf report sorted by dso or by dso,sym:
// "    12.34%  kube-dns  [.] main.f", "    60.00%  [kernel.kallsyms]".
func perfRows(b []byte) []profileRow {
	var rows []profileRow
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		pct, rest, ok := strings.Cut(line, "%")
		if !ok {
			continue
		}
		share, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			continue
		}
		rest = strings.TrimSpace(rest)
		dso, sym, _ := strings.Cut(rest, " ")
		sym = strings.TrimSpace(sym)
		sym = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(sym, "[k]"), "[.]"))
		rows = append(rows, profileRow{Share: share / 100, DSO: dso, Where: sym})
	}
	slices.SortStableFunc(rows, func(a, b profileRow) int {
		switch {
		case a.Share > b.Share:
			return -1
		case a.Share < b.Share:
			return 1
		}
		return 0
	})
	return rows
}
