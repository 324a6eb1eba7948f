// Package app wires kubedns together: API client, watch, DNS listeners and
// the HTTP endpoints, with a graceful shutdown driven by a context.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/dns/server"
	"github.com/kubedns-go/kube-dns/pkg/dns/upstream"
	"github.com/kubedns-go/kube-dns/pkg/dns/watch"
	"github.com/kubedns-go/kube-dns/pkg/httpserver"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
	"github.com/kubedns-go/kube-dns/pkg/lameduck"
	"github.com/kubedns-go/kube-dns/pkg/version"
)

// httpHost is the host the HTTP listeners bind: every interface, as the
// original did (the kubelet probes the pod IP). Tests bind loopback.
var httpHost = ""

// pprofAddr is where --profiling serves pprof; tests bind a free port.
var pprofAddr = "localhost:6060"

// httpLimits are the timeouts and header limit of every HTTP server,
// pprof's included (see httpserver.Default); tests shorten them.
var httpLimits = httpserver.Default()

// Run serves DNS until ctx is cancelled, then shuts down gracefully: readiness
// turns 503, the lameduck period passes, and the listeners drain.
func Run(ctx context.Context, cfg *options.KubeDNSConfig) error {
	loosenMemory()
	restCfg, err := restConfig(cfg)
	if err != nil {
		return err
	}
	client, err := kubeclient.New(restCfg)
	if err != nil {
		return fmt.Errorf("kubedns: API client: %w", err)
	}
	return run(ctx, cfg, client, nil)
}

// restConfig uses --kubecfg-file and --kube-master-url when given, else the
// in-cluster service account. The client asks for protobuf, as the original did.
func restConfig(cfg *options.KubeDNSConfig) (*rest.Config, error) {
	var (
		c   *rest.Config
		err error
	)
	if cfg.KubeConfigFile == "" && cfg.KubeMasterURL == "" {
		c, err = rest.InClusterConfig()
	} else {
		c, err = clientcmd.BuildConfigFromFlags(cfg.KubeMasterURL, cfg.KubeConfigFile)
	}
	if err != nil {
		return nil, fmt.Errorf("kubedns: API client config: %w", err)
	}
	c.UserAgent = fmt.Sprintf("kube-dns/%s (%s/%s)", version.Version, runtime.GOOS, runtime.GOARCH)
	return c, nil
}

// RecordsConfig derives the record settings from the flags.
func RecordsConfig(cfg *options.KubeDNSConfig) *records.Config {
	mode := records.PodsInsecure
	switch cfg.PodRecords {
	case "verified":
		mode = records.PodsVerified
	case "disabled":
		mode = records.PodsDisabled
	}
	rc := &records.Config{Domain: cfg.ClusterDomain, TTL: cfg.TTL, Pods: mode, DNSService: cfg.DNSService,
		Multicluster: cfg.MulticlusterDomain}
	if cfg.NegativeTTL >= 0 {
		neg := uint32(cfg.NegativeTTL)
		rc.NegativeTTL = &neg
	}
	return rc
}

