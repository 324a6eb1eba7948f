// Package options defines the sidecar's command-line flags.
package options

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// SidecarOptions are the sidecar's flags: those of the original sidecar,
// with the same names, defaults and meaning, plus klog's.
type SidecarOptions struct {
	// Probes (--probe, repeatable) are the DNS probes, labels unique.
	Probes []sidecar.Probe
	// DnsmasqAddr (--dnsmasq-addr) is dnsmasq's address, for its statistics.
	DnsmasqAddr string
	// DnsmasqPort (--dnsmasq-port) is dnsmasq's DNS port.
	DnsmasqPort int
	// DnsmasqPollIntervalMs (--dnsmasq-poll-interval-ms) is how often
	// dnsmasq's statistics are read, in milliseconds.
	DnsmasqPollIntervalMs int
	// DnsmasqMaxTCPConnections (--dnsmasq-max-tcp-connections) must be the
	// value of dnsmasq's --max-tcp-connections: the TCP connections dnsmasq
	// serves at once. It is exported as the limit of dnsmasq's TCP
	// connections, and tells when dnsmasq turns TCP clients away.
	DnsmasqMaxTCPConnections int
	// PrometheusAddr (--prometheus-addr) is the IP the HTTP server binds;
	// "" means every interface.
	PrometheusAddr string
	// PrometheusPort (--prometheus-port) is the HTTP port: health checks and
	// metrics.
	PrometheusPort int
	// PrometheusPath (--prometheus-path) is the metrics path.
	PrometheusPath string
	// PrometheusNamespace (--prometheus-namespace) prefixes metric names.
	PrometheusNamespace string
	// PrintVersion (--version[=raw]) is "false", "true" (print the version
	// and exit) or "raw" (print the bare version and exit).
	PrintVersion string
	// LogFlushFrequency (--log-flush-frequency) is accepted for
	// compatibility with the original's logging flags.
	LogFlushFrequency time.Duration
}

// NewSidecarOptions returns options holding the defaults.
func NewSidecarOptions() *SidecarOptions {
	return &SidecarOptions{
		DnsmasqAddr:           "127.0.0.1",
		DnsmasqPort:           53,
		DnsmasqPollIntervalMs: 5000,
		// dnsmasq's own default.
		DnsmasqMaxTCPConnections: 20,
		PrometheusAddr:           "0.0.0.0",
		PrometheusPort:           10054,
		PrometheusPath:           "/metrics",
		PrometheusNamespace:      "kubedns",
		PrintVersion:             "false",
		LogFlushFrequency:        5 * time.Second,
	}
}

var metricPrefixRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// WordSepNormalizeFunc makes "_" and "-" interchangeable in flag names.
var WordSepNormalizeFunc = cliflags.WordSepNormalize

// AddFlags registers every flag on fs, klog's included, and makes "_" and
// "-" interchangeable in flag names. It may be called on any number of
// fresh flag sets.
func (o *SidecarOptions) AddFlags(fs *pflag.FlagSet) {
	fs.SetNormalizeFunc(WordSepNormalizeFunc)

	fs.Var(&probesValue{&o.Probes}, "probe",
		"a DNS probe, repeatable: label,server[:port],name[,interval_seconds][,type]. "+
			"label matches [A-Za-z0-9_]+ and is unique; port defaults to 53 (IPv6 in brackets: [::1]:53); "+
			"interval defaults to 5 seconds; type is A, AAAA, ANY or SRV, default ANY. "+
			"Health is served on /healthcheck/<label>.")
	fs.StringVar(&o.DnsmasqAddr, "dnsmasq-addr", o.DnsmasqAddr, "address dnsmasq's statistics are read from")
	fs.IntVar(&o.DnsmasqPort, "dnsmasq-port", o.DnsmasqPort, "port of dnsmasq")
	fs.IntVar(&o.DnsmasqPollIntervalMs, "dnsmasq-poll-interval-ms", o.DnsmasqPollIntervalMs,
		"interval, in milliseconds, at which dnsmasq's statistics are read")
	fs.IntVar(&o.DnsmasqMaxTCPConnections, "dnsmasq-max-tcp-connections", o.DnsmasqMaxTCPConnections,
		"the value of dnsmasq's --max-tcp-connections (dnsmasq's default: 20); set both from one value")
	fs.StringVar(&o.PrometheusAddr, "prometheus-addr", o.PrometheusAddr, "address the HTTP server (health checks and metrics) binds")
	fs.IntVar(&o.PrometheusPort, "prometheus-port", o.PrometheusPort, "port of the HTTP server (health checks and metrics)")
	fs.StringVar(&o.PrometheusPath, "prometheus-path", o.PrometheusPath, "path metrics are served on")
	fs.StringVar(&o.PrometheusNamespace, "prometheus-namespace", o.PrometheusNamespace, "prefix of the metric names")
	cliflags.AddVersion(fs, &o.PrintVersion)
	fs.DurationVar(&o.LogFlushFrequency, "log-flush-frequency", o.LogFlushFrequency,
		"Maximum number of seconds between log flushes")

	// klog's flags, as the original registered glog's.
	cliflags.AddKlog(fs)
}

