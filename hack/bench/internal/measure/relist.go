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
	"slices"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

const (
	// RSSEvery is how often VmRSS is sampled through the relist.
	RSSEvery = 5 * time.Millisecond
	// relistTimeout bounds each wait: the API server's return, the new
	// Service's answer, the lists.
	relistTimeout = 3 * time.Minute
	// RelistTail is how long sampling goes on once everything is relisted
	// and the new Service answers: the collector may still be running.
	RelistTail = 2 * time.Second
)

// RelistWatched are the resources every contender watches and must list
// again.
var RelistWatched = []string{"services", "endpointslices", "namespaces"}

// RelistResult is what one contender did through a relist.
type RelistResult struct {
	Steady int64 // KiB: VmRSS just before the API server stops
	Peak   int64 // KiB: the most through the relist (VmHWM after its reset, and the samples)
	After  int64 // KiB: VmRSS at the end
	// SteadyAnon and PeakAnon are RssAnon, the anonymous part, which the
	// memory cgroup cannot reclaim (the peak from the samples only).
	SteadyAnon, PeakAnon int64
	// Hwm tells whether VmHWM could be reset first (/proc/PID/clear_refs);
	// without it the peak is the samples' alone.
	Hwm    bool
	Down   time.Duration // from the API server's exit until it is ready again
	Relist time.Duration // from the API server being ready to the new Service answering
	Listed time.Duration // from the API server's exit to the contender's last list's response
	Lists  map[string]int
}

// Ratio is the peak over the steady RSS.
func (r *RelistResult) Ratio() float64 {
	if r == nil || r.Steady == 0 {
		return 0
	}
	return float64(r.Peak) / float64(r.Steady)
}

