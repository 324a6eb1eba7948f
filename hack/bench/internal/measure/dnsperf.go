package measure

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run reported.
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

// okShare is the share of completed queries answered with rcode.
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

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, which
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

// perfRun is one dnsperf invocation.
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

// median returns the middle of ds (the mean of the two middle ones for an
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
