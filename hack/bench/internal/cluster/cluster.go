package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
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

// The data set: Service i is svc-<i> in namespace bench-<(i/10)%10>; i%10
// picks its kind, so each namespace holds the same mix.
const (
	namespaces  = 10
	managedBy   = "kubedns-bench" // endpointslice.kubernetes.io/managed-by of our slices
	loadWorkers = 32
	Domain      = "cluster.local."
)

type svcKind int

const (
	clusterIP svcKind = iota
	headless
	externalName
)

func kindOf(i int) svcKind {
	switch i % 10 {
	case 8:
		return headless
	case 9:
		return externalName
	default:
		return clusterIP
	}
}

func ServiceName(i int) string    { return fmt.Sprintf("svc-%05d", i) }
func NamespaceOf(i int) string    { return fmt.Sprintf("bench-%d", (i/10)%namespaces) }
func Fqdn(name, ns string) string { return name + "." + ns + ".svc." + Domain }

// EndpointIP is the address of endpoint j (0..2) of headless Service i.
func EndpointIP(i, j int) string {
	return fmt.Sprintf("10.%d.%d.%d", 200+j, (i>>8)&255, i&255)
}

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
	if err := writeAuditPolicy(dir); err != nil {
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
		j := loadJob{i: i, svc: !haveSvc[key], slice: kindOf(i) == headless && !haveSlice[key]}
		switch {
		case j.svc && kindOf(i) == clusterIP && i != 0: // no slice: not headless
			direct = append(direct, i)
		case j.svc || j.slice:
			jobs = append(jobs, j)
		}
	}
	if len(jobs)+len(direct) == 0 {
		proc.Logf("cluster already holds the %d Services", n)
		return nil
	}
	start := time.Now()
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

func ServicePorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP},
		{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP},
	}
}

func (c *Cluster) createService(ctx context.Context, i int) error {
	s := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: ServiceName(i), Namespace: NamespaceOf(i)}}
	switch kindOf(i) {
	case clusterIP:
		s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Ports: ServicePorts()}
	case headless:
		s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone, Ports: ServicePorts()}
	case externalName:
		// A target inside the cluster domain: no query ever leaves loopback.
		s.Spec = corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "svc-00000.bench-0.svc.cluster.local"}
	}
	if ip, ok := staticClusterIP(i); ok && kindOf(i) == clusterIP {
		s.Spec.ClusterIP = ip
	}
	return retry(ctx, func() error {
		_, err := c.Client.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if apierrors.IsInvalid(err) && s.Spec.ClusterIP != "" && s.Spec.ClusterIP != corev1.ClusterIPNone {
			// The address is taken (a Service created another way): let
			// the API server pick one.
			s.Spec.ClusterIP = ""
			_, err = c.Client.CoreV1().Services(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		}
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}, "create service %s/%s", s.Namespace, s.Name)
}

// staticFirst is the offset in the service range 10.254.0.0/16 of the
// cluster IP of Service 0; the addresses below it are left to the API
// server's own allocations (default/kubernetes is 10.254.0.1).
const staticFirst = 1024

// staticClusterIP is the cluster IP of ClusterIP Service i, known in
// advance so that Services can be written to etcd (etcdload.go); through the
// API a static address costs what an allocated one does. Beyond the range it
// reports false and the API server allocates.
func staticClusterIP(i int) (string, bool) {
	off := staticFirst + i
	if off >= 1<<16-1 { // 10.254.255.255 is the range's broadcast address
		return "", false
	}
	return fmt.Sprintf("10.254.%d.%d", off>>8, off&255), true
}

