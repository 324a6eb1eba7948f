package integration

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// burstSize is how many clients keep a query out at once in
// TestForwardMaxBurst.
const burstSize = 1000

// TestForwardMaxBurst runs the pod's port 53 (the nanny and dnsmasq with the
// manifest's arguments, in front of the real kubedns) and the real sidecar
// with the manifest's probes, and has 1,000 clients keep a query each out
// for names that dnsmasq cannot answer from its cache and that take their
// time: ExternalName Services of the cluster domain whose targets kubedns
// resolves through an upstream that answers after 1-1.5s. While they do,
// /healthcheck/dnsmasq, the liveness probe of the dnsmasq container, must
// stay 200 and no client may be refused.
//
// dnsmasq 2.86 and later count --dns-forward-max per server group (the
// servers of one domain): only queries forwarded to the cluster domain's
// server, kubedns, compete with the sidecar's probe. kubedns runs with
// --ttl=0, so that the probe is forwarded each time, as it is once its
// cached answer has expired in a longer outage.
//
// The subtest with dnsmasq's default of 150 shows the outage: forwards beyond
// 150 are refused, the probe's question among them (the test asks it every
// 50 ms), and the health check fails whenever the sidecar's probe is.
func TestForwardMaxBurst(t *testing.T) {
	requireCluster(t)
	dnsmasqtest.Require(t)
	preserveKlog(t)
	var d appsv1.Deployment
	loadManifest(t, filepath.Join(renderManifests(t), kubeDNSManifest)).decode(t, "Deployment kube-system/kube-dns", &d)
	dnsmasqC, sidecarC := container(t, &d.Spec.Template.Spec, "dnsmasq"), container(t, &d.Spec.Template.Spec, "sidecar")
	no, _ := nannyArgs(t, dnsmasqC)
	manifestMax, ok := forwardMax(no.DnsmasqArgs)
	if !ok || manifestMax <= burstSize {
		t.Fatalf("the manifest's dnsmasq arguments %v set no --dns-forward-max above %d", no.DnsmasqArgs, burstSize)
	}

	upstream := startFakeDNS(t, freeport.LoopbackIP(6), "198.51.100.20", time.Second)
	const ns = "it-forward-max"
	createNamespace(t, ns)
	createExternalNames(t, ns, burstSize)
	k := startKubeDNS(t, "--ttl=0", "--nameservers="+upstream.hostPort())
	k.waitReady(t)
	k.waitAnswer(t, fmt.Sprintf("e%d.%s.svc.cluster.local.", burstSize-1, ns), dns.TypeA,
		fmt.Sprintf("A 198.51.100.20, CNAME t%d.example.test.", burstSize-1))

	for _, tc := range []struct {
		name    string
		max     int
		healthy bool
	}{
		{name: "manifest", max: manifestMax, healthy: true},
		{name: "dnsmasq default 150", max: 150, healthy: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := runBurst(t, k, upstream, dnsmasqC.Args, sidecarC.Args, tc.max, ns)
			t.Logf("--dns-forward-max=%d, %d clients for %v: %d answered (%.0f/s), %d refused, %d SERVFAIL, %d timeouts (UDP receive buffer drops on the machine: %d); "+
				"dnsmasq probes %d ok, %d failed, health %d times not 200; the probe's question %d answered, %d refused; dnsmasq at most %d fds (soft RLIMIT_NOFILE %s), RSS %d kB → %d kB; full table logged: %q",
				tc.max, burstSize, b.elapsed.Round(time.Millisecond), b.ok, float64(b.ok)/b.elapsed.Seconds(), b.refused, b.servfail, b.timeouts, b.rcvbufErrors,
				b.probesOK, b.probesFailed, len(b.unhealthy), b.probeQAnswered, b.probeQRefused, b.maxFDs, b.nofile, b.rss0, b.maxRSS, b.maxLogged)
			if tc.healthy {
				if len(b.unhealthy) > 0 || b.probesFailed > 0 {
					t.Errorf("/healthcheck/dnsmasq failed during the burst: %v", b.unhealthy[:min(len(b.unhealthy), 5)])
				}
				if b.refused > 0 || b.maxLogged != "" || b.probeQRefused > 0 {
					t.Errorf("%d clients refused, the probe's question refused %d times; dnsmasq logged %q", b.refused, b.probeQRefused, b.maxLogged)
				}
				if b.probesOK < 2 {
					t.Errorf("only %d dnsmasq probes during the burst", b.probesOK)
				}
				return
			}
			// The outage: the liveness probe's question is refused, so the
			// health check fails whenever the sidecar's probe is among the
			// refused (seen by the sidecar in most runs, not all).
			if want := "queries to cluster.local reached (max: 150)"; b.probeQRefused == 0 || b.refused == 0 || !strings.Contains(b.maxLogged, want) {
				t.Errorf("with dnsmasq's default the burst did not show the outage: the probe's question refused %d times (answered %d), health %v, %d refused, dnsmasq logged %q, want %q",
					b.probeQRefused, b.probeQAnswered, b.unhealthy, b.refused, b.maxLogged, want)
			}
		})
	}
}

