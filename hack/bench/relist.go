package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The relist measurement: the API server restarts with a watch cache that
// starts after every resourceVersion the contender holds, so each of its
// watches is refused with 410 Gone ("too old resource version") and its
// reflectors list everything again, as after an API server upgrade in a
// cluster (kubernetes#139117: CoreDNS pods OOM-killed at 170 Mi that way).
// The contender's RSS is sampled from before the restart until the relists
// are in and a Service created afterwards answers.

const (
	// relistPrefix names the Service created after the restart.
	relistPrefix = "relist-"
	// rssEvery is how often VmRSS is sampled through the relist.
	rssEvery = 5 * time.Millisecond
	// relistTimeout bounds each wait: the API server's return, the new
	// Service's answer, the lists.
	relistTimeout = 3 * time.Minute
	// relistTail is how long sampling goes on once everything is relisted
	// and the new Service answers: the collector may still be running.
	relistTail = 2 * time.Second
	// relistGoal is the target: peak RSS through the relist over steady RSS.
	relistGoal = 1.3
)

// relistWatched are the resources every contender watches and must list
// again.
var relistWatched = []string{"services", "endpointslices", "namespaces"}

// auditPolicy is written to the cluster's directory, where
// hack/local-cluster.sh finds it: kube-apiserver then logs every list and
// watch of the watched resources, by whom, and nothing else. A client-go
// reflector lists, or, with the WatchListClient feature (on by default from
// client-go 0.35, which CoreDNS 1.14.7 uses; kube-dns turns it off), streams
// the list as a watch with sendInitialEvents=true.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["list", "watch"]
  resources:
  - group: ""
    resources: ["services", "namespaces", "endpoints"]
  - group: "discovery.k8s.io"
    resources: ["endpointslices"]
