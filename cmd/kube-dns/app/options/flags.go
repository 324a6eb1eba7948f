package options

import (
	"net/url"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
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