func (c *Cluster) createSlice(ctx context.Context, i int) error {
	ready := true
	tcp := corev1.ProtocolTCP
	name, ns := ServiceName(i), NamespaceOf(i)
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: name + "-bench", Namespace: ns, Labels: map[string]string{
			discoveryv1.LabelServiceName: name,
			discoveryv1.LabelManagedBy:   managedBy,
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{
			{Name: Ptr("http"), Port: Ptr(int32(80)), Protocol: &tcp},
			{Name: Ptr("https"), Port: Ptr(int32(443)), Protocol: &tcp},
		},
	}
	for j := range 3 {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{EndpointIP(i, j)},
			Conditions: discoveryv1.EndpointConditions{Ready: &ready},
		})
	}
	return retry(ctx, func() error {
		_, err := c.Client.DiscoveryV1().EndpointSlices(ns).Create(ctx, s, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
		return err
	}, "create endpointslice %s/%s", ns, s.Name)
}

func Ptr[T any](v T) *T { return &v }

// retry runs f up to five times, a second apart, while the context lasts.
func retry(ctx context.Context, f func() error, format string, args ...any) error {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
		}
		if err = f(); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
}

// Service is one loaded Service as the queries need it.
type Service struct {
	Name, Ns string
	kind     svcKind
	IP       string // the cluster IP ("" unless ClusterIP)
}

// Services lists the benchmark's Services, sorted by name.
func (c *Cluster) Services(ctx context.Context) ([]Service, error) {
	var out []Service
	for k := range namespaces {
		ns := fmt.Sprintf("bench-%d", k)
		list, err := c.Client.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, fmt.Errorf("list services in %s: %w", ns, err)
		}
		for _, s := range list.Items {
			if !strings.HasPrefix(s.Name, "svc-") {
				continue
			}
			si := Service{Name: s.Name, Ns: ns, kind: clusterIP}
			switch {
			case s.Spec.Type == corev1.ServiceTypeExternalName:
				si.kind = externalName
			case s.Spec.ClusterIP == corev1.ClusterIPNone:
				si.kind = headless
			default:
				si.IP = s.Spec.ClusterIP
			}
			out = append(out, si)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Name < out[b].Name })
	return out, nil
}

// QueryFiles writes dnsperf's input: hits (A of ClusterIP and headless names,
// SRV of the named port http, PTR of cluster IPs) and misses (names that do
// not exist inside the cluster domain), each shuffled with a fixed seed. It
// returns a ClusterIP Service to probe for the first answer.
func QueryFiles(svcs []Service, hitsPath, missesPath string) (probe Service, err error) {
	var hits []string
	for k, s := range svcs {
		name := Fqdn(s.Name, s.Ns)
		switch s.kind {
		case clusterIP:
			if probe.IP == "" {
				probe = s
			}
			hits = append(hits, name+" A")
			switch k % 3 {
			case 0:
				hits = append(hits, "_http._tcp."+name+" SRV")
			case 1:
				rev, err := reverseName(s.IP)
				if err != nil {
					return probe, err
				}
				hits = append(hits, rev+" PTR")
			}
		case headless:
			hits = append(hits, name+" A")
		}
	}
	if probe.IP == "" {
		return probe, fmt.Errorf("no ClusterIP Service among the %d loaded", len(svcs))
	}
	misses := make([]string, 0, max(len(svcs), 1000))
	for k := range cap(misses) {
		misses = append(misses, fmt.Sprintf("nosuch-%05d.bench-%d.svc.%s A", k, k%namespaces, Domain))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lines := range [][]string{hits, misses} {
		rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
	}
	if err := os.WriteFile(hitsPath, []byte(strings.Join(hits, "\n")+"\n"), 0o644); err != nil {
		return probe, err
	}
	return probe, os.WriteFile(missesPath, []byte(strings.Join(misses, "\n")+"\n"), 0o644)
}

func reverseName(ip string) (string, error) {
	a := net.ParseIP(ip).To4()
	if a == nil {
		return "", fmt.Errorf("%q is not an IPv4 cluster IP", ip)
	}
	return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", a[3], a[2], a[1], a[0]), nil
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

// PropPrefix names the Services created to time propagation.
const PropPrefix = "prop-"
