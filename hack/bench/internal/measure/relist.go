package measure

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

const (
	// rssEvery is how often VmRSS is sampled through the relist.
	RSSEvery = 5 * time.Millisecond
	// relistTimeout bounds each wait: the API server's return, the new
	// Service's answer, the lists.
	relistTimeout = 3 * time.Minute
	// relistTail is how long sampling goes on once everything is relisted
	// and the new Service answers: the collector may still be running.
	RelistTail = 2 * time.Second
	// relistGoal is the target: peak RSS through the relist over steady RSS.
	RelistGoal = 1.3
)

// RelistWatched are the resources every contender watches and must list
// again.
var RelistWatched = []string{"services", "endpointslices", "namespaces"}

// RelistResult is what one contender did through a relist.
type RelistResult struct {
	Steady int64 // KiB: VmRSS just before the API server stops
	// SteadyAnon and PeakAnon are RssAnon, the anonymous part, which the
	// memory cgroup cannot reclaim (the peak from the samples only).
	SteadyAnon, PeakAnon int64
	Peak                 int64 // KiB: the most through the relist (VmHWM after its reset, and the samples)
	After                int64 // KiB: VmRSS at the end
	// hwm tells whether VmHWM could be reset first (/proc/PID/clear_refs);
	// without it the peak is the samples' alone.
	Hwm     bool
	samples int
	Down    time.Duration // from the API server's exit until it is ready again
	Relist  time.Duration // from the API server being ready to the new Service answering
	Listed  time.Duration // from the API server's exit to the contender's last list's response
	Lists   map[string]int
}

func (r *RelistResult) Ratio() float64 {
	if r == nil || r.Steady == 0 {
		return 0
	}
	return float64(r.Peak) / float64(r.Steady)
}

// relist is one relist measurement under way.
type relist struct {
	c       contender.Contender
	s       *contender.Server
	pid     int
	dir     string
	log     *os.File
	res     *RelistResult
	audit   string // kube-apiserver's audit log
	from    int64  // its size before the restart
	stopped time.Time
	back    time.Time // when the API server was ready again
}