- level: None
`

// relistResult is what one contender did through a relist.
type relistResult struct {
	steady int64 // KiB: VmRSS just before the API server stops
	peak   int64 // KiB: the most through the relist (VmHWM after its reset, and the samples)
	after  int64 // KiB: VmRSS at the end
	// hwm tells whether VmHWM could be reset first (/proc/PID/clear_refs);
	// without it the peak is the samples' alone.
	hwm     bool
	samples int
	down    time.Duration // from the API server's exit until it is ready again
	relist  time.Duration // from the API server being ready to the new Service answering
	listed  time.Duration // from the API server's exit to the contender's last list's response
	lists   map[string]int
}

func (r *relistResult) ratio() float64 {
	if r == nil || r.steady == 0 {
		return 0
	}
	return float64(r.peak) / float64(r.steady)
}

// measureRelist starts the contender anew (its own logs in e.dir/relist),
// waits for its first answer, and restarts the API server under it.
func measureRelist(ctx context.Context, e *benchEnv, c contender, probe svcInfo) (*relistResult, error) {
	re := &benchEnv{cfg: e.cfg, cl: e.cl, dir: filepath.Join(e.dir, "relist")}
	if err := os.MkdirAll(re.dir, 0o755); err != nil {
		return nil, err
	}
	log, err := os.Create(filepath.Join(re.dir, "relist.log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	logr := func(format string, args ...any) {
		fmt.Fprintf(log, "%s %s\n", time.Now().Format("15:04:05.000"), fmt.Sprintf(format, args...))
	}
	s, err := c.start(ctx, re)
	defer s.stop()
	if err != nil {
		return nil, err
	}
	if len(s.procs) != 1 {
		return nil, fmt.Errorf("the relist measures one process; %s has %d", c.name, len(s.procs))
	}
	pid := s.procs[0].cmd.Process.Pid
	if err := waitAnswer(ctx, s, re.dir, fqdn(probe.name, probe.ns), probe.ip, relistTimeout); err != nil {
		return nil, err
	}
	if !sleep(ctx, time.Second) { // as for "RSS sync"
		return nil, ctx.Err()
	}
	res := &relistResult{steady: vmRSS(pid), lists: map[string]int{}}
	res.hwm = resetHWM(pid)
	logr("steady VmRSS %d kB; VmHWM reset: %v (VmHWM now %d kB)", res.steady, res.hwm, procStatus(pid, "VmHWM:"))
	audit := filepath.Join(e.cl.dir, "audit.log")
	auditFrom := fileSize(audit)
	samples := startSampler(pid)
	defer samples.stop()
	t0 := time.Now()

	stopped, err := e.cl.restartAPIServer(ctx, re.dir, logr)
	if err != nil {
		return nil, err
	}
	back := time.Now()
	res.down = back.Sub(stopped)
	logr("API server ready again %s after it was stopped (%s after the stop began)", res.down.Round(time.Millisecond), back.Sub(t0).Round(time.Millisecond))

	svc, err := e.cl.createAfterRestart(ctx)
	if err != nil {
		return nil, err
	}
	defer e.cl.deleteService(svc)
	name := fqdn(svc.Name, svc.Namespace)
	for {
		if ok, _ := answers(ctx, s.addr, name, svc.Spec.ClusterIP, 100*time.Millisecond); ok {
			res.relist = time.Since(back)
			break
		}
		if err := s.exited(); err != nil {
			return nil, err
		}
		if time.Since(back) > relistTimeout {
			return nil, fmt.Errorf("%s did not answer %s with %s within %s of the API server's return", c.name, name, svc.Spec.ClusterIP, relistTimeout)
		}
		if !sleep(ctx, rssEvery) {
			return nil, ctx.Err()
		}
	}
	logr("%s answered %s after %s", name, svc.Spec.ClusterIP, res.relist.Round(time.Millisecond))

	// Every watched resource must have been listed again, by the
	// contender's user, after the restart: the audit log says so.
	var last time.Time
	for {
		var err error
		res.lists, last, err = auditedLists(audit, auditFrom, c.user)
		if err != nil {
			return nil, err
		}
		if missing := notListed(res.lists); len(missing) == 0 {
			break
		} else if time.Since(back) > relistTimeout {
			return nil, fmt.Errorf("%s did not list %s again within %s of the API server's return (audit log %s)",
				c.name, strings.Join(missing, ", "), relistTimeout, audit)
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
	if !last.IsZero() {
		res.listed = last.Sub(stopped)
	}
	logr("lists after the restart by %s: %v, the last done %s after the API server's exit", c.user, res.lists, res.listed.Round(time.Millisecond))
	sleep(ctx, relistTail)
	peak, n, trace := samples.stop()
	res.samples = n
	res.peak = peak
	if res.hwm {
		res.peak = max(res.peak, procStatus(pid, "VmHWM:"))
	}
	res.after = vmRSS(pid)
	logr("peak %d kB (%d samples every %s, VmHWM %d kB), after %d kB", res.peak, n, rssEvery, procStatus(pid, "VmHWM:"), res.after)
	if err := os.WriteFile(filepath.Join(re.dir, "rss.tsv"), trace, 0o644); err != nil {
		return res, err
	}
	return res, s.exited()
}

// restartAPIServer stops kube-apiserver, makes etcd's revision move past
// everything the watchers have seen (a write outside the API's keys, so that
// no bookmark can carry it to them), and starts kube-apiserver again, which
// waits until it is ready. It returns when the API server had stopped.
func (c *cluster) restartAPIServer(ctx context.Context, dir string, logr func(string, ...any)) (stopped time.Time, err error) {
	log, err := os.OpenFile(filepath.Join(dir, "apiserver-restart.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return stopped, err
	}
	defer log.Close()
	if err := c.script(ctx, log, "apiserver-stop"); err != nil {
		return stopped, fmt.Errorf("hack/local-cluster.sh apiserver-stop: %w", err)
	}
	stopped = time.Now()
	rev, err := c.bumpRevision(ctx)
	if err != nil {
		_ = c.script(context.WithoutCancel(ctx), log, "apiserver-start")
		return stopped, err
	}
	logr("API server stopped; etcd revision now %d", rev)
	if err := c.script(ctx, log, "apiserver-start"); err != nil {
		return stopped, fmt.Errorf("hack/local-cluster.sh apiserver-start: %w (log: %s)", err, filepath.Join(c.dir, "kube-apiserver.log"))
	}
	return stopped, nil
}

// bumpRevision writes a key outside the API's prefix through etcd's JSON
// gateway and returns the new revision.
func (c *cluster) bumpRevision(ctx context.Context) (int64, error) {
	var resp struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	put := map[string]any{"key": []byte("/kubedns-bench/relist"), "value": []byte(time.Now().String())}
	if err := c.etcd(ctx, "/v3/kv/put", put, &resp); err != nil {
		return 0, err
	}
	return strconv.ParseInt(resp.Header.Revision, 10, 64)
}

// createAfterRestart creates a ClusterIP Service in bench-0, retrying while
// the API server finishes its start-up.
func (c *cluster) createAfterRestart(ctx context.Context) (*corev1.Service, error) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: relistPrefix + strconv.FormatInt(time.Now().UnixMilli()%1e6, 36), Namespace: "bench-0"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: servicePorts()},
	}
	var err error
	for range 100 {
		var got *corev1.Service
		if got, err = c.client.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err == nil {
			return got, nil
		}
		if !sleep(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("create %s after the restart: %w", svc.Name, err)
}

func (c *cluster) deleteService(svc *corev1.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.client.CoreV1().Services(svc.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
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
	for _, r := range relistWatched {
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

// writeAuditPolicy puts the audit policy where local-cluster.sh reads it.
func writeAuditPolicy(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "audit-policy.yaml"), []byte(auditPolicy), 0o644)
}

// renderRelist writes the relist table: one row per contender and N.
func renderRelist(b *strings.Builder, sizes []*sizeResult) {
	var rows []string
	var notes []string
	for _, sr := range sizes {
		for _, r := range sr.results {
			switch {
			case r.relistErr != nil:
				notes = append(notes, fmt.Sprintf("N=%d %s: failed: %v", sr.n, r.c.name, r.relistErr))
			case r.relist != nil:
				x := r.relist
				lists := make([]string, 0, len(relistWatched))
				for _, res := range relistWatched {
					lists = append(lists, strconv.Itoa(x.lists[res]))
				}
				peak := mib(x.peak)
				if !x.hwm {
					peak += " (samples only)"
				}
				rows = append(rows, fmt.Sprintf("| %d | %s | %s | %s | %.2f× | %s | %s | %s | %s | %s |", sr.n, r.c.name,
					mib(x.steady), peak, x.ratio(), mib(x.after), dur(x.down), dur(x.listed), dur(x.relist), strings.Join(lists, " / ")))
			}
		}
	}
	if len(rows) == 0 && len(notes) == 0 {
		return
	}
	fmt.Fprintf(b, "## Relist\n\n")
	fmt.Fprintf(b, "The contender is started anew and, 1 s after its first answer (*steady*), kube-apiserver is stopped, etcd's revision moved past everything it has seen (one write outside `/registry`), and kube-apiserver started again: its new watch cache begins after the contender's resourceVersions, so every watch is refused with 410 Gone and every reflector lists again (counted in kube-apiserver's audit log: the contender's lists of %s after the restart, list calls or watches streaming the list, `sendInitialEvents=true`, as client-go's WatchListClient does by default from 0.35: CoreDNS streams, kube-dns lists). VmRSS is sampled every %s and VmHWM, reset through `/proc/PID/clear_refs` before the restart, read at the end; *peak* is the higher. *API server start*: from kube-apiserver's exit to it being ready again; *lists in*: from its exit to the end of the contender's last list call, or the start of its last streamed list (kube-apiserver may serve lists before it reports ready); *new Service*: from it being ready to a Service created at once answering; *after*: VmRSS %s later. The VmRSS trace is each contender's `relist/rss.tsv`.\n\n",
		strings.Join(relistWatched, ", "), rssEvery, relistTail)
	fmt.Fprintf(b, "| N | contender | steady RSS | peak RSS | peak / steady | after | API server start | lists in | new Service | lists (%s) |\n|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|\n",
		strings.Join(relistWatched, " / "))
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
	for _, n := range notes {
		fmt.Fprintf(b, "- **%s**\n", n)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
	}
}

// relistTargets are the targets rows of the relist: kubedns at every N.
func relistTargets(sr *sizeResult, verdict func(ok, known bool) string) []target {
	kd := find(sr, "kubedns")
	if kd == nil || kd.relist == nil {
		return nil
	}
	x := kd.relist
	ref := mib(x.steady) + " (steady)"
	if cd := find(sr, "coredns"); cd != nil && cd.relist != nil {
		ref += fmt.Sprintf("; coredns %s → %s, %.2f×", mib(cd.relist.steady), mib(cd.relist.peak), cd.relist.ratio())
	}
	return []target{{"peak RSS through a full relist vs steady RSS", strconv.Itoa(sr.n), mib(x.peak), ref,
		fmt.Sprintf("%.2f×", x.ratio()), fmt.Sprintf("≤ %.1f×", relistGoal), verdict(x.ratio() <= relistGoal, x.steady > 0)}}
}
