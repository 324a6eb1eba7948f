// Package options defines the dnsmasq-nanny command-line flags.
package options

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
)

// NannyOptions are the flags of the original dnsmasq-nanny (same names,
// single-dash Go style, defaults and meaning), plus -clusterDomain, and the
// dnsmasq arguments given after "--".
type NannyOptions struct {
	// DnsmasqExec (-dnsmasqExec) is the dnsmasq binary.
	DnsmasqExec string
	// RestartDnsmasq (-restartDnsmasq) applies configuration changes to
	// the running dnsmasq (a reload through SIGHUP, a restart only when its
	// arguments change); without it they wait for dnsmasq's next start.
	RestartDnsmasq bool
	// ConfigDir (-configDir) is the kube-dns ConfigMap mounted as a volume.
	// "" means no dynamic configuration.
	ConfigDir string
	// SyncInterval (-syncInterval) is how often ConfigDir is read and the
	// stub server names resolved again.
	SyncInterval time.Duration
	// KubednsServer (-kubednsServer) is the "host:port" of kubedns, which
	// resolves stub server names inside ClusterDomain.
	KubednsServer string
	// LogInterval (-logInterval), when positive, is how often dnsmasq is
	// sent SIGUSR1 so that it logs its statistics.
	LogInterval time.Duration
	// ServersFileDir (-serversFileDir, new) is where the nanny writes the
	// servers file dnsmasq reloads on SIGHUP, in a directory of its own.
	ServersFileDir string
	// Lameduck (-lameduck, new) is how long at least dnsmasq keeps
	// answering after the nanny is told to stop, while the pod leaves the
	// Service's endpoints (kubedns's readiness fails from SIGTERM on);
	// then until no query has come for a second, at most LameduckMax
	// (-lameduckMax, new). See pkg/lameduck.
	Lameduck, LameduckMax time.Duration
	// ClusterDomain (-clusterDomain, new) is the domain whose names are
	// resolved through kubedns; stored lower-case without a trailing dot.
	ClusterDomain string
	// PrintVersion (-version) prints the version and exits.
	PrintVersion bool

	// DnsmasqArgs are the arguments after the first "--", passed to
	// dnsmasq unchanged.
	DnsmasqArgs []string
}

// NewNannyOptions returns the defaults.
func NewNannyOptions() *NannyOptions {
	return &NannyOptions{
		DnsmasqExec:    "/usr/sbin/dnsmasq",
		ConfigDir:      "/etc/k8s/dns/dnsmasq-nanny",
		SyncInterval:   10 * time.Second,
		KubednsServer:  "127.0.0.1:10053",
		ServersFileDir: os.TempDir(),
		Lameduck:       5 * time.Second,
		LameduckMax:    20 * time.Second,
		ClusterDomain:  "cluster.local",
	}
}

// AddFlags registers the nanny's flags and klog's (-v, -logtostderr, ...)
// on fs. Go's flag package accepts them with one dash or two.
func (o *NannyOptions) AddFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.DnsmasqExec, "dnsmasqExec", o.DnsmasqExec,
		"location of the dnsmasq executable")
	fs.BoolVar(&o.RestartDnsmasq, "restartDnsmasq", o.RestartDnsmasq,
		"if true, apply configuration changes to the running dnsmasq (reloading it, or restarting it when its arguments change); if false, at its next start")
	fs.StringVar(&o.ConfigDir, "configDir", o.ConfigDir,
		"location of the configuration (the kube-dns ConfigMap mounted as a volume)")
	fs.DurationVar(&o.SyncInterval, "syncInterval", o.SyncInterval,
		"interval to check for configuration updates and to resolve stub server names again")
	fs.StringVar(&o.KubednsServer, "kubednsServer", o.KubednsServer,
		"host:port of kubedns, used to resolve stub server names inside -clusterDomain")
	fs.DurationVar(&o.LogInterval, "logInterval", o.LogInterval,
		"if positive, how often dnsmasq is sent SIGUSR1 to log its statistics; 0 disables it")
	fs.StringVar(&o.ServersFileDir, "serversFileDir", o.ServersFileDir,
		"writable directory for the file dnsmasq reads its servers from (--servers-file), reloaded on SIGHUP; if it cannot be written, every change restarts dnsmasq")
	fs.DurationVar(&o.Lameduck, "lameduck", o.Lameduck,
		"after SIGTERM, how long at least dnsmasq keeps answering (as the pod leaves the Service's endpoints); then until no query has come for a second")
	fs.DurationVar(&o.LameduckMax, "lameduckMax", o.LameduckMax,
		"after SIGTERM, how long at most dnsmasq keeps answering while queries still come (below the pod's terminationGracePeriodSeconds)")
	fs.StringVar(&o.ClusterDomain, "clusterDomain", o.ClusterDomain,
		"cluster domain: stub server names inside it are resolved through -kubednsServer, others through the system resolver")
	fs.BoolVar(&o.PrintVersion, "version", o.PrintVersion, "print the version and exit")
	klog.InitFlags(fs)
}

// SplitArgs splits command-line arguments (without the program name) at
// the first "--": the nanny's own before it, dnsmasq's after it.
func SplitArgs(args []string) (nanny, dnsmasq []string) {
	i := slices.Index(args, "--")
	if i < 0 {
		return args, nil
	}
	return args[:i], args[i+1:]
}

// Parse splits args at the first "--", parses the part before it with fs
// (on which AddFlags was called), and keeps the rest as DnsmasqArgs. Any
// other argument that is not a flag is an error.
func (o *NannyOptions) Parse(fs *flag.FlagSet, args []string) error {
	own, dnsmasq := SplitArgs(args)
	if err := fs.Parse(own); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: dnsmasq arguments go after --", fs.Arg(0))
	}
	o.DnsmasqArgs = slices.Clone(dnsmasq)
	return nil
}

// Validate checks the options and returns every problem found, each naming
// its flag. It normalizes ClusterDomain.
func (o *NannyOptions) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("-"+flag+": "+format, args...))
	}
	if o.DnsmasqExec == "" {
		bad("dnsmasqExec", "must not be empty")
	}
	if o.SyncInterval <= 0 {
		bad("syncInterval", "must be positive, got %v", o.SyncInterval)
	}
	if o.LogInterval < 0 {
		bad("logInterval", "must not be negative, got %v", o.LogInterval)
	}
	if !filepath.IsAbs(o.ServersFileDir) {
		bad("serversFileDir", "%q is not an absolute path", o.ServersFileDir)
	}
	if err := checkHostPort(o.KubednsServer); err != nil {
		bad("kubednsServer", "%v", err)
	}
	d := strings.ToLower(strings.TrimSuffix(o.ClusterDomain, "."))
	if msgs := validation.IsDNS1123Subdomain(d); len(msgs) > 0 {
		bad("clusterDomain", "%q is not a valid domain: %s", o.ClusterDomain, strings.Join(msgs, "; "))
	} else {
		o.ClusterDomain = d
	}
	return errors.Join(errs...)
}

// LogFlags logs every flag of fs as FLAG: -name="value", and the dnsmasq
// arguments.
func (o *NannyOptions) LogFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		klog.Infof("FLAG: -%s=%q", f.Name, f.Value.String())
	})
	klog.InfoS("dnsmasq base arguments", "args", o.DnsmasqArgs)
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	if p, err := strconv.Atoi(port); err != nil || !cliflags.ValidPort(p) {
		return fmt.Errorf("%q: %q is not a port number (1-65535)", s, port)
	}
	return nil
}
