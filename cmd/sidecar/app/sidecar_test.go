package app

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
	"github.com/kubedns-go/kube-dns/pkg/httpserver"
	"github.com/kubedns-go/kube-dns/pkg/httpserver/httpservertest"
	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// serveDNS answers IN questions with one SRV record and dnsmasq's CHAOS TXT
// statistics with 7 (cachesize.bind 150), on UDP at a free 127.0.0.1 port.
func serveDNS(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(started) }, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg).SetReply(q)
		qq := q.Question[0]
		if qq.Qclass == dns.ClassCHAOS {
			v := "7"
			if qq.Name == "cachesize.bind." {
				v = "150"
			}
			m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeTXT, Class: dns.ClassCHAOS}, Txt: []string{v}}}
		} else {
			m.Answer = []dns.RR{&dns.SRV{Hdr: dns.RR_Header{Name: qq.Name, Rrtype: dns.TypeSRV, Class: dns.ClassINET, Ttl: 30}, Port: 443, Target: "kubernetes.default.svc.cluster.local."}}
		}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond every 10ms until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true,
		func(context.Context) (bool, error) { return cond(), nil })
	if err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := freeport.Loopback()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// start runs the sidecar through Run with a probe of a fake DNS server on
// a free port, waits for /healthz, and returns its base URL, the cancel of
// Run's context and Run's result.
func start(t *testing.T) (string, context.CancelFunc, chan error) {
	t.Helper()
	dnsAddr := serveDNS(t)
	host, port, _ := net.SplitHostPort(dnsAddr)
	o := options.NewSidecarOptions()
	o.Probes = []sidecar.Probe{{Label: "kubedns", Server: dnsAddr, Name: "kubernetes.default.svc.cluster.local.", Interval: 100 * time.Millisecond, Type: dns.TypeSRV}}
	o.DnsmasqAddr = host
	o.DnsmasqPort, _ = strconv.Atoi(port)
	o.DnsmasqPollIntervalMs = 50
	o.PrometheusAddr = "127.0.0.1"

	// The free port may be taken between freePort and Run: try again then.
	var (
		base   string
		cancel context.CancelFunc
		done   chan error
	)
	for attempt := 0; base == ""; attempt++ {
		o.PrometheusPort = freePort(t)
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() { done <- Run(ctx, o) }()
		url := "http://" + o.HTTPAddress()
		eventually(t, "/healthz or an early return", func() bool {
			select {
			case err := <-done:
				if attempt == 2 {
					t.Fatalf("Run: %v", err)
				}
				return true
			default:
			}
			if code, body := get(url + "/healthz"); code == http.StatusOK && body == "ok\n" {
				base = url
				return true
			}
			return false
		})
		if base == "" {
			cancel()
		}
	}
	return base, cancel, done
}

// stop cancels Run's context and expects Run to return nil.
func stop(t *testing.T, cancel context.CancelFunc, done chan error) {
	t.Helper()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// TestRun runs the sidecar through Run, checks its HTTP paths, cancels
// the context, and expects Run to return nil.
func TestRun(t *testing.T) {
	base, cancel, done := start(t)
	defer cancel()

	eventually(t, "/healthcheck/kubedns 200", func() bool { code, _ := get(base + "/healthcheck/kubedns"); return code == http.StatusOK })
	if code, _ := get(base + "/healthcheck/dnsmasq"); code != http.StatusNotFound {
		t.Errorf("unknown probe: %d, want 404", code)
	}
	eventually(t, "dnsmasq statistics and TCP state in /metrics", func() bool {
		_, body := get(base + "/metrics")
		return strings.Contains(body, "kubedns_dnsmasq_cache_size 150") && strings.Contains(body, "\nkubedns_tcp_listen_overflows_total ")
	})
	_, body := get(base + "/metrics")
	for _, want := range []string{"kubedns_dnsmasq_hits_total 7", "kubedns_dnsmasq_hits 7", `kubedns_probe_latency_seconds_count{probe="kubedns"}`,
		"kubedns_probe_kubedns_latency_ms_count", "go_goroutines", "process_cpu_seconds_total",
		"kubedns_dnsmasq_tcp_connections_limit 20", "\nkubedns_dnsmasq_tcp_connections ", "\nkubedns_dnsmasq_tcp_accept_queue ",
		"kubedns_dnsmasq_tcp_read_errors_total 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	stop(t, cancel, done)
	if code, _ := get(base + "/healthz"); code != 0 {
		t.Errorf("/healthz answers %d after Run returned", code)
	}
}

// TestRunHTTPLimits runs the sidecar with short HTTP limits and checks on
// its server that idle and slow connections are closed, oversized headers
// refused, and the health check answered beside slow clients.
func TestRunHTTPLimits(t *testing.T) {
	l := httpservertest.Short()
	defer func(saved httpserver.Limits) { httpLimits = saved }(httpLimits)
	httpLimits = l
	base, cancel, done := start(t)
	defer cancel()
	eventually(t, "/healthcheck/kubedns 200", func() bool { code, _ := get(base + "/healthcheck/kubedns"); return code == http.StatusOK })

	httpservertest.Check(t, strings.TrimPrefix(base, "http://"), "/healthcheck/kubedns", l)
	stop(t, cancel, done)
}

func TestRunPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	o := options.NewSidecarOptions()
	o.PrometheusAddr = "127.0.0.1"
	o.PrometheusPort = l.Addr().(*net.TCPAddr).Port
	if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "sidecar: listen http") {
		t.Errorf("Run on a taken port: %v", err)
	}
}
