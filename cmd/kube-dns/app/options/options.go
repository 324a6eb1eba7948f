// Package options defines the kube-dns command-line flags and environment
// settings: the configuration and its defaults (options.go), the flags
// (flags.go), their value types (values.go) and validation (validate.go).
package options

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// KubeDNSConfig is the kube-dns configuration: the flags of the original
// kube-dns (same names, defaults and meaning), a few new ones, and the
// PROMETHEUS_* environment variables read by LoadEnv.
type KubeDNSConfig struct {
	// ClusterDomain (--domain) is the lower-case FQDN names are served
	// under, e.g. "cluster.local.".
	ClusterDomain string
	// KubeConfigFile (--kubecfg-file) is a kubeconfig file for the API server.
	KubeConfigFile string
	// KubeMasterURL (--kube-master-url) is the API server URL, with
	// environment variables already expanded.
	KubeMasterURL string
	// InitialSyncTimeout (--initial-sync-timeout) bounds the first sync of
	// Services and endpoints.
	InitialSyncTimeout time.Duration

	// HealthzPort (--healthz-port) serves /readiness and /cache.
	HealthzPort int
	// DNSBindAddress (--dns-bind-address) is the IP DNS is served on.
	DNSBindAddress string
	// DNSPort (--dns-port) is the UDP and TCP port DNS is served on.
	DNSPort int
	// DNSUDPSockets (--dns-udp-sockets) is how many UDP sockets, each read
	// by its own loop, share DNSPort (SO_REUSEPORT); 0 means one per CPU.
	DNSUDPSockets int
	// DNSTCPMaxConnections (--dns-tcp-max-connections) is how many TCP
	// connections are served at once; more wait to be accepted. 0: no limit.
	DNSTCPMaxConnections int

	// NameserversFlag is the raw --nameservers value: a comma-separated list
	// of ip[:port] upstreams ("" means use /etc/resolv.conf).
	NameserversFlag string
	// Nameservers is NameserversFlag parsed and normalized to "host:port"
	// (port 53 by default, IPv6 hosts bracketed). Validate fills it in.
	Nameservers []string

	// Federations (--federations, deprecated) maps federation names to
	// their domains.
	Federations map[string]string

	// ConfigMapNs (--config-map-namespace) is the namespace of ConfigMap.
	ConfigMapNs string
	// ConfigMap (--config-map) names a ConfigMap to read dynamic
	// configuration from; "" disables it.
	ConfigMap string
	// ConfigDir (--config-dir) is a directory (a mounted ConfigMap) to read
	// dynamic configuration from; "" disables it.
	ConfigDir string
	// ConfigPeriod (--config-period) is how often ConfigDir is re-read.
	ConfigPeriod time.Duration

	// Profiling (--profiling) serves pprof on localhost:6060.
	Profiling bool
	// PrintVersion (--version[=raw]) is "false", "true" (print the version
	// and exit) or "raw" (print the bare version and exit).
	PrintVersion string

	// TTL (--ttl) is the TTL of every record served, 0..3600 seconds.
	TTL uint32
	// NegativeTTL (--negative-ttl) is the TTL and minimum of the SOA records,
	// which bound how long a negative answer is cached, 0..3600 seconds; -1
	// (the default) means TTL.
	NegativeTTL int
	// EndpointsSource (--endpoints-source) is "endpointslices" or "endpoints".
	EndpointsSource string
	// PodRecords (--pod-records) is "insecure", "verified" or "disabled".
	PodRecords string
	// DNSService (--dns-service) is the "namespace/name" of kube-dns's own
	// Service.
	DNSService string
	// Lameduck (--lameduck) is how long at least /readiness fails after
	// SIGTERM, while kubedns still answers, before the listeners close;
	// then until the pod has received no query for two seconds (dnsmasq,
	// in front, stops after one), at most LameduckMax (--lameduck-max).
	// See pkg/lameduck.
	Lameduck, LameduckMax time.Duration
	// ShutdownTimeout (--shutdown-timeout) bounds draining the listeners.
	ShutdownTimeout time.Duration
	// Wildcards (--wildcards) answers "*" labels below svc.<domain>, as the
	// original did.
	Wildcards bool
	// MulticlusterDomain (--multicluster-domain), when set, serves the
	// ServiceImports of the Multi-Cluster Services API (KEP-1645) below it
	// (a lower-case FQDN, "clusterset.local."); empty, the default, watches
	// no ServiceImports.
	MulticlusterDomain string
	// LogFlushFrequency (--log-flush-frequency) is the maximum time between
	// log flushes; accepted for compatibility.
	LogFlushFrequency time.Duration

	// MetricsPort (PROMETHEUS_PORT) serves metrics; 0 disables them.
	MetricsPort int
	// MetricsPath (PROMETHEUS_PATH) is the metrics path.
	MetricsPath string
	// MetricsNamespace (PROMETHEUS_NAMESPACE) prefixes metric names.
	MetricsNamespace string
	// MetricsSubsystem (PROMETHEUS_SUBSYSTEM) prefixes metric names.
	MetricsSubsystem string
}

