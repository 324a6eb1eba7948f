package measure

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Perf is what one dnsperf run reported.
type Perf struct {
	Completed, Lost int64
	QPS             float64
	RunTime         float64 // seconds
	Rcodes          map[string]int64
	Latencies       []float64 // seconds, one per query in verbose mode; +Inf for a lost one
	Foreign         float64   // share of one CPU other processes took during the run
	CPU             CPUSplit  // where the machine's CPU time went during the run
	Attempts        int
}

// OkShare is the share of completed queries answered with rcode.
func (r *Perf) OkShare(rcode string) float64 {
	if r == nil || r.Completed == 0 {
		return 0
	}
	return float64(r.Rcodes[rcode]) / float64(r.Completed)
}

// readDNSPerf reads dnsperf's output: the statistics block and, with -v,
// one "> RCODE name type latency" line per query ("> T name type" when it
// timed out).
func readDNSPerf(path string) (*Perf, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res := &Perf{Rcodes: map[string]int64{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			switch f := strings.Fields(rest); {
			case len(f) > 0 && f[0] == "T":
				res.Latencies = append(res.Latencies, math.Inf(1))
			case len(f) >= 2:
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
					res.Latencies = append(res.Latencies, v)
				}
			}
			continue
		}
		key, val, _ := strings.Cut(line, ":")
		val = strings.TrimSpace(val)
		first, _, _ := strings.Cut(val, " ")
		switch key {
		case "Queries sent":
			seen = true
		case "Queries completed":
			res.Completed, err = strconv.ParseInt(first, 10, 64)
		case "Queries lost":
			res.Lost, err = strconv.ParseInt(first, 10, 64)
		case "Run time (s)":
			res.RunTime, err = strconv.ParseFloat(first, 64)
		case "Queries per second":
			res.QPS, err = strconv.ParseFloat(first, 64)
		case "Response codes": // "NOERROR 2 (50.00%), NXDOMAIN 2 (50.00%)"
			for part := range strings.SplitSeq(val, ",") {
				if f := strings.Fields(part); len(f) >= 2 && err == nil {
					res.Rcodes[f[0]], err = strconv.ParseInt(f[1], 10, 64)
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil || !seen {
		return nil, cmpErr(err, fmt.Errorf("%s: dnsperf output has no statistics", path))
	}
	return res, nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// Percentile is the nearest-rank p-th percentile (0 < p ≤ 100) of xs, which
// it sorts; NaN for no values.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	return xs[min(max(rank, 1), len(xs))-1]
}

// PerfRun is one dnsperf invocation.
type PerfRun struct {
	Addr, Queries, out string
	Duration           time.Duration
	Setting            PerfSetting // -c, -T and -q; a fixed rate takes -c and -q with -T 1
	rate               int         // -Q; 0 saturates
	verbose            bool
	own                []int           // the benchmark's processes besides dnsperf and this one
	server             []int           // the server's processes, among own
	stop               <-chan struct{} // when set, the run lasts until it is closed
}

// DnsperfArgs are dnsperf's arguments for r.
func DnsperfArgs(r PerfRun) []string {
	host, port, _ := strings.Cut(r.Addr, ":")
	st := r.Setting
	if r.rate > 0 {
		st.Threads = 1
	}
	args := []string{"-s", host, "-p", port, "-d", r.Queries, "-l", strconv.FormatFloat(r.Duration.Seconds(), 'f', -1, 64),
		"-c", strconv.Itoa(st.Clients), "-T", strconv.Itoa(st.Threads), "-q", strconv.Itoa(st.Outstanding), "-t", "2"}
	if r.rate > 0 {
		args = append(args, "-Q", strconv.Itoa(r.rate))
	}
	if r.verbose {
		args = append(args, "-v")
	}
	return args
}

// dnsperf runs dnsperf, its output in r.out, and parses it, with the CPU
// time spent meanwhile. Interrupted (SIGINT, by r.stop or 30 s after its
// time), dnsperf prints its statistics; it is killed 5 s later.
func dnsperf(ctx context.Context, r PerfRun) (*Perf, error) {
	runCtx, cancel := context.WithTimeout(ctx, r.Duration+30*time.Second)
	defer cancel()
	if r.stop != nil {
		go func() {
			select {
			case <-r.stop:
				cancel()
			case <-runCtx.Done():
			}
		}()
	}
	out, err := os.Create(r.out)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.CommandContext(runCtx, "dnsperf", DnsperfArgs(r)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	own := append([]int{os.Getpid()}, r.own...)
	before := markCPU(own, r.server)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start dnsperf: %w", err)
	}
	werr := cmd.Wait()
	after := markCPU(own, r.server)
	switch {
	case ctx.Err() != nil || errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("dnsperf (output: %s): %w", r.out, cmpErr(ctx.Err(), runCtx.Err()))
	case werr != nil && r.stop == nil:
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

// Median returns the middle of ds (the mean of the two middle ones for an
// even count).
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

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

// The machine may be shared: CPU time that went to processes outside the
// benchmark during a run is measured, so a disturbed run can be repeated and
// flagged. Times are in clock ticks (USER_HZ, 100 per second on Linux).
const tick = 10 * time.Millisecond

// NoisyCPU is the share of one CPU taken by other processes above which a
// run is repeated (at most twice; the least disturbed attempt is kept).
const NoisyCPU = 0.15

// cpuMark is a reading taken before and after a run.
type cpuMark struct {
	at          time.Time
	busy        int64 // all CPUs, non-idle
	idle, total int64 // all CPUs: idle and iowait, and every field
	own         int64 // the benchmark's processes
	server      int64 // the server's processes (a subset of own)
}

// markCPU reads the machine's CPU time and that of the given processes.
func markCPU(own, server []int) cpuMark {
	m := cpuMark{at: time.Now()}
	m.busy, m.idle, m.total = proc.StatTicks()
	for _, pid := range own {
		m.own += proc.ProcTicks(pid)
	}
	for _, pid := range server {
		m.server += proc.ProcTicks(pid)
	}
	return m
}

// CPUSplit is where the machine's CPU time went during a run, as shares of
// all its CPUs; the rest is interrupts (the loopback traffic), the control
// plane, the harness and anything else.
type CPUSplit struct {
	Server, Dnsperf, Idle float64
	ServerSec             float64 // CPU seconds of the server's processes
}

// split is the CPU split between a and b, given dnsperf's CPU time.
func split(a, b cpuMark, dnsperf time.Duration) CPUSplit {
	all := b.total - a.total // ticks of all CPUs
	if all <= 0 {
		return CPUSplit{}
	}
	s := CPUSplit{ServerSec: float64(b.server-a.server) * tick.Seconds()}
	s.Server = float64(b.server-a.server) / float64(all)
	s.Dnsperf = dnsperf.Seconds() / tick.Seconds() / float64(all)
	s.Idle = float64(b.idle-a.idle) / float64(all)
	return s
}

// foreignShare is the share of one CPU used by other processes between a and
// b, given the ticks of benchmark processes that ended in between (dnsperf).
func foreignShare(a, b cpuMark, ended int64) float64 {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	foreign := (b.busy - a.busy) - (b.own - a.own) - ended
	return max(0, float64(foreign)*float64(tick)/float64(wall))
}

// CPUPerM is the server's CPU seconds per million answers of a run, NaN
// without one.
func CPUPerM(r *Perf) float64 {
	if r == nil || r.Completed == 0 || r.CPU.ServerSec == 0 {
		return math.NaN()
	}
	return r.CPU.ServerSec / float64(r.Completed) * 1e6
}