// listening, when set, is told the bound DNS and HTTP addresses (tests bind port 0).
func run(ctx context.Context, cfg *options.KubeDNSConfig, client kubeclient.Interface, listening func(dns string, http []string)) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	rc := RecordsConfig(cfg)
	ctrl, err := watch.New(client, watch.Options{
		EndpointsSource:    cfg.EndpointsSource,
		Records:            rc,
		InitialSyncTimeout: cfg.InitialSyncTimeout,
		Registerer:         reg,
		Notify:             func() { go settleMemory() },
		Wildcards:          cfg.Wildcards,
		// Setting client-go's KUBE_FEATURE_WatchListClient (either way)
		// leaves the choice to client-go; unset, the reflectors list.
		StreamInitialList: watchListChosen(),
	})
	if err != nil {
		return err
	}
	// Background work (watches, configuration) stops after the listeners drain.
	bg, stopBackground := context.WithCancel(context.Background())
	defer stopBackground()

	// Names outside the zones, unknown addresses and ExternalName targets go
	// upstream, as the kube-dns ConfigMap (or --nameservers, or
	// /etc/resolv.conf) says; the configuration is followed live.
	resolver := upstream.New(upstream.Servers{}, 0)
	go followConfig(bg, configSource(cfg, client, config.NewMetrics(reg, "kubedns")), resolver, cfg, ctrl.Snapshot)

	metrics := server.NewMetrics(reg, cfg.MetricsNamespace, cfg.MetricsSubsystem)
	opts := server.Options{
		Domain:       rc.Domain,
		Multicluster: rc.Multicluster,
		Snapshot:     ctrl.Snapshot,
		Upstream:     resolver,
		Metrics:      metrics,
	}
	if cfg.Wildcards {
		opts.Wildcards = ctrl.Wildcards
	}
	handler := server.NewHandler(opts)

	// Listen before the first lists are in: until then in-zone queries get
	// SERVFAIL rather than a connection refused.
	dnsAddr := net.JoinHostPort(cfg.DNSBindAddress, strconv.Itoa(cfg.DNSPort))
	listeners, err := server.ListenWith(dnsAddr, handler, server.ListenOptions{
		UDPSockets: cfg.DNSUDPSockets,
		TCP:        server.TCPConfig{MaxConns: cfg.DNSTCPMaxConnections},
		Metrics:    metrics,
	})
	if err != nil {
		return fmt.Errorf("kubedns: %w", err)
	}
	klog.InfoS("Serving DNS", "address", listeners.Addr(), "domain", rc.Domain, "multiclusterDomain", rc.Multicluster)

	var stopping atomic.Bool
	ready := func() bool { return ctrl.Ready() && !stopping.Load() }
	mux := newMux(ready, ctrl.Snapshot, reg, cfg.MetricsPath)
	servers := []*http.Server{httpLimits.Server(net.JoinHostPort(httpHost, strconv.Itoa(cfg.HealthzPort)), mux)}
	if cfg.MetricsPort > 0 && cfg.MetricsPort != cfg.HealthzPort {
		servers = append(servers, httpLimits.Server(net.JoinHostPort(httpHost, strconv.Itoa(cfg.MetricsPort)), mux))
	}
	if cfg.Profiling {
		pm := http.NewServeMux()
		pm.HandleFunc("/debug/pprof/", pprof.Index)
		pm.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		pm.HandleFunc("/debug/pprof/profile", pprof.Profile)
		pm.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		pm.HandleFunc("/debug/pprof/trace", pprof.Trace)
		// The same limits: the profile, trace and delta profiles stream
		// for the seconds asked, and net/http/pprof moves the write
		// deadline out by as much itself.
		servers = append(servers, httpLimits.Server(pprofAddr, pm))
	}
	httpErr := make(chan error, len(servers))
	var httpAddrs []string
	for _, s := range servers {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			shutdownAll(listeners, servers, cfg.ShutdownTimeout)
			return fmt.Errorf("kubedns: listen http %s: %w", s.Addr, err)
		}
		klog.InfoS("Serving HTTP", "address", ln.Addr().String())
		httpAddrs = append(httpAddrs, ln.Addr().String())
		go func() {
			if err := s.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				httpErr <- fmt.Errorf("kubedns: http %s: %w", s.Addr, err)
			}
		}()
	}

	if listening != nil {
		listening(listeners.Addr(), httpAddrs)
	}

	watchDone := make(chan error, 1)
	go func() { watchDone <- ctrl.Run(bg) }()

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-watchDone:
		if runErr == nil {
			runErr = errors.New("kubedns: watch stopped")
		}
	case runErr = <-httpErr:
	case runErr = <-listeners.Done():
		runErr = fmt.Errorf("kubedns: DNS listener stopped: %w", runErr)
	}

	stopping.Store(true)
	if runErr == nil && cfg.Lameduck > 0 {
		w := lameduck.Wait{Min: cfg.Lameduck, Max: max(cfg.Lameduck, cfg.LameduckMax), Quiet: lameduck.KubednsQuiet,
			Received: lameduckReceived, Clock: lameduckClock}
		klog.InfoS("Lameduck: readiness is failing, still answering", "min", w.Min, "max", w.Max)
		// Not ctx: it has ended, and the lameduck is what follows. A second
		// signal ends the process (pkg/signals).
		d, why := w.Run(context.Background())
		klog.InfoS("Lameduck over", "after", d.Round(time.Millisecond), "reason", why)
	}
	shutdownAll(listeners, servers, cfg.ShutdownTimeout)
	stopBackground()
	klog.InfoS("Stopped")
	return runErr
}

// lameduckReceived counts what the pod receives; tests replace it.
var lameduckReceived = lameduck.UDPReceived

// lameduckClock times the lameduck (nil: the real clock); tests step a fake one.
var lameduckClock clock.WithTicker

func shutdownAll(l *server.Listeners, servers []*http.Server, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := l.Shutdown(ctx); err != nil {
		klog.ErrorS(err, "DNS listeners did not drain in time")
	}
	for _, s := range servers {
		_ = s.Shutdown(ctx)
	}
}

// watchListChosen reports whether the environment sets client-go's
// WatchListClient feature, which client-go then reads itself.
func watchListChosen() bool {
	_, set := os.LookupEnv("KUBE_FEATURE_WatchListClient")
	return set
}
