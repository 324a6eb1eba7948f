package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubedns-go/kube-dns/pkg/freeport"
	"github.com/kubedns-go/kube-dns/pkg/httpserver"
	"github.com/kubedns-go/kube-dns/pkg/httpserver/httpservertest"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient/fakeapi"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
)

func init() { httpHost = "127.0.0.1" }

func service(ns, name, ip string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ip, ClusterIPs: []string{ip},
			Ports: []corev1.ServicePort{{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}}},
	}
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func httpStatus(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRunLifecycle starts kubedns on a fake API, waits for readiness, queries
// it, then cancels: readiness must fail during the lameduck period while DNS
// still answers, and run must return nil.
func TestRunLifecycle(t *testing.T) {
	client := fake.NewClientset(
		namespace("default"), namespace("kube-system"),
		service("kube-system", "kube-dns", "10.254.0.2"),
		service("default", "my-nginx", "10.254.32.162"),
	)
	cfg := options.NewKubeDNSConfig()
	cfg.DNSBindAddress = "127.0.0.1"
	cfg.DNSPort = 0
	cfg.HealthzPort = 0
	cfg.Lameduck = time.Second
	// The machine's UDP traffic is not this pod's: the lameduck is its minimum.
	defer func(f func() (uint64, error)) { lameduckReceived = f }(lameduckReceived)
	lameduckReceived = nil
	clk := clocktesting.NewFakeClock(time.Now())
	defer func(c clock.WithTicker) { lameduckClock = c }(lameduckClock)
	lameduckClock = clk

	addrs := make(chan []string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, fakeapi.New(t, client), func(d string, h []string) { addrs <- append([]string{d}, h...) })
	}()
	var a []string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}
	dnsAddr, readiness := a[0], "http://"+a[1]+"/readiness"

	poll := func(what string, cond func() bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
			func(context.Context) (bool, error) { return cond(), nil })
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}
	poll("readiness 200", func() bool { code, _ := httpStatus(readiness); return code == http.StatusOK })

	q := new(dns.Msg)
	q.SetQuestion("my-nginx.default.svc.cluster.local.", dns.TypeA)
	resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, dnsAddr)
	if err != nil || len(resp.Answer) != 1 || resp.Answer[0].(*dns.A).A.String() != "10.254.32.162" {
		t.Fatalf("my-nginx: %v %v", resp, err)
	}

	code, body := httpStatus("http://" + a[1] + "/cache")
	var dump cacheDumpBody
	if code != http.StatusOK || json.Unmarshal([]byte(body), &dump) != nil || len(dump.Names["my-nginx.default.svc.cluster.local."]) == 0 {
		t.Errorf("/cache: %d %s", code, body)
	}
	// A TCP connection kept open is counted.
	tc, err := dns.Dial("tcp", dnsAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if resp, _, err := (&dns.Client{Net: "tcp", Timeout: 2 * time.Second}).ExchangeWithConn(q, tc); err != nil || len(resp.Answer) != 1 {
		t.Fatalf("my-nginx over TCP: %v %v", resp, err)
	}
	code, body = httpStatus("http://" + a[1] + "/metrics")
	if code != http.StatusOK || !contains(body, "skydns_skydns_dns_request_count_total") || !contains(body, "kubedns_dns_requests_total") ||
		!contains(body, "\nkubedns_dns_tcp_connections 1\n") {
		t.Errorf("/metrics: %d, missing metrics", code)
	}

	cancel()
	poll("readiness 503 after cancel", func() bool {
		code, _ := httpStatus(readiness)
		return code == http.StatusServiceUnavailable
	})
	if resp, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(q, dnsAddr); err != nil || len(resp.Answer) != 1 {
		t.Errorf("during lameduck: %v %v", resp, err)
	}
	// The lameduck ends when its clock has moved by cfg.Lameduck.
	poll("the lameduck's ticker", clk.HasWaiters)
	clk.Step(cfg.Lameduck)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

func TestRecordsConfigNegativeTTL(t *testing.T) {
	cfg := options.NewKubeDNSConfig()
	cfg.TTL = 10
	if rc := RecordsConfig(cfg); rc.NegativeTTL != nil {
		t.Errorf("default --negative-ttl gives %d, want nil (the TTL)", *rc.NegativeTTL)
	}
	cfg.NegativeTTL = 0
	if rc := RecordsConfig(cfg); rc.NegativeTTL == nil || *rc.NegativeTTL != 0 || rc.TTL != 10 {
		t.Errorf("--negative-ttl=0 gives %v", rc.NegativeTTL)
	}
}

// TestRunHTTPLimits runs kubedns with its three HTTP servers (readiness,
// metrics, pprof) and short limits, and checks on each that idle and slow
// connections are closed, oversized headers refused and a GET answered
// beside slow clients; and that pprof streams a profile longer than the
// WriteTimeout.
func TestRunHTTPLimits(t *testing.T) {
	l := httpservertest.Short()
	defer func(saved httpserver.Limits, addr string) { httpLimits, pprofAddr = saved, addr }(httpLimits, pprofAddr)
	httpLimits, pprofAddr = l, "127.0.0.1:0"

	metricsPort, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	cfg := options.NewKubeDNSConfig()
	cfg.DNSBindAddress = "127.0.0.1"
	cfg.DNSPort = 0
	cfg.HealthzPort = 0
	cfg.MetricsPort = metricsPort
	cfg.Profiling = true
	cfg.Lameduck = 0

	addrs := make(chan []string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, cfg, fakeapi.New(t, fake.NewClientset(namespace("default"))), func(_ string, h []string) { addrs <- h })
	}()
	var a []string
	select {
	case a = <-addrs:
	case err := <-done:
		t.Fatalf("run returned early: %v", err)
	}
	if len(a) != 3 {
		t.Fatalf("HTTP addresses %v, want readiness, metrics and pprof", a)
	}
	err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) {
			code, _ := httpStatus("http://" + a[0] + "/readiness")
			return code == http.StatusOK, nil
		})
	if err != nil {
		t.Fatalf("waiting for readiness: %v", err)
	}

	t.Run("servers", func(t *testing.T) {
		for i, path := range []string{"/readiness", "/metrics", "/debug/pprof/cmdline"} {
			t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
				t.Parallel()
				httpservertest.Check(t, a[i], path, l)
			})
		}
		t.Run("pprof profile past WriteTimeout", func(t *testing.T) {
			t.Parallel()
			secs := int(l.WriteTimeout/time.Second) + 1
			code, body := httpStatus(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", a[2], secs))
			// A profile is gzipped.
			if code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
				t.Errorf("%d s profile with WriteTimeout %v: %d %q", secs, l.WriteTimeout, code, body[:min(len(body), 80)])
			}
		})
	})

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}
