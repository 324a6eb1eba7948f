package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

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
	rev, err := c.bumpRevision(ctx)
	if err != nil {
		_ = c.script(context.WithoutCancel(ctx), log, "apiserver-start")
		return stopped, err
	}
	logr("API server stopped; etcd revision now %d", rev)
	if err := c.script(ctx, log, "apiserver-start"); err != nil {
		return stopped, fmt.Errorf("hack/local-cluster.sh apiserver-start: %w (log: %s)", err, filepath.Join(c.Dir, "kube-apiserver.log"))
	}
	return stopped, nil
}

// bumpRevision writes a key outside the API's prefix through etcd's JSON
// gateway and returns the new revision.
func (c *Cluster) bumpRevision(ctx context.Context) (int64, error) {
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

func (c *Cluster) DeleteService(svc *corev1.Service) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = c.Client.CoreV1().Services(svc.Namespace).Delete(ctx, svc.Name, metav1.DeleteOptions{})
}

// writeAuditPolicy puts the audit policy where local-cluster.sh reads it.
func writeAuditPolicy(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "audit-policy.yaml"), []byte(auditPolicy), 0o644)
}