// NewKubeDNSConfig returns a configuration holding the defaults.
func NewKubeDNSConfig() *KubeDNSConfig {
	return &KubeDNSConfig{
		ClusterDomain:      "cluster.local.",
		InitialSyncTimeout: 60 * time.Second,
		HealthzPort:        8081,
		DNSBindAddress:     "0.0.0.0",
		DNSPort:            53,
		DNSUDPSockets:      1,
		Federations:        map[string]string{},
		ConfigMapNs:        "kube-system",
		ConfigPeriod:       10 * time.Second,
		PrintVersion:       "false",
		TTL:                30,
		NegativeTTL:        -1,
		EndpointsSource:    "endpointslices",
		PodRecords:         "insecure",
		DNSService:         "kube-system/kube-dns",
		Lameduck:           5 * time.Second,
		LameduckMax:        25 * time.Second,
		ShutdownTimeout:    5 * time.Second,
		Wildcards:          true,
		LogFlushFrequency:  5 * time.Second,
		MetricsPath:        defaultMetricsPath,
		MetricsNamespace:   defaultMetricsNamespace,
		MetricsSubsystem:   defaultMetricsSubsystem,

		// dnsmasq's TCP children (--max-tcp-connections=1000 in the
		// manifest) each open one connection per --server line they use:
		// one in practice, four at most. 4096 covers 4 × 1000 at 9-13 KiB a
		// connection idle and 13-16 KiB busy, the kernel's share included
		// (BenchmarkTCPConnections, README).
		DNSTCPMaxConnections: 4096,
	}
}

const (
	defaultMetricsPath      = "/metrics"
	defaultMetricsNamespace = "skydns"
	defaultMetricsSubsystem = "skydns"
	maxTTL                  = 3600
)

var (
	endpointsSources = []string{"endpointslices", "endpoints"}
	podRecordModes   = []string{"insecure", "verified", "disabled"}
)

// LoadEnv reads the environment variables of the original kube-dns through
// getenv (os.Getenv when nil): PROMETHEUS_PORT (unset or 0 disables metrics),
// PROMETHEUS_PATH (default /metrics), PROMETHEUS_NAMESPACE and
// PROMETHEUS_SUBSYSTEM (default skydns). Unset or empty variables take the
// defaults.
func (c *KubeDNSConfig) LoadEnv(getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	c.MetricsPort = 0
	if v := strings.TrimSpace(getenv("PROMETHEUS_PORT")); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 0 || p > 65535 {
			return fmt.Errorf("PROMETHEUS_PORT: %q is not a port number (0-65535)", v)
		}
		c.MetricsPort = p
	}
	c.MetricsPath = envOr(getenv, "PROMETHEUS_PATH", defaultMetricsPath)
	if !strings.HasPrefix(c.MetricsPath, "/") {
		return fmt.Errorf("PROMETHEUS_PATH: %q does not start with /", c.MetricsPath)
	}
	c.MetricsNamespace = envOr(getenv, "PROMETHEUS_NAMESPACE", defaultMetricsNamespace)
	c.MetricsSubsystem = envOr(getenv, "PROMETHEUS_SUBSYSTEM", defaultMetricsSubsystem)
	return nil
}

// SplitDNSService returns the namespace and name of DNSService.
func (c *KubeDNSConfig) SplitDNSService() (namespace, name string) {
	namespace, name, _ = strings.Cut(c.DNSService, "/")
	return namespace, name
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
