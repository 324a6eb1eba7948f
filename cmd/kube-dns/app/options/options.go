// Package options defines the kube-dns command-line flags and environment settings.
package options

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
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

// WordSepNormalizeFunc makes "_" and "-" interchangeable in flag names.
var WordSepNormalizeFunc = cliflags.WordSepNormalize

// AddFlags registers every flag on fs, klog's included, and makes "_" and
// "-" interchangeable in flag names. It may be called on any number of
// fresh flag sets.
func (c *KubeDNSConfig) AddFlags(fs *pflag.FlagSet) {
	fs.SetNormalizeFunc(WordSepNormalizeFunc)

	// The flags of the original kube-dns.
	fs.Var(domainValue{&c.ClusterDomain}, "domain",
		"domain under which to create names")
	fs.StringVar(&c.NameserversFlag, "nameservers", c.NameserversFlag,
		"List of ip:port, separated by commas of nameservers to forward queries to. "+
			"If set, overrides upstream servers taken from the nameserver option in /etc/resolv.conf. "+
			"Example: 8.8.8.8:53,8.8.4.4 (default port is 53)")
	fs.StringVar(&c.KubeConfigFile, "kubecfg-file", c.KubeConfigFile,
		"Location of kubecfg file for access to kubernetes master service;"+
			" --kube-master-url overrides the URL part of this; if this is not"+
			" provided, defaults to service account tokens")
	fs.Var(masterURLValue{&c.KubeMasterURL}, "kube-master-url",
		"URL to reach kubernetes master. Env variables in this flag will be expanded.")
	fs.IntVar(&c.HealthzPort, "healthz-port", c.HealthzPort,
		"port on which to serve a kube-dns HTTP readiness probe (/readiness, /cache).")
	fs.StringVar(&c.DNSBindAddress, "dns-bind-address", c.DNSBindAddress,
		"address on which to serve DNS requests.")
	fs.IntVar(&c.DNSPort, "dns-port", c.DNSPort, "port on which to serve DNS requests.")
	fs.IntVar(&c.DNSUDPSockets, "dns-udp-sockets", c.DNSUDPSockets,
		"UDP sockets sharing --dns-port (SO_REUSEPORT, Linux), each read by its own loop; 0: one per CPU (GOMAXPROCS)."+
			" More than one raises the saturated rate and costs CPU per answer at moderate rates.")
	fs.IntVar(&c.DNSTCPMaxConnections, "dns-tcp-max-connections", c.DNSTCPMaxConnections,
		"TCP connections served at once; past it, new ones wait in the kernel's accept queue until one closes."+
			" An idle connection is closed after 10s. 0: no limit.")
	fs.Var(federationsValue{&c.Federations}, "federations",
		"a comma separated list of the federation names and their corresponding"+
			" domain names to which this cluster belongs. Example:"+
			" \"myfederation1=example.com,myfederation2=example2.com,myfederation3=example.com\".")
	_ = fs.MarkDeprecated("federations", "use config-dir instead. Will be removed in future version")
	fs.StringVar(&c.ConfigMapNs, "config-map-namespace", c.ConfigMapNs,
		"namespace for the config-map")
	fs.StringVar(&c.ConfigMap, "config-map", c.ConfigMap,
		"config-map name. If empty, then the config-map will not used. Cannot be "+
			"used in conjunction with config-dir flag. config-map contains "+
			"dynamically adjustable configuration.")
	fs.DurationVar(&c.InitialSyncTimeout, "initial-sync-timeout", c.InitialSyncTimeout,
		"Timeout for initial resource sync.")
	fs.StringVar(&c.ConfigDir, "config-dir", c.ConfigDir,
		"directory to read config values from. Cannot be "+
			"used in conjunction with config-map flag.")
	fs.DurationVar(&c.ConfigPeriod, "config-period", c.ConfigPeriod,
		"period at which to check for updates in config-dir.")
	fs.BoolVar(&c.Profiling, "profiling", c.Profiling,
		"specifies whether to enable profiling (pprof on localhost:6060)")
	cliflags.AddVersion(fs, &c.PrintVersion)
	fs.DurationVar(&c.LogFlushFrequency, "log-flush-frequency", c.LogFlushFrequency,
		"Maximum number of seconds between log flushes")

	// New flags.
	fs.Uint32Var(&c.TTL, "ttl", c.TTL,
		"TTL in seconds of every record served, 0 to 3600.")
	fs.IntVar(&c.NegativeTTL, "negative-ttl", c.NegativeTTL,
		"TTL and minimum in seconds of the SOA records, which bound how long resolvers and dnsmasq cache "+
			"a negative answer, 0 to 3600; -1 means the value of --ttl.")
	fs.StringVar(&c.EndpointsSource, "endpoints-source", c.EndpointsSource,
		"API the endpoints of Services are read from: "+strings.Join(endpointsSources, " or ")+".")
	fs.StringVar(&c.PodRecords, "pod-records", c.PodRecords,
		"how <ip>.<namespace>.pod names are answered: insecure (any IP), "+
			"verified (only IPs of pods in that namespace) or disabled.")
	fs.StringVar(&c.DNSService, "dns-service", c.DNSService,
		"namespace/name of the Service of this DNS server, whose cluster IPs answer ns.dns.<domain>.")
	fs.DurationVar(&c.Lameduck, "lameduck", c.Lameduck,
		"how long at least /readiness reports failure after SIGTERM, while still answering, before the listeners close; "+
			"then until the pod has received no query for two seconds.")
	fs.DurationVar(&c.LameduckMax, "lameduck-max", c.LameduckMax,
		"how long at most kubedns keeps answering after SIGTERM while queries still come (below the pod's terminationGracePeriodSeconds).")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout,
		"how long to wait for in-flight requests when shutting down.")
	fs.BoolVar(&c.Wildcards, "wildcards", c.Wildcards,
		"answer names with \"*\" labels below svc.<domain> (any namespace, Service or endpoint), "+
			"at most 128 records each, as the original did; false makes \"*\" a label like any other.")
	fs.Var(optionalDomainValue{&c.MulticlusterDomain}, "multicluster-domain",
		"serve the ServiceImports of the Multi-Cluster Services API (multicluster.x-k8s.io) below this domain, "+
			"which KEP-1645 fixes as clusterset.local; needs RBAC to list and watch serviceimports. Empty (the default) serves none.")

	// klog's flags, as the original registered glog's.
	cliflags.AddKlog(fs)
}

