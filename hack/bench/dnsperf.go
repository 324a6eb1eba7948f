package main

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
type perfResult struct {
	sent, completed, lost int64
	qps                   float64
	runTime               float64 // seconds
	avgLatency            float64 // seconds
	rcodes                map[string]int64
	latencies             []float64 // seconds, one per query in verbose mode; +Inf for a lost one
	file                  string    // the raw output
	foreign               float64   // share of one CPU other processes took during the run
	cpu                   cpuSplit  // where the machine's CPU time went during the run
	attempts              int
}

// okShare is the share of completed queries answered with rcode.
func (r *perfResult) okShare(rcode string) float64 {
	if r == nil || r.completed == 0 {
		return 0
	}
	return float64(r.rcodes[rcode]) / float64(r.completed)
}

// parseDNSPerf reads dnsperf's output: the statistics block and, with -v,
// one "> RCODE name type latency" line per query ("> T name type" when it
// timed out).
func parseDNSPerf(r io.Reader) (*perfResult, error) {
	res := &perfResult{rcodes: map[string]int64{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				continue
			}
			if f[0] == "T" {
				res.latencies = append(res.latencies, math.Inf(1))
				continue
			}
			if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil && len(f) >= 2 {
				res.latencies = append(res.latencies, v)
			}
			continue
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		first := ""
		if f := strings.Fields(val); len(f) > 0 {
			first = f[0]
		}
		var err error
		switch key {
		case "Queries sent":
			res.sent, err = strconv.ParseInt(first, 10, 64)
			seen = true
		case "Queries completed":
			res.completed, err = strconv.ParseInt(first, 10, 64)
		case "Queries lost":
			res.lost, err = strconv.ParseInt(first, 10, 64)
		case "Run time (s)":
			res.runTime, err = strconv.ParseFloat(first, 64)
		case "Queries per second":
			res.qps, err = strconv.ParseFloat(first, 64)
		case "Average Latency (s)":
			res.avgLatency, err = strconv.ParseFloat(first, 64)
		case "Response codes":
			// "NOERROR 2 (50.00%), NXDOMAIN 2 (50.00%)"
			for _, part := range strings.Split(val, ",") {
				f := strings.Fields(part)
				if len(f) >= 2 {
					n, perr := strconv.ParseInt(f[1], 10, 64)
					if perr != nil {
						err = perr
						break
					}
					res.rcodes[f[0]] = n
				}
			}
		}
		if err != nil {
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

// percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, which
// it sorts; NaN for no values.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sort.Float64s(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	rank = min(max(rank, 1), len(xs))
	return xs[rank-1]
}

// perfRun is one dnsperf invocation.
type perfRun struct {
	addr, queries, out string
	duration           time.Duration
	rate               int // -Q; 0 saturates
	verbose            bool
	own                []int // the benchmark's processes besides dnsperf and this one
	server             []int // the server's processes, among own
	// setting is the saturating run's -c, -T and -q; unset, the config's
	// (--clients, --threads, --outstanding).
	setting perfSetting
}

func (c *config) dnsperfArgs(r perfRun) []string {
	host, port, _ := strings.Cut(r.addr, ":")
	st := r.setting
	if st == (perfSetting{}) {
		st = perfSetting{clients: c.clients, threads: c.threads, outstanding: c.outstanding}
	}
	args := []string{"-s", host, "-p", port, "-d", r.queries,
		"-l", strconv.FormatFloat(r.duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(st.clients), "-q", strconv.Itoa(st.outstanding), "-t", "2"}
	if r.rate > 0 {
		args = append(args, "-Q", strconv.Itoa(r.rate), "-T", "1")
	} else {
		args = append(args, "-T", strconv.Itoa(st.threads))
	}
	if r.verbose {
		args = append(args, "-v")
	}
	return args
}

// dnsperf runs one bounded dnsperf, its output in r.out, and parses it.
func (c *config) dnsperf(ctx context.Context, r perfRun) (*perfResult, error) {
	ctx, cancel := context.WithTimeout(ctx, r.duration+30*time.Second)
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
	res.foreign = foreignShare(before, after, int64(used/tick))
	res.cpu = split(before, after, used)
	return res, nil
}

// startDNSPerf starts dnsperf; cancelling ctx interrupts it (it then prints
// its statistics), and kills it 5 s later if it is still running.
func (c *config) startDNSPerf(ctx context.Context, r perfRun) (*exec.Cmd, *os.File, error) {
	out, err := os.Create(r.out)
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, "dnsperf", c.dnsperfArgs(r)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, nil, fmt.Errorf("start dnsperf: %w", err)
	}
	return cmd, out, nil
}

func readDNSPerf(path string) (*perfResult, error) {
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
func median(ds []time.Duration) time.Duration {
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