// maxReached is what dnsmasq 2.90 logs when the forward table of a domain's
// servers is full ("... queries to cluster.local reached (max: 150)"), or of
// the servers of every other name ("... queries reached (max: 150)").
var maxReached = regexp.MustCompile(`Maximum number of concurrent DNS queries (to \S+ )?reached \(max: \d+\)`)

// forwardMax returns the value of --dns-forward-max (or -0) in dnsmasq's
// arguments.
func forwardMax(args []string) (int, bool) {
	for _, a := range args {
		for _, p := range []string{"--dns-forward-max=", "-0"} {
			if v, ok := strings.CutPrefix(a, p); ok {
				n, err := strconv.Atoi(v)
				return n, err == nil
			}
		}
	}
	return 0, false
}

// createExternalNames creates ExternalName Services e0..e<n-1> in ns, each
// for the target t<i>.example.test, and deletes them when the test ends.
func createExternalNames(t *testing.T, ns string, n int) {
	t.Helper()
	services := env.admin.CoreV1().Services(ns)
	t.Cleanup(func() {
		if err := inParallel(n, func(i int) error {
			return services.Delete(context.Background(), fmt.Sprintf("e%d", i), metav1.DeleteOptions{})
		}); err != nil {
			t.Errorf("deleting the Services of %s: %v", ns, err)
		}
	})
	if err := inParallel(n, func(i int) error {
		svc := externalNameService(ns, fmt.Sprintf("e%d", i), fmt.Sprintf("t%d.example.test", i))
		_, err := services.Create(context.Background(), svc, metav1.CreateOptions{})
		return err
	}); err != nil {
		t.Fatalf("creating ExternalName Services: %v", err)
	}
}

