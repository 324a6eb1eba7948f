// Package cluster runs the benchmark's control plane (hack/local-cluster.sh),
// loads it with N Services and their EndpointSlices, writes dnsperf's query
// files, and writes the zone files of kube-dns's own snapshot of it for the
// authoritative contenders.
package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
	"github.com/kubedns-go/kube-dns/pkg/localcluster"
)

// Cluster is a running control plane of hack/local-cluster.sh.
type Cluster struct {
	root, Dir string
	Env       map[string]string // DIR/env
	Client    kubernetes.Interface
	rest      *rest.Config // admin's
}

// Start starts (or restarts) the control plane whose data lives in
// dir; stop must be called even when it fails.
func Start(ctx context.Context, root, dir, logPath string) (*Cluster, error) {
	c := &Cluster{root: root, Dir: dir}
	log, err := os.Create(logPath)
	if err != nil {
		return c, err
	}
	defer log.Close()
	// A run that was killed may have left this directory's control plane up.
	_ = c.script(ctx, log, "down")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return c, err
	}
	if err := os.WriteFile(filepath.Join(dir, "audit-policy.yaml"), []byte(auditPolicy), 0o644); err != nil {
		return c, err
	}
	if err := c.script(ctx, log, "up"); err != nil {
		return c, fmt.Errorf("hack/local-cluster.sh up %s: %w (log: %s)", dir, err, logPath)
	}
	if c.Env, err = localcluster.ReadEnv(dir); err != nil {
		return c, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Env["KUBECONFIG"])
	if err != nil {
		return c, err
	}
	cfg.QPS, cfg.Burst = 2000, 4000
	cfg.WarningHandler = rest.NoWarnings{}
	c.rest = cfg
	if c.Client, err = kubernetes.NewForConfig(cfg); err != nil {
		return c, err
	}
	// kubedns reads as the kube-system/kube-dns service account, as in local-up.
	kubectl := exec.CommandContext(ctx, c.Env["KUBECTL"], "--kubeconfig", c.Env["KUBECONFIG"],
		"apply", "-f", filepath.Join(root, "cluster/kube-dns-rbac.yaml"))
	kubectl.Stdout, kubectl.Stderr = log, log
	if err := kubectl.Run(); err != nil {
		return c, fmt.Errorf("kubectl apply -f cluster/kube-dns-rbac.yaml: %w (log: %s)", err, logPath)
	}
	return c, nil
}

func (c *Cluster) script(ctx context.Context, log *os.File, verb string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.root, "hack/local-cluster.sh"), verb, c.Dir)
	cmd.Stdout, cmd.Stderr = log, log
	return cmd.Run()
}

// Stop stops the control plane; it runs even after the run's context ended.
func (c *Cluster) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log, err := os.OpenFile(filepath.Join(c.Dir, "bench-down.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		log = os.Stderr
	} else {
		defer log.Close()
	}
	if err := c.script(ctx, log, "down"); err != nil {
		proc.Logf("stopping the control plane in %s: %v", c.Dir, err)
	}
}

// loadJob is what one Service lacks: itself, its EndpointSlice, or both.
type loadJob struct {
	i          int
	svc, slice bool
}

// Load makes the cluster hold Services 0..n-1 and their EndpointSlices,
// creating only what is missing, and removes Services left by an
// interrupted propagation or relist measurement.
func (c *Cluster) Load(ctx context.Context, n int) error {
	haveSvc, haveSlice, err := c.existing(ctx)
	if err != nil {
		return err
	}
	var jobs []loadJob
	var direct []int // ClusterIP Services but the first go to etcd (etcdload.go)
	for i := range n {
		key := NamespaceOf(i) + "/" + ServiceName(i)
		j := loadJob{i: i, svc: !haveSvc[key] && i != 0, slice: kindOf(i) == headless && !haveSlice[key]}
		switch {
		case j.svc && kindOf(i) == clusterIP: // no slice: not headless
			direct = append(direct, i)
		case j.svc || j.slice:
			jobs = append(jobs, j)
		}
	}
	if len(jobs)+len(direct) == 0 && haveSvc[NamespaceOf(0)+"/"+ServiceName(0)] {
		proc.Logf("cluster already holds the %d Services", n)
		return nil
	}
	start := time.Now()
	if !haveSvc[NamespaceOf(0)+"/"+ServiceName(0)] { // first: the others are copies of it (etcdload.go)
		if err := c.createService(ctx, 0); err != nil {
			return err
		}
	}
	if err := c.ensureRanges(ctx, n); err != nil {
		return err
	}
	left, err := c.writeServices(ctx, direct)
	if err != nil {
		return err
	}
	for _, i := range left {
		jobs = append(jobs, loadJob{i: i, svc: true})
	}
	proc.Logf("creating %d missing Services/EndpointSlices of %d through the API (%d workers)", len(jobs), n, loadWorkers)
	var done atomic.Int64
	err = parallel(ctx, loadWorkers, jobs, func(ctx context.Context, j loadJob) error {
		var err error
		if j.svc {
			err = c.createService(ctx, j.i)
		}
		if err == nil && j.slice {
			err = c.createSlice(ctx, j.i)
		}
		if d := done.Add(1); err == nil && d%1000 == 0 {
			proc.Logf("  %d/%d created (%s)", d, len(jobs), time.Since(start).Round(time.Second))
		}
		return err
	})
	if err == nil {
		proc.Logf("loaded in %s", time.Since(start).Round(100*time.Millisecond))
	}
	return err
}

