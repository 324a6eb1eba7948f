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

// etcdTemplate holds the stored forms of svc-00000 and of its IPAddress.
type etcdTemplate struct {
	svc  *corev1.Service
	ip   *networkingv1.IPAddress
	encS runtime.Encoder
	encI runtime.Encoder
}

// writeServices writes the ClusterIP Services idx to etcd with their
// IPAddresses. It returns the Services it left to the API server: those
// whose static cluster IP is taken (another Service allocated it).
func (c *Cluster) writeServices(ctx context.Context, idx []int) (viaAPI []int, err error) {
	if len(idx) == 0 {
		return nil, nil
	}
	tpl, err := c.template(ctx)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	ips, err := c.Client.NetworkingV1().IPAddresses().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list ipaddresses: %w", err)
	}
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
	for _, services := range []bool{false, true} {
		if err := c.writeAll(ctx, tpl, direct, services); err != nil {
			return nil, err
		}
	}
	return viaAPI, nil
}

// writeAll writes the IPAddresses, or the Services, of idx in batches.
func (c *Cluster) writeAll(ctx context.Context, tpl *etcdTemplate, idx []int, services bool) error {
	var batches [][]int
	for len(idx) > 0 {
		n := min(etcdBatch, len(idx))
		batches, idx = append(batches, idx[:n]), idx[n:]
	}
	return parallel(ctx, etcdWorkers, batches, func(ctx context.Context, b []int) error {
		return c.writeBatch(ctx, tpl, b, services)
	})
}

// template reads svc-00000 and its IPAddress as etcd holds them, creating
// the Service through the API first when it is missing.
func (c *Cluster) template(ctx context.Context) (*etcdTemplate, error) {
	name, ns := ServiceName(0), NamespaceOf(0)
	svc, err := c.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if err := c.createService(ctx, 0); err != nil {
			return nil, err
		}
		if svc, err = c.Client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{}); err != nil {
			return nil, err
		}
	}
	tpl := &etcdTemplate{}
	sObj, sEnc, err := c.etcdObject(ctx, etcdPrefix+"/services/specs/"+ns+"/"+name)
	if err != nil {
		return nil, err
	}
	iObj, iEnc, err := c.etcdObject(ctx, etcdPrefix+"/ipaddresses/"+svc.Spec.ClusterIP)
	if err != nil {
		return nil, err
	}
	var ok1, ok2 bool
	tpl.svc, ok1 = sObj.(*corev1.Service)
	tpl.ip, ok2 = iObj.(*networkingv1.IPAddress)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("etcd holds a %T and a %T for svc-00000 and its IPAddress", sObj, iObj)
	}
	tpl.encS, tpl.encI = sEnc, iEnc
	return tpl, nil
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
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		return nil, nil, fmt.Errorf("no protobuf serializer")
	}
	return obj, scheme.Codecs.EncoderForVersion(info.Serializer, gvk.GroupVersion()), nil
}

// writeBatch writes, in one transaction, the IPAddresses of Services idx,
// or the Services themselves.
func (c *Cluster) writeBatch(ctx context.Context, tpl *etcdTemplate, idx []int, services bool) error {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ops := make([]map[string]any, 0, len(idx))
	for _, i := range idx {
		ip, _ := staticClusterIP(i)
		name, ns := ServiceName(i), NamespaceOf(i)
		var key string
		var val []byte
		var err error
		if services {
			svc := tpl.svc.DeepCopy()
			svc.Name, svc.Namespace, svc.UID, svc.CreationTimestamp = name, ns, newUID(), now
			svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
			for k := range svc.ManagedFields {
				svc.ManagedFields[k].Time = &now
			}
			key = etcdPrefix + "/services/specs/" + ns + "/" + name
			val, err = runtime.Encode(tpl.encS, svc)
		} else {
			addr := tpl.ip.DeepCopy()
			addr.Name, addr.UID, addr.CreationTimestamp = ip, newUID(), now
			addr.Spec.ParentRef.Namespace, addr.Spec.ParentRef.Name = ns, name
			for k := range addr.ManagedFields {
				addr.ManagedFields[k].Time = &now
			}
			key = etcdPrefix + "/ipaddresses/" + ip
			val, err = runtime.Encode(tpl.encI, addr)
		}
		if err != nil {
			return err
		}
		ops = append(ops, map[string]any{"requestPut": map[string]any{"key": []byte(key), "value": val}})
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
