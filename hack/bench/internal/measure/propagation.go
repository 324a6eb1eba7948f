package measure

import (
	"cmp"
	"context"
	"fmt"
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

// PropResult is the time from a Service's create call returning to the
// contender answering its name with the cluster IP.
type PropResult struct {
	Samples  []float64 // seconds; +Inf for one that timed out
	Timeouts int
	Skipped  int // not measured: three timed out in a row
	Load     *Perf
}

// All are the samples with the skipped ones counted as timed out.
func (p *PropResult) All() []float64 {
	xs := append([]float64(nil), p.Samples...)
	for range p.Skipped {
		xs = append(xs, math.Inf(1))
	}
	return xs
}

// propagation creates Services one at a time while dnsperf sends the load,
// polls each new name until it is answered (or given up on) before the
// next, and deletes them afterwards; after three timeouts in a row the rest
// are skipped.
func propagation(ctx context.Context, cfg *Config, e *contender.Env, s *contender.Server, load PerfRun) (*PropResult, error) {
	plog, err := os.Create(filepath.Join(e.Dir, "propagation.log"))
	if err != nil {
		return nil, err
	}
	defer plog.Close()
	stop, loaded := make(chan struct{}), make(chan *Perf, 1)
	load.stop = stop
	go func() {
		p, _ := dnsperf(ctx, load)
		loaded <- p
	}()
	res := &PropResult{}
	proc.Sleep(ctx, 500*time.Millisecond) // the load ramps up
	client := e.Cl.Client.CoreV1().Services("bench-0")
	tag := strconv.FormatInt(time.Now().UnixMilli()%1e6, 36)
	inARow := 0
	for k := 0; k < cfg.PropCount && ctx.Err() == nil; k++ {
		if inARow == 3 {
			res.Skipped = cfg.PropCount - k
			break
		}
		svc := &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s%s-%02d", cluster.PropPrefix, tag, k)},
			Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: cluster.ServicePorts()},
		}
		got, cerr := client.Create(ctx, svc, metav1.CreateOptions{})
		if cerr != nil {
			err = fmt.Errorf("create %s: %w", svc.Name, cerr)
			break
		}
		defer e.Cl.DeleteService(got) // once all are measured, as deletions would be changes to propagate
		d := awaitAnswer(ctx, cfg.PropTimeout, s.Addr, got, plog)
		res.Samples = append(res.Samples, d)
		if math.IsInf(d, 1) {
			res.Timeouts++
			inARow++
		} else {
			inARow = 0
		}
	}
	close(stop)
	res.Load = <-loaded
	if err := cmp.Or(err, ctx.Err()); err != nil {
		return nil, err
	}
	return res, s.Exited()
}

// awaitAnswer polls for a created Service every millisecond until it is
// answered with its cluster IP, and returns how long that took in seconds
// (+Inf after timeout).
func awaitAnswer(ctx context.Context, timeout time.Duration, addr string, svc *corev1.Service, plog *os.File) float64 {
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
		first = cmp.Or(first, reply)
		proc.Sleep(ctx, time.Millisecond)
	}
	fmt.Fprintf(plog, "%s %s %s after %d queries; first reply: %s\n", name, svc.Spec.ClusterIP,
		strings.ReplaceAll(Ms(d), "lost", "not answered"), polls, cmp.Or(first, "the answer"))
	return d
}
