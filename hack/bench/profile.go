package main

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
)

// The profile measurement: where the CPU goes at saturation, for the servers
// issue 16 holds kube-dns to. After the measured runs, one more saturating
// hits run (the first setting) is made with perf attached to the server's
// processes, sampling the CPU clock (no hardware counters are needed); the
// report lists each profiled contender's share in the kernel and its
// heaviest symbols. The run itself is not reported: perf costs the server a
// little. Without perf (Debian package linux-perf) nothing is profiled and the
// report says so.

// profiled are the contenders profiled, at targetsN only.
var profiled = []string{"kubedns", "kubedns-reuseport", "knot", "nsd"}

// profileTop is how many symbols the report lists per contender.
const profileTop = 12

type profile struct {
	samples int
	kernel  float64 // share of the samples in the kernel
	top     []profileRow
	file    string // perf report --stdio, in the contender's directory
}

type profileRow struct {
	share      float64
	dso, where string // where: the symbol
}

// perfPath is perf's path, "" when it is not installed.
func perfPath() string {
	p, err := exec.LookPath("perf")
	if err != nil {
		return ""
	}
	return p
}

// measureProfile profiles s while dnsperf saturates it with hits.
func measureProfile(ctx context.Context, e *benchEnv, s *server, hits string) (*profile, error) {
	perf := perfPath()
	if perf == "" {
		return nil, fmt.Errorf("perf is missing: apt-get install -y linux-perf")
	}
	data := filepath.Join(e.dir, "hits-perf.data")
	pids := make([]string, 0, len(s.pids()))
	for _, p := range s.pids() {
		pids = append(pids, strconv.Itoa(p))
	}
	// perf samples for one second less than dnsperf runs, starting half a
	// second in, so that it sees only the saturated server.
	window := max(e.cfg.perfDuration-time.Second, time.Second)
	done := make(chan error, 1)
	go func() {
		_, err := e.cfg.dnsperf(ctx, perfRun{addr: s.addr, queries: hits, out: filepath.Join(e.dir, "hits-profiled.txt"),
			duration: e.cfg.perfDuration, setting: e.cfg.perfSettings[0]})
		done <- err
	}()
	if !sleep(ctx, 500*time.Millisecond) {
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
	p := &profile{file: filepath.Join(e.dir, "hits-profile.txt")}
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
	p.samples = perfSamples(bySym)
	for _, r := range perfRows(byDSO) {
		if strings.HasPrefix(r.dso, "[kernel") {
			p.kernel += r.share
		}
	}
	p.top = perfRows(bySym)
	p.top = p.top[:min(len(p.top), profileTop)]
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
		rows = append(rows, profileRow{share: share / 100, dso: dso, where: sym})
	}
	slices.SortStableFunc(rows, func(a, b profileRow) int {
		switch {
		case a.share > b.share:
			return -1
		case a.share < b.share:
			return 1
		}
		return 0
	})
	return rows
}

// renderProfiles writes the profiles taken at targetsN.
func renderProfiles(b *strings.Builder, cfg *config, sizes []*sizeResult) {
	var sr *sizeResult
	for _, s := range sizes {
		if s.n == targetsN {
			sr = s
		}
	}
	if sr == nil || !cfg.measures("profile") {
		return
	}
	fmt.Fprintf(b, "## Profiles at saturation (N=%d)\n\n", sr.n)
	if perfPath() == "" {
		b.WriteString("Not taken: perf is missing (Debian package `linux-perf`).\n\n")
		return
	}
	fmt.Fprintf(b, "One more saturating hits run (`%s`) per contender with `perf record -e cpu-clock -F 1999 -g -p <server pids>` attached for all but its first and last half second; shares of the server's samples. The full reports are `hits-profile.txt` in each contender's directory.\n\n",
		cfg.perfSettings[0])
	for _, name := range profiled {
		r := find(sr, name)
		if r == nil {
			continue
		}
		switch {
		case r.profileErr != nil:
			fmt.Fprintf(b, "**%s**: not profiled: %v\n\n", name, r.profileErr)
			continue
		case r.profile == nil:
			continue
		}
		p := r.profile
		fmt.Fprintf(b, "**%s**: %d samples, %.0f%% in the kernel.\n\n| share | where | symbol |\n|--:|---|---|\n", name, p.samples, 100*p.kernel)
		for _, row := range p.top {
			fmt.Fprintf(b, "| %.1f%% | %s | `%s` |\n", 100*row.share, row.dso, shortSymbol(row.where))
		}
		b.WriteString("\n")
	}
}

// shortSymbol trims a Go symbol's package path and a long one's tail.
func shortSymbol(s string) string {
	if i := strings.LastIndex(s, "/"); i >= 0 && !strings.Contains(s[:i], " ") {
		s = s[i+1:]
	}
	if len(s) > 90 {
		s = s[:87] + "..."
	}
	return strings.ReplaceAll(s, "|", "\\|")
}
