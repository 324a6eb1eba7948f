package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// ClusterIP Services are written to etcd directly, not created through the
// API server: kube-apiserver 1.35 updates its allocator's metrics after
// every cluster IP it allocates, static or not, by listing every IPAddress
// object twice (ipallocator.Allocator.Used, 76% of its CPU time while
// loading 10,000 Services), so N Services cost O(N²): 10,000 took 95 s here,
// 50,000 would take most of an hour on two cores. A ClusterIP Service and
// its IPAddress are copies of svc-00000 and of its IPAddress, which the API
// server created and stored (same encoding, defaults and managedFields),
// with their own name, uid, creation time and cluster IP; kube-apiserver's
// watch caches take them from etcd like any write.

const (
	// etcdBatch is how many keys one etcd transaction writes: etcd's
	// --max-txn-ops is 128 by default.
	etcdBatch = 128
	// etcdWorkers is how many transactions are in flight.
	etcdWorkers = 4
	// etcdPrefix is kube-apiserver's --etcd-prefix (its default).
	etcdPrefix = "/registry"
)

// writeServices writes the ClusterIP Services idx to etcd with their
// IPAddresses, copies of svc-00000 (which must exist) and of its own. It
// returns the Services it left to the API server: those whose static
// cluster IP is taken (another Service allocated it).
func (c *Cluster) writeServices(ctx context.Context, idx []int) (viaAPI []int, err error) {
	if len(idx) == 0 {
		return nil, nil
	}
	name, ns := ServiceName(0), NamespaceOf(0)
	svc, err := c.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	ips, err := c.Client.NetworkingV1().IPAddresses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list ipaddresses: %w", err)
	}
	taken := map[string]bool{}
	for _, ip := range ips.Items {
		taken[ip.Name] = true
	}
	var direct []int
	for _, i := range idx {
		if ip, ok := staticClusterIP(i); ok && !taken[ip] {
			direct = append(direct, i)
		} else {
			viaAPI = append(viaAPI, i)
		}
	}
	proc.Logf("writing %d ClusterIP Services and their IPAddresses to etcd (%d left to the API server)", len(direct), len(viaAPI))
	// Every IPAddress before any Service: kube-apiserver's repair loop
	// reports a Service whose address it has not seen yet, and allocates it.
	for _, key := range []string{"/ipaddresses/" + svc.Spec.ClusterIP, "/services/specs/" + ns + "/" + name} {
		tpl, enc, err := c.etcdObject(ctx, etcdPrefix+key)
		if err != nil {
			return nil, err
		}
		var batches [][]int
		for rest := direct; len(rest) > 0; rest = rest[min(etcdBatch, len(rest)):] {
			batches = append(batches, rest[:min(etcdBatch, len(rest))])
		}
		if err := parallel(ctx, etcdWorkers, batches, func(ctx context.Context, b []int) error {
			return c.writeBatch(ctx, tpl, enc, b)
		}); err != nil {
			return nil, err
		}
	}
	return viaAPI, nil
}

// etcdObject decodes the object stored under key and returns an encoder
// for its group and version.
func (c *Cluster) etcdObject(ctx context.Context, key string) (runtime.Object, runtime.Encoder, error) {
	var resp struct {
		KVs []struct {
			Value []byte `json:"value"` // base64 in JSON, decoded by encoding/json
		} `json:"kvs"`
	}
	if err := c.etcd(ctx, "/v3/kv/range", map[string]any{"key": []byte(key)}, &resp); err != nil {
		return nil, nil, err
	}
	if len(resp.KVs) != 1 {
		return nil, nil, fmt.Errorf("etcd has no key %s", key)
	}
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(resp.KVs[0].Value, nil, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("decode %s: %w", key, err)
	}
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	return obj, scheme.Codecs.EncoderForVersion(info.Serializer, gvk.GroupVersion()), nil
}

// writeBatch writes, in one transaction, copies of tpl (svc-00000 or its
// IPAddress) for Services idx.
func (c *Cluster) writeBatch(ctx context.Context, tpl runtime.Object, enc runtime.Encoder, idx []int) error {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ops := make([]map[string]any, 0, len(idx))
	for _, i := range idx {
		ip, _ := staticClusterIP(i)
		name, ns := ServiceName(i), NamespaceOf(i)
		var key string
		var om *metav1.ObjectMeta
		obj := tpl.DeepCopyObject()
		switch o := obj.(type) {
		case *corev1.Service:
			o.Name, o.Namespace, o.Spec.ClusterIP, o.Spec.ClusterIPs = name, ns, ip, []string{ip}
			key, om = "/services/specs/"+ns+"/"+name, &o.ObjectMeta
		case *networkingv1.IPAddress:
			o.Name, o.Spec.ParentRef.Namespace, o.Spec.ParentRef.Name = ip, ns, name
			key, om = "/ipaddresses/"+ip, &o.ObjectMeta
		default:
			return fmt.Errorf("etcd holds a %T for svc-00000", o)
		}
		om.UID, om.CreationTimestamp = newUID(), now
		for k := range om.ManagedFields {
			om.ManagedFields[k].Time = &now
		}
		val, err := runtime.Encode(enc, obj)
		if err != nil {
			return err
		}
		ops = append(ops, map[string]any{"requestPut": map[string]any{"key": []byte(etcdPrefix + key), "value": val}})
	}
	var resp struct {
		Succeeded bool `json:"succeeded"`
	}
	if err := c.etcd(ctx, "/v3/kv/txn", map[string]any{"success": ops}, &resp); err != nil {
		return err
	}
	if !resp.Succeeded {
		return fmt.Errorf("etcd transaction of %d keys did not succeed", len(idx))
	}
	return nil
}

// etcd calls etcd's JSON gateway; []byte values are base64 in JSON, as the
// gateway wants them.
func (c *Cluster) etcd(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Env["ETCD_SERVER"]+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, res.Status, b)
	}
	return json.Unmarshal(b, resp)
}

// newUID is a random (version 4) UUID.
func newUID() types.UID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return types.UID(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]))
}