// existing lists the Services ("ns/name") and the slices ("ns/service")
// the cluster holds, creating the namespaces and deleting leftovers.
func (c *Cluster) existing(ctx context.Context) (haveSvc, haveSlice map[string]bool, err error) {
	haveSvc, haveSlice = map[string]bool{}, map[string]bool{}
	for k := range namespaces {
		ns := fmt.Sprintf("bench-%d", k)
		_, err := c.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, nil, fmt.Errorf("create namespace %s: %w", ns, err)
		}
		svcs, err := c.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, nil, fmt.Errorf("list services in %s: %w", ns, err)
		}
		for _, s := range svcs.Items {
			if strings.HasPrefix(s.Name, PropPrefix) || strings.HasPrefix(s.Name, relistPrefix) {
				if err := c.Client.CoreV1().Services(ns).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
					return nil, nil, fmt.Errorf("delete leftover %s/%s: %w", ns, s.Name, err)
				}
				continue
			}
			haveSvc[ns+"/"+s.Name] = true
		}
		slices, err := c.Client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{
			LabelSelector: discoveryv1.LabelManagedBy + "=" + managedBy})
		if err != nil {
			return nil, nil, fmt.Errorf("list endpointslices in %s: %w", ns, err)
		}
		for _, s := range slices.Items {
			haveSlice[ns+"/"+s.Labels[discoveryv1.LabelServiceName]] = true
		}
	}
	return haveSvc, haveSlice, nil
}

// parallel calls fn for every item on workers goroutines; the first error
// cancels the rest and is returned.
func parallel[T any](ctx context.Context, workers int, items []T, fn func(context.Context, T) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	ch := make(chan T)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for it := range ch {
				if err := fn(ctx, it); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for _, it := range items {
		select {
		case ch <- it:
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	return context.Cause(ctx)
}

// PIDs lists the control plane's processes.
func (c *Cluster) PIDs() []int {
	var out []int
	for _, name := range []string{"kube-apiserver.pid", "etcd.pid"} {
		b, err := os.ReadFile(filepath.Join(c.Dir, name))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}

// The relist measurement: the API server restarts with a watch cache that
// starts after every resourceVersion the contender holds, so each of its
// watches is refused with 410 Gone ("too old resource version") and its
// reflectors list everything again, as after an API server upgrade in a
// cluster (kubernetes#139117: CoreDNS pods OOM-killed at 170 Mi that way).
// The contender's RSS is sampled from before the restart until the relists
// are in and a Service created afterwards answers.

// relistPrefix names the Service created after the restart.
const relistPrefix = "relist-"

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

// RestartAPIServer stops kube-apiserver, makes etcd's revision move past
// everything the watchers have seen (a write outside the API's keys, so that
// no bookmark can carry it to them), and starts kube-apiserver again, which
// waits until it is ready. It returns when the API server had stopped.
func (c *Cluster) RestartAPIServer(ctx context.Context, dir string, logr func(string, ...any)) (stopped time.Time, err error) {
	log, err := os.OpenFile(filepath.Join(dir, "apiserver-restart.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return stopped, err
	}
	defer log.Close()
	if err := c.script(ctx, log, "apiserver-stop"); err != nil {
		return stopped, fmt.Errorf("hack/local-cluster.sh apiserver-stop: %w", err)
	}
	stopped = time.Now()
	var resp struct {
		Header struct{ Revision string }
	}
	put := map[string]any{"key": []byte("/kubedns-bench/relist"), "value": []byte(time.Now().String())}
	if err := c.etcd(ctx, "/v3/kv/put", put, &resp); err != nil {
		_ = c.script(context.WithoutCancel(ctx), log, "apiserver-start")
		return stopped, err
	}
	logr("API server stopped; etcd revision now %s", resp.Header.Revision)
	if err := c.script(ctx, log, "apiserver-start"); err != nil {
		return stopped, fmt.Errorf("hack/local-cluster.sh apiserver-start: %w (log: %s)", err, filepath.Join(c.Dir, "kube-apiserver.log"))
	}
	return stopped, nil
}

// CreateAfterRestart creates a ClusterIP Service in bench-0, retrying while
// the API server finishes its start-up.
func (c *Cluster) CreateAfterRestart(ctx context.Context) (*corev1.Service, error) {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: relistPrefix + strconv.FormatInt(time.Now().UnixMilli()%1e6, 36), Namespace: "bench-0"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ServicePorts()},
	}
	var err error
	for range 100 {
		var got *corev1.Service
		if got, err = c.Client.CoreV1().Services(svc.Namespace).Create(ctx, svc, metav1.CreateOptions{}); err == nil {
			return got, nil
		}
		if !proc.Sleep(ctx, 100*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("create %s after the restart: %w", svc.Name, err)
}

// DeleteService deletes svc, even after the run's context ended.
func (c *Cluster) DeleteService(svc *corev1.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.Client.CoreV1().Services(svc.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
}
