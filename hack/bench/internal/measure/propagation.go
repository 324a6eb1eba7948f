package measure

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// PropResult is the time from a Service's create call returning to the
// contender answering its name with the cluster IP.
type PropResult struct {
	Samples  []float64 // seconds; +Inf for one that timed out
	Timeouts int
	Skipped  int // not measured: three timed out in a row
	Load     *Perf
}

// propagation creates Services one at a time while dnsperf sends hits at
// the fixed rate, polls each new name until it is answered, and deletes
// them afterwards.
func propagation(ctx context.Context, cfg *Config, e *contender.Env, s *contender.Server, hits string) (*PropResult, error) {
	plog, err := os.Create(filepath.Join(e.Dir, "propagation.log"))
	if err != nil {
		return nil, err
	}
	defer plog.Close()
	loadCtx, stopLoad := context.WithCancel(ctx)
	out := filepath.Join(e.Dir, "propagation-load.txt")
	cmd, f, err := cfg.startDNSPerf(loadCtx, PerfRun{Addr: s.Addr, Queries: hits, out: out, Duration: time.Hour, rate: cfg.Rate})
	if err != nil {
		stopLoad()
		return nil, err
	}
	res := &PropResult{}
	if proc.Sleep(ctx, 500*time.Millisecond) { // the load ramps up
		err = createServices(ctx, cfg, e.Cl, s.Addr, plog, res)
	}
	stopLoad()
	_ = cmd.Wait()
	f.Close()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if load, err := readDNSPerf(out); err == nil {
		res.Load = load
	}
	return res, s.Exited()
}

// createServices creates the Services one at a time, each answered (or
// given up on) before the next, and deletes them afterwards; after three
// timeouts in a row the rest are skipped.
func createServices(ctx context.Context, cfg *Config, cl *cluster.Cluster, addr string, plog io.Writer, res *PropResult) error {
	client := cl.Client.CoreV1().Services("bench-0")
	tag := strconv.FormatInt(time.Now().UnixMilli()%1e6, 36)
	inARow := 0
	for k := range cfg.PropCount {
		if inARow == 3 {
			res.Skipped = cfg.PropCount - k
			break
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s%s-%02d", cluster.PropPrefix, tag, k)},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: cluster.ServicePorts()},
		}
		got, err := client.Create(ctx, svc, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create %s: %w", svc.Name, err)
		}
		defer cl.DeleteService(got) // once all are measured, as deletions would be changes to propagate
		d := awaitAnswer(ctx, cfg.PropTimeout, addr, got, plog)
		res.Samples = append(res.Samples, d)
		if math.IsInf(d, 1) {
			res.Timeouts++
			inARow++
		} else {
			inARow = 0
		}
	}
	return nil
}

// awaitAnswer polls for a created Service every millisecond until it is
// answered with its cluster IP, and returns how long that took in seconds
// (+Inf after timeout).
func awaitAnswer(ctx context.Context, timeout time.Duration, addr string, svc *corev1.Service, plog io.Writer) float64 {
	t0 := time.Now()
	name := cluster.Fqdn(svc.Name, svc.Namespace)
	d, first, polls := math.Inf(1), "", 0
	for time.Since(t0) < timeout && ctx.Err() == nil {
		ok, reply := contender.Answers(ctx, addr, name, svc.Spec.ClusterIP, 50*time.Millisecond)
		polls++
		if ok {
			d = time.Since(t0).Seconds()
			break
		}
		if first == "" {
			first = reply
		}
		proc.Sleep(ctx, time.Millisecond)
	}
	fmt.Fprintf(plog, "%s %s %s after %d queries; first reply: %s\n", name, svc.Spec.ClusterIP,
		strings.ReplaceAll(Ms(d), "lost", "not answered"), polls, or(first, "the answer"))
	return d
}