func (x *relist) logf(format string, args ...any) {
	fmt.Fprintf(x.log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
}

// measureRelist starts the contender anew (its own logs in e.dir/relist),
// waits for its first answer, and restarts the API server under it.
func measureRelist(ctx context.Context, e *contender.Env, c contender.Contender, probe cluster.Service) (*RelistResult, error) {
	re := *e
	re.Dir = filepath.Join(e.Dir, "relist")
	if err := os.MkdirAll(re.Dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(re.Dir, "relist.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	s, err := c.Start(ctx, &re)
	defer s.Stop()
	if err != nil {
		return nil, err
	}
	if len(s.Procs) != 1 {
		return nil, fmt.Errorf("the relist measures one process; %s has %d", c.Name, len(s.Procs))
	}
	x := &relist{c: c, s: s, pid: s.Procs[0].Cmd.Process.Pid, dir: re.Dir, log: log, audit: filepath.Join(e.Cl.Dir, "audit.log")}
	if err := contender.WaitAnswer(ctx, s, re.Dir, cluster.Fqdn(probe.Name, probe.Ns), probe.IP, relistTimeout); err != nil {
		return nil, err
	}
	if !proc.Sleep(ctx, time.Second) { // as for "RSS sync"
		return nil, ctx.Err()
	}
	return x.run(ctx, e.Cl)
}

// run restarts the API server under the contender, sampling its RSS, until
// it has listed everything again and answers a new Service.
func (x *relist) run(ctx context.Context, cl *cluster.Cluster) (*RelistResult, error) {
	rss := proc.Status(x.pid, "VmRSS:", "RssAnon:")
	x.res = &RelistResult{Steady: rss[0], SteadyAnon: rss[1], Lists: map[string]int{}}
	x.res.Hwm = resetHWM(x.pid)
	x.logf("steady VmRSS %d kB; VmHWM reset: %v (VmHWM now %d kB)", x.res.Steady, x.res.Hwm, proc.ProcStatus(x.pid, "VmHWM:"))
	x.from = fileSize(x.audit)
	samples := startSampler(x.pid)
	defer samples.stop()
	t0 := time.Now()
	var err error
	if x.stopped, err = cl.RestartAPIServer(ctx, x.dir, x.logf); err != nil {
		return nil, err
	}
	x.back = time.Now()
	x.res.Down = x.back.Sub(x.stopped)
	x.logf("API server ready again %s after it was stopped (%s after the stop began)", x.res.Down.Round(time.Millisecond), x.back.Sub(t0).Round(time.Millisecond))
	if err := x.newService(ctx, cl); err != nil {
		return nil, err
	}
	if err := x.relisted(ctx); err != nil {
		return nil, err
	}
	proc.Sleep(ctx, RelistTail)
	return x.res, x.finish(samples.stop())
}

// newService creates a Service and waits until the contender answers it.
func (x *relist) newService(ctx context.Context, cl *cluster.Cluster) error {
	svc, err := cl.CreateAfterRestart(ctx)
	if err != nil {
		return err
	}
	defer cl.DeleteService(svc)
	name := cluster.Fqdn(svc.Name, svc.Namespace)
	for {
		if ok, _ := contender.Answers(ctx, x.s.Addr, name, svc.Spec.ClusterIP, 100*time.Millisecond); ok {
			x.res.Relist = time.Since(x.back)
			x.logf("%s answered %s after %s", name, svc.Spec.ClusterIP, x.res.Relist.Round(time.Millisecond))
			return nil
		}
		if err := x.s.Exited(); err != nil {
			return err
		}
		if time.Since(x.back) > relistTimeout {
			return fmt.Errorf("%s did not answer %s with %s within %s of the API server's return", x.c.Name, name, svc.Spec.ClusterIP, relistTimeout)
		}
		if !proc.Sleep(ctx, RSSEvery) {
			return ctx.Err()
		}
	}
}

// relisted waits until every watched resource has been listed again, by
// the contender's user, after the restart: the audit log says so.
func (x *relist) relisted(ctx context.Context) error {
	for {
		lists, last, err := auditedLists(x.audit, x.from, x.c.User)
		if err != nil {
			return err
		}
		x.res.Lists = lists
		if missing := notListed(lists); len(missing) == 0 {
			if !last.IsZero() {
				x.res.Listed = last.Sub(x.stopped)
			}
			x.logf("lists after the restart by %s: %v, the last done %s after the API server's exit", x.c.User, lists, x.res.Listed.Round(time.Millisecond))
			return nil
		} else if time.Since(x.back) > relistTimeout {
			return fmt.Errorf("%s did not list %s again within %s of the API server's return (audit log %s)",
				x.c.Name, strings.Join(missing, ", "), relistTimeout, x.audit)
		}
		if !proc.Sleep(ctx, 100*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// finish records the peaks and writes the trace.
func (x *relist) finish(got sampled) error {
	res := x.res
	res.samples, res.Peak, res.PeakAnon = got.n, got.peak, got.peakAnon
	if res.Hwm {
		res.Peak = max(res.Peak, proc.ProcStatus(x.pid, "VmHWM:"))
	}
	res.After = proc.ProcStatus(x.pid, "VmRSS:")
	x.logf("peak %d kB, anonymous %d kB (%d samples every %s, VmHWM %d kB), after %d kB", res.Peak, res.PeakAnon, got.n, RSSEvery, proc.ProcStatus(x.pid, "VmHWM:"), res.After)
	if err := os.WriteFile(filepath.Join(x.dir, "rss.tsv"), got.trace, 0o644); err != nil {
		return err
	}
	return x.s.Exited()
}

// auditedLists counts, in the audit log from offset on, the lists of user
// per resource: list calls once complete, and watches that stream the list
// (sendInitialEvents=true) once started. It returns the time of the last.
func auditedLists(path string, offset int64, user string) (map[string]int, time.Time, error) {
	counts := map[string]int{}
	var last time.Time
	f, err := os.Open(path)
	if err != nil {
		return counts, last, fmt.Errorf("the audit log: %w (is %s/audit-policy.yaml read by local-cluster.sh?)", err, filepath.Dir(path))
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return counts, last, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev struct {
			Stage      string `json:"stage"`
			Verb       string `json:"verb"`
			RequestURI string `json:"requestURI"`
			User       struct {
				Username string `json:"username"`
			} `json:"user"`
			ObjectRef struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
			StageTimestamp time.Time `json:"stageTimestamp"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.User.Username != user {
			continue
		}
		switch {
		case ev.Verb == "list" && ev.Stage == "ResponseComplete":
		case ev.Verb == "watch" && ev.Stage == "ResponseStarted" && streamsList(ev.RequestURI):
		default:
			continue
		}
		counts[ev.ObjectRef.Resource]++
		if ev.StageTimestamp.After(last) {
			last = ev.StageTimestamp
		}
	}
	return counts, last, sc.Err()
}

// streamsList reports whether a watch request asks for the initial list.
func streamsList(requestURI string) bool {
	u, err := url.Parse(requestURI)
	return err == nil && u.Query().Get("sendInitialEvents") == "true"
}

func notListed(lists map[string]int) []string {
	var out []string
	for _, r := range RelistWatched {
		if lists[r] == 0 {
			out = append(out, r)
		}
	}
	return out
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// resetHWM resets the process's peak RSS (VmHWM) to its current RSS and
// reports whether the kernel did.
func resetHWM(pid int) bool {
	if os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) != nil {
		return false
	}
	hwm, rss := proc.ProcStatus(pid, "VmHWM:"), proc.ProcStatus(pid, "VmRSS:")
	return hwm > 0 && hwm <= rss+rss/20 // a little may be touched in between
}

// sampler reads a process's VmRSS every rssEvery until stopped.
type sampler struct {
	done chan struct{}
	out  chan sampled
	once sync.Once
	last sampled
}

type sampled struct {
	peak, peakAnon int64 // VmRSS, RssAnon
	n              int
	trace          []byte // "ms\tVmRSS kB\tRssAnon kB" lines
}

// maxSamples bounds a sampler: 10 minutes of samples.
const maxSamples = int(10 * time.Minute / RSSEvery)

func startSampler(pid int) *sampler {
	s := &sampler{done: make(chan struct{}), out: make(chan sampled, 1)}
	go func() {
		var r sampled
		var trace bytes.Buffer
		start := time.Now()
		t := time.NewTicker(RSSEvery)
		defer t.Stop()
		for r.n < maxSamples {
			kb := proc.Status(pid, "VmRSS:", "RssAnon:")
			r.peak, r.peakAnon = max(r.peak, kb[0]), max(r.peakAnon, kb[1])
			r.n++
			fmt.Fprintf(&trace, "%.1f\t%d\t%d\n", time.Since(start).Seconds()*1000, kb[0], kb[1])
			select {
			case <-s.done:
				r.trace = trace.Bytes()
				s.out <- r
				return
			case <-t.C:
			}
		}
		r.trace = trace.Bytes()
		s.out <- r
		<-s.done
	}()
	return s
}

// stop ends the sampling and returns the highest VmRSS and RssAnon seen,
// the number of samples and their trace; the same again when called again.
func (s *sampler) stop() sampled {
	s.once.Do(func() {
		close(s.done)
		s.last = <-s.out
	})
	return s.last
}
