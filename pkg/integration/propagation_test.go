package integration

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kubedns-go/kube-dns/pkg/apiretry"
)

// answers returns the rdata of the answer records, sorted, or the rcode.
func (k *kubeDNS) answers(name string, qtype uint16) (string, error) {
	resp, err := k.query("udp", name, qtype)
	if err != nil {
		return "", err
	}
	if resp.Rcode != dns.RcodeSuccess {
		return dns.RcodeToString[resp.Rcode], nil
	}
	var out []string
	for _, rr := range resp.Answer {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(f[3:], " "))
	}
	sort.Strings(out)
	return strings.Join(out, ", "), nil
}

// waitAnswer polls until name answers want, and returns how long it took.
func (k *kubeDNS) waitAnswer(t *testing.T, name string, qtype uint16, want string) time.Duration {
	t.Helper()
	d, err := eventually(10*time.Second, func() error {
		got, err := k.answers(name, qtype)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s %s = %q, want %q", name, dns.TypeToString[qtype], got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestPropagation measures API write to served answer for creates, updates
// and deletes, by polling.
func TestPropagation(t *testing.T) {
	requireCluster(t)
	const ns = "it-prop"
	createNamespace(t, ns)
	k := startKubeDNS(t)
	k.waitReady(t)
	ctx := context.Background()
	svcs := env.admin.CoreV1().Services(ns)
	name := "p.it-prop.svc.cluster.local."

	start := time.Now()
	createService(t, clusterIPService(ns, "p", []string{"10.254.101.1"}, port("http", corev1.ProtocolTCP, 80)))
	write := time.Since(start)
	t.Logf("create: API write %v, then answered after %v", write, k.waitAnswer(t, name, dns.TypeA, "A 10.254.101.1"))

	svc, err := svcs.Get(ctx, "p", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].Port = 8080
	if _, err := svcs.Update(ctx, svc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("update (port): answered after %v", k.waitAnswer(t, "_http._tcp."+name, dns.TypeSRV, "SRV 0 100 8080 "+name))

	if err := svcs.Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("delete: NXDOMAIN after %v", k.waitAnswer(t, name, dns.TypeA, "NXDOMAIN"))

	// An ExternalName that changes its target, and a headless endpoint that
	// stops being ready.
	createService(t, externalNameService(ns, "alias", "one.example.com"))
	k.waitAnswer(t, "alias."+ns+".svc.cluster.local.", dns.TypeCNAME, "CNAME one.example.com.")
	alias, err := svcs.Get(ctx, "alias", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alias.Spec.ExternalName = "two.example.com"
	if _, err := svcs.Update(ctx, alias, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("ExternalName update: answered after %v", k.waitAnswer(t, "alias."+ns+".svc.cluster.local.", dns.TypeCNAME, "CNAME two.example.com."))

	createService(t, headlessService(ns, "hl", false))
	s := slice(ns, "hl", "hl", "IPv4", nil, endpoint("", ptr.To(true), "10.30.0.1"), endpoint("", ptr.To(true), "10.30.0.2"))
	createSlice(t, s)
	k.waitAnswer(t, "hl."+ns+".svc.cluster.local.", dns.TypeA, "A 10.30.0.1, A 10.30.0.2")
	s, err = env.admin.DiscoveryV1().EndpointSlices(ns).Get(ctx, "hl", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Endpoints[1].Conditions.Ready = ptr.To(false)
	if _, err := env.admin.DiscoveryV1().EndpointSlices(ns).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Logf("endpoint not ready: answered after %v", k.waitAnswer(t, "hl."+ns+".svc.cluster.local.", dns.TypeA, "A 10.30.0.1"))
}

// TestAPIServerOutage stops the API server for 12 s: kubedns keeps answering
// from its last snapshot and reports the outage; then starts it again and
// creates a Service at once. kubedns must serve it within the backoff's cap
// (apiretry.DefaultMax, 2 s) plus a second of slack after the API server is
// back: the retries, however long the outage, are never further apart than
// the cap. (A 45 s outage ends the same way; 12 s is enough for the backoff
// to reach its cap, at about 4 s, and keeps CI short.)
func TestAPIServerOutage(t *testing.T) {
	requireCluster(t)
	const (
		ns     = "it-outage"
		outage = 12 * time.Second
		slack  = time.Second
	)
	createNamespace(t, ns)
	createService(t, clusterIPService(ns, "before", []string{"10.254.102.1"}, port("http", corev1.ProtocolTCP, 80)))
	k := startKubeDNS(t)
	k.waitReady(t)
	script := filepath.Join(env.root, "hack", "local-cluster.sh")
	if out, err := exec.Command(script, "apiserver-stop", env.dir).CombinedOutput(); err != nil {
		t.Fatalf("stopping the API server: %v\n%s", err, out)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = exec.Command(script, "apiserver-start", env.dir).Run()
		}
	}()

	// While it is down, every answer still comes from the last snapshot, and
	// the metrics say the watches are retrying an outage.
	down := time.Now()
	reported := false
	for n := 0; time.Since(down) < outage; n++ {
		got, err := k.answers("before."+ns+".svc.cluster.local.", dns.TypeA)
		if err != nil || got != "A 10.254.102.1" {
			t.Fatalf("query %d during the outage: %q %v", n, got, err)
		}
		if !reported {
			body, err := httpGetBody("http://" + k.metrics + "/metrics")
			reported = err == nil && metricValue(body, `kubedns_api_unreachable{resource="services"}`) == 1 &&
				metricValue(body, `kubedns_api_errors_total{cause="unreachable",resource="services"}`) >= 1
		}
		time.Sleep(50 * time.Millisecond) // pacing the queries, not waiting for a condition
	}
	if !reported {
		t.Errorf("kubedns_api_unreachable{resource=\"services\"} was not 1 during the outage")
	}
	if body, err := httpGetBody("http://" + k.metrics + "/metrics"); err == nil {
		t.Logf("calls refused in %v: %v (services)", outage,
			metricValue(body, `kubedns_api_errors_total{cause="unreachable",resource="services"}`))
	}

	if out, err := exec.Command(script, "apiserver-start", env.dir).CombinedOutput(); err != nil {
		t.Fatalf("starting the API server: %v\n%s", err, out)
	}
	restarted = true
	back := time.Now()
	var created error
	for range 50 { // the first writes may race the API server's own start-up
		if _, created = env.admin.CoreV1().Services(ns).Create(context.Background(),
			clusterIPService(ns, "after", []string{"10.254.102.2"}, port("http", corev1.ProtocolTCP, 80)), metav1.CreateOptions{}); created == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if created != nil {
		t.Fatal(created)
	}
	written := time.Since(back)
	if _, err := eventually(10*time.Second, func() error {
		got, err := k.answers("after."+ns+".svc.cluster.local.", dns.TypeA)
		if err == nil && got != "A 10.254.102.2" {
			err = errors.New(got)
		}
		return err
	}); err != nil {
		t.Fatalf("kubedns did not catch up within 10s of the API server's return: %v", err)
	}
	caughtUp := time.Since(back)
	t.Logf("Service written %v and served %v after the API server answered again", written, caughtUp)
	if caughtUp > apiretry.DefaultMax+slack {
		t.Errorf("served %v after the API server's return, want at most the backoff cap %v + %v", caughtUp, apiretry.DefaultMax, slack)
	}
	log := k.log()
	t.Logf("outage log:\n%s", strings.Join(linesWith(log, "API server"), "\n"))
	if got := linesWith(log, "API server unreachable, retrying", `resource="services"`); len(got) != 1 {
		t.Errorf("%d lines reporting the outage of services, want 1:\n%s", len(got), strings.Join(got, "\n"))
	}
}