// measureRelist starts the contender anew (its own logs in e.Dir/relist),
// waits for its first answer and, 1 s later, restarts the API server under
// it, sampling its RSS, until it has listed everything again and answers a
// new Service.
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
	logf := func(format string, args ...any) {
		fmt.Fprintf(log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	s, err := c.Start(&re)
	defer s.Stop()
	if err != nil {
		return nil, err
	}
	if len(s.Procs) != 1 {
		return nil, fmt.Errorf("the relist measures one process; %s has %d", c.Name, len(s.Procs))
	}
	pid := s.Procs[0].Cmd.Process.Pid
	if err := contender.WaitAnswer(ctx, s, re.Dir, cluster.Fqdn(probe.Name, probe.Ns), probe.IP, relistTimeout); err != nil {
		return nil, err
	}
	if !proc.Sleep(ctx, time.Second) { // as for "RSS sync"
		return nil, ctx.Err()
	}
	rss := proc.Status(pid, "VmRSS:", "RssAnon:")
	res := &RelistResult{Steady: rss[0], SteadyAnon: rss[1], Hwm: resetHWM(pid)}
	logf("steady VmRSS %d kB; VmHWM reset: %v (VmHWM now %d kB)", res.Steady, res.Hwm, proc.ProcStatus(pid, "VmHWM:"))
	audit := filepath.Join(e.Cl.Dir, "audit.log")
	var from int64
	if fi, err := os.Stat(audit); err == nil {
		from = fi.Size()
	}
	stopSampling := sample(pid, res)
	trace := func() error { return os.WriteFile(filepath.Join(re.Dir, "rss.tsv"), stopSampling(), 0o644) }
	defer trace()
	t0 := time.Now()
	stopped, err := e.Cl.RestartAPIServer(ctx, re.Dir, logf)
	if err != nil {
		return nil, err
	}
	back := time.Now()
	res.Down = back.Sub(stopped)
	logf("API server ready again %s after it was stopped (%s after the stop began)", res.Down.Round(time.Millisecond), back.Sub(t0).Round(time.Millisecond))
	svc, err := e.Cl.CreateAfterRestart(ctx)
	if err != nil {
		return nil, err
	}
	defer e.Cl.DeleteService(svc)
	name := cluster.Fqdn(svc.Name, svc.Namespace)
	var last time.Time
	// The new Service answers, then every watched resource has been
	// listed again by the contender's user: the audit log says so.
	for res.Relist == 0 || len(notListed(res.Lists)) > 0 {
		if res.Relist == 0 {
			if ok, _ := contender.Answers(ctx, s.Addr, name, svc.Spec.ClusterIP, 100*time.Millisecond); ok {
				res.Relist = time.Since(back)
				logf("%s answered %s after %s", name, svc.Spec.ClusterIP, res.Relist.Round(time.Millisecond))
			}
		} else if res.Lists, last, err = auditedLists(audit, from, c.User); err != nil {
			return nil, err
		}
		if err := s.Exited(); err != nil {
			return nil, err
		}
		if time.Since(back) > relistTimeout {
			return nil, fmt.Errorf("%s did not answer %s or list %s again within %s of the API server's return (audit log %s)",
				c.Name, name, strings.Join(notListed(res.Lists), ", "), relistTimeout, audit)
		}
		if !proc.Sleep(ctx, map[bool]time.Duration{false: RSSEvery, true: 100 * time.Millisecond}[res.Relist != 0]) {
			return nil, ctx.Err()
		}
	}
	if !last.IsZero() {
		res.Listed = last.Sub(stopped)
	}
	logf("lists after the restart by %s: %v, the last done %s after the API server's exit", c.User, res.Lists, res.Listed.Round(time.Millisecond))
	proc.Sleep(ctx, RelistTail)
	if err := trace(); err != nil {
		return nil, err
	}
	if res.Hwm {
		res.Peak = max(res.Peak, proc.ProcStatus(pid, "VmHWM:"))
	}
	res.After = proc.ProcStatus(pid, "VmRSS:")
	logf("peak %d kB, anonymous %d kB (VmHWM %d kB), after %d kB", res.Peak, res.PeakAnon, proc.ProcStatus(pid, "VmHWM:"), res.After)
	return res, s.Exited()
}

// sample reads pid's VmRSS and RssAnon every RSSEvery into res's peaks
// until the function it returns is called, which returns the trace,
// "ms\tVmRSS kB\tRssAnon kB" lines (the same again when called again).
func sample(pid int, res *RelistResult) func() []byte {
	done, out := make(chan struct{}), make(chan []byte, 1)
	go func() {
		var trace bytes.Buffer
		start := time.Now()
		t := time.NewTicker(RSSEvery)
		defer t.Stop()
		for {
			kb := proc.Status(pid, "VmRSS:", "RssAnon:")
			res.Peak, res.PeakAnon = max(res.Peak, kb[0]), max(res.PeakAnon, kb[1])
			fmt.Fprintf(&trace, "%.1f\t%d\t%d\n", time.Since(start).Seconds()*1000, kb[0], kb[1])
			select {
			case <-done:
				out <- trace.Bytes()
				return
			case <-t.C:
			}
		}
	}()
	var trace []byte
	return func() []byte {
		if trace == nil {
			close(done)
			trace = <-out
		}
		return trace
	}
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
			Stage, Verb, RequestURI string
			User                    struct{ Username string }
			ObjectRef               struct{ Resource string }
			StageTimestamp          time.Time
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.User.Username != user {
			continue
		}
		u, err := url.Parse(ev.RequestURI)
		if (ev.Verb != "list" || ev.Stage != "ResponseComplete") &&
			(ev.Verb != "watch" || ev.Stage != "ResponseStarted" || err != nil || u.Query().Get("sendInitialEvents") != "true") {
			continue
		}
		counts[ev.ObjectRef.Resource]++
		if ev.StageTimestamp.After(last) {
			last = ev.StageTimestamp
		}
	}
	return counts, last, sc.Err()
}

func notListed(lists map[string]int) []string {
	return slices.DeleteFunc(slices.Clone(RelistWatched), func(r string) bool { return lists[r] > 0 })
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