// Validate checks the options and returns every problem found, joined, each
// naming its flag.
func (o *SidecarOptions) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--"+flag+": "+format, args...))
	}
	seen := map[string]bool{}
	for _, p := range o.Probes {
		if err := p.Validate(); err != nil {
			bad("probe", "%q: %v", p.String(), err)
		}
		if seen[p.Label] {
			bad("probe", "label %q is used by more than one probe", p.Label)
		}
		seen[p.Label] = true
	}
	if err := checkHost(o.DnsmasqAddr, false); err != nil {
		bad("dnsmasq-addr", "%v", err)
	}
	if !cliflags.ValidPort(o.DnsmasqPort) {
		bad("dnsmasq-port", "%d is not a port number (1-65535)", o.DnsmasqPort)
	}
	if o.DnsmasqPollIntervalMs <= 0 {
		bad("dnsmasq-poll-interval-ms", "must be positive, got %d", o.DnsmasqPollIntervalMs)
	}
	if o.DnsmasqMaxTCPConnections <= 0 {
		bad("dnsmasq-max-tcp-connections", "must be positive, got %d", o.DnsmasqMaxTCPConnections)
	}
	if err := checkHost(o.PrometheusAddr, true); err != nil {
		bad("prometheus-addr", "%v", err)
	}
	if !cliflags.ValidPort(o.PrometheusPort) {
		bad("prometheus-port", "%d is not a port number (1-65535)", o.PrometheusPort)
	}
	switch p := o.PrometheusPath; {
	case !strings.HasPrefix(p, "/"):
		bad("prometheus-path", "%q does not start with /", p)
	case p == "/healthz" || strings.HasPrefix(p, "/healthcheck/"):
		bad("prometheus-path", "%q is taken by the health checks", p)
	}
	if o.PrometheusNamespace != "" && !metricPrefixRE.MatchString(o.PrometheusNamespace) {
		bad("prometheus-namespace", "%q does not match [A-Za-z_][A-Za-z0-9_]*", o.PrometheusNamespace)
	}
	cliflags.CheckShared(o.PrintVersion, o.LogFlushFrequency, bad)
	return errors.Join(errs...)
}

// DnsmasqAddress is dnsmasq's "host:port".
func (o *SidecarOptions) DnsmasqAddress() string {
	return net.JoinHostPort(o.DnsmasqAddr, strconv.Itoa(o.DnsmasqPort))
}

// DnsmasqPollInterval is --dnsmasq-poll-interval-ms as a duration.
func (o *SidecarOptions) DnsmasqPollInterval() time.Duration {
	return time.Duration(o.DnsmasqPollIntervalMs) * time.Millisecond
}

// HTTPAddress is the "host:port" the HTTP server listens on.
func (o *SidecarOptions) HTTPAddress() string {
	return net.JoinHostPort(o.PrometheusAddr, strconv.Itoa(o.PrometheusPort))
}

// LogFlags logs every flag of fs as FLAG: --name="value", like the original
// did at startup.
func (o *SidecarOptions) LogFlags(fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		klog.Infof("FLAG: --%s=%q", f.Name, f.Value.String())
	})
}

// checkHost accepts an IP address or a DNS name, and "" when empty is true.
func checkHost(h string, empty bool) error {
	switch {
	case h == "" && empty:
		return nil
	case h == "":
		return errors.New("empty")
	case net.ParseIP(h) != nil:
		return nil
	case len(validation.IsDNS1123Subdomain(h)) == 0:
		return nil
	}
	return fmt.Errorf("%q is neither an IP address nor a DNS name", h)
}

// probesValue is --probe: each use adds a probe; a label used twice is an
// error at once.
type probesValue struct{ p *[]sidecar.Probe }

func (v *probesValue) Set(s string) error {
	p, err := sidecar.ParseProbe(s)
	if err != nil {
		return err
	}
	for _, q := range *v.p {
		if q.Label == p.Label {
			return fmt.Errorf("probe %q: label %q is already used by --probe=%s", s, p.Label, q.String())
		}
	}
	*v.p = append(*v.p, p)
	return nil
}

func (v *probesValue) String() string {
	if v.p == nil {
		return ""
	}
	s := make([]string, len(*v.p))
	for i, p := range *v.p {
		s[i] = p.String()
	}
	return strings.Join(s, " ")
}

func (v *probesValue) Type() string { return "probe" }
