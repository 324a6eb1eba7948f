// Package app wires the sidecar together: probes, dnsmasq statistics and the
// HTTP server, with a graceful shutdown driven by a context.
package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/httpserver"
	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// shutdownTimeout bounds the wait for in-flight HTTP requests at shutdown.
const shutdownTimeout = 5 * time.Second

// httpLimits are the timeouts and header limit of the HTTP server (see
// httpserver.Default); tests shorten them.
var httpLimits = httpserver.Default()

// Run probes, polls dnsmasq and serves HTTP until ctx is cancelled, then
// stops the HTTP server gracefully and the probes, and returns nil. It
// returns an error if the server cannot start or stops by itself.
func Run(ctx context.Context, o *options.SidecarOptions) error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	labels := make([]string, len(o.Probes))
	for i, p := range o.Probes {
		labels[i] = p.Label
	}
	pm, err := sidecar.NewProbeMetrics(reg, o.PrometheusNamespace, labels)
	if err != nil {
		return err
	}
	dm := sidecar.NewDnsmasqMetrics(o.DnsmasqAddress(), o.PrometheusNamespace, sidecar.Clock{})
	if err := reg.Register(dm); err != nil {
		return fmt.Errorf("sidecar: register dnsmasq metrics: %w", err)
	}
	// The pod's network namespace is the sidecar's: its /proc/net shows
	// dnsmasq's TCP port.
	dt := sidecar.NewDnsmasqTCP(o.DnsmasqPort, o.DnsmasqMaxTCPConnections, o.PrometheusNamespace, sidecar.Clock{})
	if err := reg.Register(dt); err != nil {
		return fmt.Errorf("sidecar: register dnsmasq TCP metrics: %w", err)
	}
	probers := make([]*sidecar.Prober, len(o.Probes))
	for i, p := range o.Probes {
		probers[i] = sidecar.NewProber(p, pm, sidecar.Clock{})
	}

	ln, err := net.Listen("tcp", o.HTTPAddress())
	if err != nil {
		return fmt.Errorf("sidecar: listen http %s: %w", o.HTTPAddress(), err)
	}
	srv := httpLimits.Server(o.HTTPAddress(), sidecar.NewHandler(probers, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), o.PrometheusPath))
	httpErr := make(chan error, 1)
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			httpErr <- fmt.Errorf("sidecar: http %s: %w", ln.Addr(), err)
		}
	}()
	klog.InfoS("Serving HTTP", "address", ln.Addr().String(), "metricsPath", o.PrometheusPath)

	workers, stopWorkers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, p := range probers {
		klog.InfoS("Starting probe", "probe", p.Probe().String())
		wg.Go(func() { p.Run(workers) })
	}
	wg.Go(func() { dm.Run(workers, o.DnsmasqPollInterval()) })
	wg.Go(func() { dt.Run(workers, o.DnsmasqPollInterval()) })

	var runErr error
	select {
	case <-ctx.Done():
		klog.InfoS("Shutting down")
	case runErr = <-httpErr:
	}

	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		klog.ErrorS(err, "HTTP requests did not finish in time")
	}
	stopWorkers()
	wg.Wait()
	klog.InfoS("Stopped")
	return runErr
}
