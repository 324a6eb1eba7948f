package measure

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Perf is what one dnsperf run reported.
type Perf struct {
	sent, Completed, Lost int64
	QPS                   float64
	RunTime               float64 // seconds
	avgLatency            float64 // seconds
	Rcodes                map[string]int64
	Latencies             []float64 // seconds, one per query in verbose mode; +Inf for a lost one
	file                  string    // the raw output
	Foreign               float64   // share of one CPU other processes took during the run
	CPU                   CPUSplit  // where the machine's CPU time went during the run
	Attempts              int
}

// OkShare is the share of completed queries answered with rcode.
func (r *Perf) OkShare(rcode string) float64 {
	if r == nil || r.Completed == 0 {
		return 0
	}
	return float64(r.Rcodes[rcode]) / float64(r.Completed)
}

// parseDNSPerf reads dnsperf's output: the statistics block and, with -v,
// one "> RCODE name type latency" line per query ("> T name type" when it
// timed out).
func parseDNSPerf(r io.Reader) (*Perf, error) {
	res := &Perf{Rcodes: map[string]int64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			res.latency(strings.Fields(rest))
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		seen = seen || key == "Queries sent"
		if err := res.statistic(key, strings.TrimSpace(val)); err != nil {
			return nil, fmt.Errorf("dnsperf output: %q: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !seen {
		return nil, fmt.Errorf("dnsperf output has no statistics")
	}
	return res, nil
}

// latency reads a "> RCODE name type latency" line ("> T name type" for a
// query that timed out).
func (res *Perf) latency(f []string) {
	switch {
	case len(f) == 0:
	case f[0] == "T":
		res.Latencies = append(res.Latencies, math.Inf(1))
	case len(f) >= 2:
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			res.Latencies = append(res.Latencies, v)
		}
	}
}

// statistic reads one "key: value" line of the statistics block.
func (res *Perf) statistic(key, val string) error {
	first := ""
	if f := strings.Fields(val); len(f) > 0 {
		first = f[0]
	}
	var err error
	switch key {
	case "Queries sent":
		res.sent, err = strconv.ParseInt(first, 10, 64)
	case "Queries completed":
		res.Completed, err = strconv.ParseInt(first, 10, 64)
	case "Queries lost":
		res.Lost, err = strconv.ParseInt(first, 10, 64)
	case "Run time (s)":
		res.RunTime, err = strconv.ParseFloat(first, 64)
	case "Queries per second":
		res.QPS, err = strconv.ParseFloat(first, 64)
	case "Average Latency (s)":
		res.avgLatency, err = strconv.ParseFloat(first, 64)
	case "Response codes": // "NOERROR 2 (50.00%), NXDOMAIN 2 (50.00%)"
		for part := range strings.SplitSeq(val, ",") {
			if f := strings.Fields(part); len(f) >= 2 {
				if res.Rcodes[f[0]], err = strconv.ParseInt(f[1], 10, 64); err != nil {
					return err
				}
			}
		}
	}
	return err
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, which
// it sorts; NaN for no values.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = min(max(rank, 1), len(xs))
	return xs[rank-1]
}

// PerfRun is one dnsperf invocation.
type PerfRun struct {
	Addr, Queries, out string
	Duration           time.Duration
	rate               int // -Q; 0 saturates
	verbose            bool
	own                []int // the benchmark's processes besides dnsperf and this one
	server             []int // the server's processes, among own
	// setting is the saturating run's -c, -T and -q; unset, the config's
	// (--clients, --threads, --outstanding).
	Setting PerfSetting
}

func (c *Config) DnsperfArgs(r PerfRun) []string {
	host, port, _ := strings.Cut(r.Addr, ":")
	st := r.Setting
	if st == (PerfSetting{}) {
		st = PerfSetting{Clients: c.Clients, Threads: c.Threads, Outstanding: c.Outstanding}
	}
	args := []string{"-s", host, "-p", port, "-d", r.Queries,
		"-l", strconv.FormatFloat(r.Duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(st.Clients), "-q", strconv.Itoa(st.Outstanding), "-t", "2"}
	if r.rate > 0 {
		args = append(args, "-Q", strconv.Itoa(r.rate), "-T", "1")
	} else {
		args = append(args, "-T", strconv.Itoa(st.Threads))
	}
	if r.verbose {
		args = append(args, "-v")
	}
	return args
}

// dnsperf runs one bounded dnsperf, its output in r.out, and parses it.
func (c *Config) dnsperf(ctx context.Context, r PerfRun) (*Perf, error) {
	ctx, cancel := context.WithTimeout(ctx, r.Duration+30*time.Second)
	defer cancel()
	own := append([]int{os.Getpid()}, r.own...)
	before := markCPU(own, r.server)
	cmd, out, err := c.startDNSPerf(ctx, r)
	if err != nil {
		return nil, err
	}
	werr := cmd.Wait()
	after := markCPU(own, r.server)
	out.Close()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("dnsperf (output: %s): %w", r.out, err)
	}
	if werr != nil {
		return nil, fmt.Errorf("dnsperf %s: %w (output: %s)", strings.Join(cmd.Args[1:], " "), werr, r.out)
	}
	res, err := readDNSPerf(r.out)
	if err != nil {
		return nil, err
	}
	used := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	res.Foreign = foreignShare(before, after, int64(used/tick))
	res.CPU = split(before, after, used)
	return res, nil
}

// startDNSPerf starts dnsperf; cancelling ctx interrupts it (it then prints
// its statistics), and kills it 5 s later if it is still running.
func (c *Config) startDNSPerf(ctx context.Context, r PerfRun) (*exec.Cmd, *os.File, error) {
	out, err := os.Create(r.out)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "dnsperf", c.DnsperfArgs(r)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, nil, fmt.Errorf("start dnsperf: %w", err)
	}
	return cmd, out, nil
}

func readDNSPerf(path string) (*Perf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parseDNSPerf(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res.file = path
	return res, nil
}

// Median returns the middle of ds (the mean of the two middle ones for an
// even count).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// The profile measurement: where the CPU goes at saturation, for the servers
// the targets hold kube-dns to. After the measured runs, one more saturating
// hits run (the first setting) is made with perf attached to the server's
// processes, sampling the CPU clock (no hardware counters are needed); the
// report lists each profiled contender's share in the kernel and its
// heaviest symbols. The run itself is not reported: perf costs the server a
// little. Without perf (Debian package linux-perf) nothing is profiled and the
// report says so.

// Profiled are the contenders profiled, at targetsN only.
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

// PerfPath is perf's path, "" when it is not installed.
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