// Validate checks the whole configuration and returns every problem found,
// joined, each naming its flag. It also normalizes ClusterDomain and fills
// in Nameservers from NameserversFlag.
func (c *KubeDNSConfig) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--"+flag+": "+format, args...))
	}

	if d, err := normalizeDomain(c.ClusterDomain); err != nil {
		bad("domain", "%v", err)
	} else {
		c.ClusterDomain = d
	}
	if c.MulticlusterDomain != "" {
		switch d, err := normalizeDomain(c.MulticlusterDomain); {
		case err != nil:
			bad("multicluster-domain", "%v", err)
		case d == c.ClusterDomain || strings.HasSuffix(d, "."+c.ClusterDomain) || strings.HasSuffix(c.ClusterDomain, "."+d):
			bad("multicluster-domain", "%q overlaps the cluster domain %q", d, c.ClusterDomain)
		case d == "in-addr.arpa." || d == "ip6.arpa." || strings.HasSuffix(d, ".arpa."):
			bad("multicluster-domain", "%q is a reverse zone", d)
		default:
			c.MulticlusterDomain = d
		}
	}
	if c.KubeMasterURL != "" {
		if err := checkMasterURL(c.KubeMasterURL); err != nil {
			bad("kube-master-url", "%v", err)
		}
	}
	if net.ParseIP(c.DNSBindAddress) == nil {
		bad("dns-bind-address", "%q is not an IP address", c.DNSBindAddress)
	}
	if !validPort(c.DNSPort) {
		bad("dns-port", "%d is not a port number (1-65535)", c.DNSPort)
	}
	if c.DNSUDPSockets < 0 || c.DNSUDPSockets > 256 {
		bad("dns-udp-sockets", "%d is not 0 (one per CPU) or a number of sockets up to 256", c.DNSUDPSockets)
	}
	if c.DNSTCPMaxConnections < 0 {
		bad("dns-tcp-max-connections", "%d is not 0 (no limit) or a number of connections", c.DNSTCPMaxConnections)
	}
	if !validPort(c.HealthzPort) {
		bad("healthz-port", "%d is not a port number (1-65535)", c.HealthzPort)
	} else if c.HealthzPort == c.DNSPort {
		bad("healthz-port", "%d is also the --dns-port", c.HealthzPort)
	}

	c.Nameservers = nil
	if ns, err := parseNameservers(c.NameserversFlag); err != nil {
		bad("nameservers", "%v", err)
	} else {
		c.Nameservers = ns
	}
	names := make([]string, 0, len(c.Federations))
	for name := range c.Federations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checkFederation(name, c.Federations[name]); err != nil {
			bad("federations", "%v", err)
		}
	}

	if c.ConfigMap != "" && c.ConfigDir != "" {
		bad("config-map", "cannot be used together with --config-dir")
	}
	if c.ConfigMap != "" {
		if msgs := validation.IsDNS1123Subdomain(c.ConfigMap); len(msgs) > 0 {
			bad("config-map", "%q is not a valid ConfigMap name: %s", c.ConfigMap, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsDNS1123Label(c.ConfigMapNs); len(msgs) > 0 {
			bad("config-map-namespace", "%q is not a valid namespace: %s", c.ConfigMapNs, strings.Join(msgs, "; "))
		}
	}
	if c.ConfigPeriod <= 0 {
		bad("config-period", "must be positive, got %v", c.ConfigPeriod)
	}
	if c.InitialSyncTimeout <= 0 {
		bad("initial-sync-timeout", "must be positive, got %v", c.InitialSyncTimeout)
	}
	switch c.PrintVersion {
	case "true", "false", "raw":
	default:
		bad("version", "%q is not one of true, false, raw", c.PrintVersion)
	}
	if c.LogFlushFrequency <= 0 {
		bad("log-flush-frequency", "must be positive, got %v", c.LogFlushFrequency)
	}

	if c.TTL > maxTTL {
		bad("ttl", "%d is above the maximum of %d", c.TTL, maxTTL)
	}
	if c.NegativeTTL < -1 || c.NegativeTTL > maxTTL {
		bad("negative-ttl", "%d is not -1 or between 0 and %d", c.NegativeTTL, maxTTL)
	}
	if !oneOf(c.EndpointsSource, endpointsSources) {
		bad("endpoints-source", "%q is not one of %s", c.EndpointsSource, strings.Join(endpointsSources, ", "))
	}
	if !oneOf(c.PodRecords, podRecordModes) {
		bad("pod-records", "%q is not one of %s", c.PodRecords, strings.Join(podRecordModes, ", "))
	}
	if err := checkNamespacedName(c.DNSService); err != nil {
		bad("dns-service", "%v", err)
	}
	if c.Lameduck < 0 {
		bad("lameduck", "must not be negative, got %v", c.Lameduck)
	}
	if c.LameduckMax < 0 {
		bad("lameduck-max", "must not be negative, got %v", c.LameduckMax)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive, got %v", c.ShutdownTimeout)
	}

	if c.MetricsPort < 0 || c.MetricsPort > 65535 {
		bad("PROMETHEUS_PORT", "%d is not a port number (0-65535)", c.MetricsPort)
	}
	return errors.Join(errs...)
}

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

// LogFlags logs every flag of fs as FLAG: --name="value", like the original
// did at startup. The password of --kube-master-url is redacted.
func (c *KubeDNSConfig) LogFlags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		v := f.Value.String()
		if f.Name == "kube-master-url" && v != "" {
			if u, err := url.Parse(v); err == nil {
				v = u.Redacted()
			}
		}
		klog.Infof("FLAG: --%s=%q", f.Name, v)
	})
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

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// normalizeDomain checks that every label of v is a DNS-1123 label and
// returns v lower-cased with a trailing dot.
func normalizeDomain(v string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	for _, label := range strings.Split(d, ".") {
		if msgs := validation.IsDNS1123Label(label); len(msgs) > 0 {
			return "", fmt.Errorf("%q: label %q is not a valid DNS label: %s", v, label, strings.Join(msgs, "; "))
		}
	}
	if len(d) > validation.DNS1123SubdomainMaxLength {
		return "", fmt.Errorf("%q is longer than %d characters", v, validation.DNS1123SubdomainMaxLength)
	}
	return d + ".", nil
}

func checkMasterURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("cannot parse %q as a URL", v)
	}
	if u.Scheme == "" || u.Host == "" || u.Host == ":" {
		return fmt.Errorf("%q is not a URL with a scheme and a host", v)
	}
	return nil
}

// parseNameservers parses a comma-separated list of ip[:port] into
// "host:port" entries; "" gives none.
func parseNameservers(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		hp, err := parseNameserver(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, hp)
	}
	return out, nil
}

func parseNameserver(s string) (string, error) {
	if ip := net.ParseIP(s); ip != nil {
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not ip[:port]", s)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", fmt.Errorf("%q: %q is not an IP address", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || !validPort(p) {
		return "", fmt.Errorf("%q: %q is not a port number (1-65535)", s, port)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(p)), nil
}

func checkFederation(name, domain string) error {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return fmt.Errorf("federation name %q is not a valid DNS label: %s", name, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Subdomain(domain); len(msgs) > 0 {
		return fmt.Errorf("federation %q: domain %q is not a valid DNS subdomain: %s", name, domain, strings.Join(msgs, "; "))
	}
	return nil
}

func checkNamespacedName(v string) error {
	ns, name, ok := strings.Cut(v, "/")
	if !ok {
		return fmt.Errorf("%q is not namespace/name", v)
	}
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return fmt.Errorf("%q: namespace %q is not a valid DNS label: %s", v, ns, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return fmt.Errorf("%q: name %q is not a valid DNS label: %s", v, name, strings.Join(msgs, "; "))
	}
	return nil
}

// domainValue is --domain: stored lower-cased with a trailing dot.
type domainValue struct{ p *string }

func (v domainValue) Set(s string) error {
	d, err := normalizeDomain(s)
	if err != nil {
		return err
	}
	*v.p = d
	return nil
}

func (v domainValue) String() string { return *v.p }

// optionalDomainValue is --multicluster-domain: a domainValue that may be
// set to "" (off).
type optionalDomainValue struct{ p *string }

func (v optionalDomainValue) Set(s string) error {
	if s == "" {
		*v.p = ""
		return nil
	}
	return domainValue(v).Set(s)
}

func (v optionalDomainValue) String() string { return *v.p }
func (v optionalDomainValue) Type() string   { return "string" }
func (v domainValue) Type() string           { return "string" }

// masterURLValue is --kube-master-url: environment variables are expanded
// and the result must be a URL with a scheme and a host. "" unsets it.
type masterURLValue struct{ p *string }

func (v masterURLValue) Set(s string) error {
	if s == "" {
		*v.p = ""
		return nil
	}
	expanded := os.ExpandEnv(s)
	if err := checkMasterURL(expanded); err != nil {
		return err
	}
	*v.p = expanded
	return nil
}

func (v masterURLValue) String() string { return *v.p }
func (v masterURLValue) Type() string   { return "string" }

// federationsValue is --federations: name=domain pairs separated by commas,
// added to the map (repeating the flag accumulates, as in the original).
type federationsValue struct{ p *map[string]string }

func (v federationsValue) Set(s string) error {
	parsed := map[string]string{}
	if strings.TrimSpace(s) != "" {
		for _, pair := range strings.Split(s, ",") {
			name, domain, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				return fmt.Errorf("%q is not name=domain", pair)
			}
			name, domain = strings.TrimSpace(name), strings.TrimSpace(domain)
			if err := checkFederation(name, domain); err != nil {
				return err
			}
			parsed[name] = domain
		}
	}
	if *v.p == nil {
		*v.p = map[string]string{}
	}
	for name, domain := range parsed {
		(*v.p)[name] = domain
	}
	return nil
}

func (v federationsValue) String() string {
	pairs := make([]string, 0, len(*v.p))
	for name, domain := range *v.p {
		pairs = append(pairs, name+"="+domain)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func (v federationsValue) Type() string { return "mapStringString" }