// inParallel calls fn(0..n-1) from 8 goroutines and returns the first error.
func inParallel(n int, fn func(i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// burstResult is what one burst did.
type burstResult struct {
	elapsed                time.Duration
	ok, refused, servfail  int64
	timeouts, other        int64
	probesOK, probesFailed int
	unhealthy              []string // health check answers other than 200
	// The probe's own question, asked by the test every 50 ms during the
	// burst: how often dnsmasq answered it and how often it refused it.
	probeQAnswered, probeQRefused int64
	maxFDs, rss0, maxRSS          int
	rcvbufErrors                  int // the machine's UDP RcvbufErrors during the burst
	nofile                        string
	maxLogged                     string // what dnsmasq said of a full forward table, if it did
}

// runBurst starts the nanny with the dnsmasq container's arguments (its
// dnsmasq with --dns-forward-max=forwardMax) and the sidecar with its
// container's, on loopback ports, waits until dnsmasq is healthy, and runs
// the burst until the sidecar has probed dnsmasq twice, or until the health
// check fails when it is not expected to hold.
func runBurst(t *testing.T, k *kubeDNS, upstream *fakeDNS, nannyContainerArgs, sidecarContainerArgs []string, forwardMax int, ns string) burstResult {
	t.Helper()
	port := freePort(t)
	front := "127.0.0.1:" + strconv.Itoa(port)
	configDir := t.TempDir()
	writeConfigDir(t, configDir, map[string]string{"upstreamNameservers": fmt.Sprintf("[%q]", upstream.hostPort())})
	var args []string
	dnsmasqArgs := false
	for _, a := range nannyContainerArgs {
		switch {
		case a == "--":
			dnsmasqArgs = true
			args = append(args, "-kubednsServer="+k.dns, a)
			continue
		case !dnsmasqArgs && strings.HasPrefix(a, "-configDir="):
			a = "-configDir=" + configDir
		case dnsmasqArgs && strings.HasPrefix(a, "--dns-forward-max="):
			a = "--dns-forward-max=" + strconv.Itoa(forwardMax)
		case dnsmasqArgs && strings.HasPrefix(a, "--server="):
			a = strings.ReplaceAll(a, "127.0.0.1#10053", hashPort(k.dns))
		}
		args = append(args, a)
	}
	p := runNanny(t, port, append(args, loopbackDnsmasqArgs(port)...))
	pid := onlyChild(t, p.cmd.Process.Pid, "dnsmasq")

	var scArgs []string
	for _, a := range sidecarContainerArgs {
		a = strings.ReplaceAll(a, ",127.0.0.1:53,", ","+front+",")
		a = strings.ReplaceAll(a, ",127.0.0.1:10053,", ","+k.dns+",")
		if strings.HasPrefix(a, "--probe=") && !strings.Contains(a, ","+front+",") && !strings.Contains(a, ","+k.dns+",") {
			t.Fatalf("sidecar probe %q: not one of the pod's two servers at their manifest addresses", a)
		}
		scArgs = append(scArgs, a)
	}
	base := startSidecar(t, port, scArgs...)
	if _, err := eventually(30*time.Second, func() error {
		code, body, err := health(base + "/healthcheck/dnsmasq")
		if err == nil && code != http.StatusOK {
			err = fmt.Errorf("%d %v", code, body)
		}
		return err
	}); err != nil {
		t.Fatalf("dnsmasq not healthy before the burst: %v", err)
	}
	okBefore, failedBefore := probeCounts(t, base, "dnsmasq")

	var r burstResult
	r.nofile = softNofile(pid)
	r.rss0 = rssKB(pid)
	rcvbuf0 := udpRcvbufErrors()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var ok, refused, servfail, timeouts, other atomic.Int64
	began := time.Now()
	launch := time.NewTicker(time.Millisecond)
	for i := 0; i < burstSize; i++ {
		if i%4 == 0 { // 4 clients a millisecond: dnsmasq's socket buffer holds the rest
			<-launch.C
		}
		name := fmt.Sprintf("e%d.%s.svc.cluster.local.", i, ns)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				answer, err := exchangeA(front, name, 5*time.Second)
				switch {
				case err != nil && isTimeout(err):
					timeouts.Add(1)
				case err != nil:
					other.Add(1)
				case answer == upstream.answer:
					ok.Add(1)
					continue
				case answer == "REFUSED":
					refused.Add(1)
				case answer == "SERVFAIL":
					servfail.Add(1)
				default:
					other.Add(1)
				}
				// A client that got no answer tries again a second later.
				select {
				case <-stop:
					return
				case <-time.After(time.Second):
				}
			}
		}()
	}
	launch.Stop()

	// The sidecar asks its question every 5 s, a sample of two or three in
	// a burst: whether one of them finds a free slot in a full forward
	// table is chance (slots free between an answer and its client's next
	// query). The test asks the same question every 50 ms, a sample large
	// enough to tell a table that refuses it from one that does not.
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			m := new(dns.Msg)
			m.SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeSRV)
			resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, front)
			switch {
			case err != nil:
			case resp.Rcode == dns.RcodeRefused:
				r.probeQRefused++
			case resp.Rcode == dns.RcodeSuccess && len(resp.Answer) > 0:
				r.probeQAnswered++
			}
		}
	}()

	_, err := eventually(30*time.Second, func() error {
		if n, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); len(n) > r.maxFDs {
			r.maxFDs = len(n)
		}
		r.maxRSS = max(r.maxRSS, rssKB(pid))
		code, body, err := health(base + "/healthcheck/dnsmasq")
		if err != nil || code != http.StatusOK {
			r.unhealthy = append(r.unhealthy, fmt.Sprintf("+%v: %d %v %v", time.Since(began).Round(time.Millisecond), code, body, err))
		}
		okNow, failedNow := probeCounts(t, base, "dnsmasq")
		r.probesOK, r.probesFailed = okNow-okBefore, failedNow-failedBefore
		switch {
		case forwardMax <= burstSize && len(r.unhealthy) > 0:
			return nil // the outage, shown
		case r.probesOK+r.probesFailed >= 2:
			return nil
		}
		return fmt.Errorf("%d dnsmasq probes during the burst so far", r.probesOK+r.probesFailed)
	})
	close(stop)
	wg.Wait()
	<-probeDone
	r.elapsed = time.Since(began)
	r.rcvbufErrors = udpRcvbufErrors() - rcvbuf0
	if err != nil {
		t.Fatal(err)
	}
	r.ok, r.refused, r.servfail, r.timeouts, r.other = ok.Load(), refused.Load(), servfail.Load(), timeouts.Load(), other.Load()
	r.maxLogged = maxReached.FindString(p.log())
	return r
}

var probeMetric = regexp.MustCompile(`(?m)^kubedns_probe_(latency_seconds_count|errors_total)\{probe="([a-z]+)"\} ([0-9.e+]+)$`)

// probeCounts reads the sidecar's counts of successful and failed probes
// of label.
func probeCounts(t *testing.T, base, label string) (ok, failed int) {
	t.Helper()
	text := readAll(t, base+"/metrics")
	for _, m := range probeMetric.FindAllStringSubmatch(text, -1) {
		if m[2] != label {
			continue
		}
		v, _ := strconv.ParseFloat(m[3], 64)
		if m[1] == "errors_total" {
			failed = int(v)
		} else {
			ok = int(v)
		}
	}
	return ok, failed
}

// udpRcvbufErrors is the machine's count of UDP datagrams dropped for a
// full socket receive buffer (/proc/net/snmp).
func udpRcvbufErrors() int {
	b, _ := os.ReadFile("/proc/net/snmp")
	var head []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Udp:" {
			continue
		}
		if head == nil {
			head = f
			continue
		}
		if i := slices.Index(head, "RcvbufErrors"); i > 0 && i < len(f) {
			n, _ := strconv.Atoi(f[i])
			return n
		}
	}
	return 0
}

// rssKB is the resident memory of pid in kB, from /proc.
func rssKB(pid int) int {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// softNofile is the soft limit on open files of pid.
func softNofile(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 5 && slices.Equal(f[:3], []string{"Max", "open", "files"}) {
			return f[3]
		}
	}
	return "?"
}
