package options

import (
	"bytes"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// newFlags returns a configuration with its flags on a fresh flag set.
// klog's flags drive the global logger, so --v is put back afterwards.
func newFlags(t *testing.T) (*KubeDNSConfig, *pflag.FlagSet) {
	t.Helper()
	c := NewKubeDNSConfig()
	fs := pflag.NewFlagSet("kube-dns", pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // usage and the --federations deprecation notice
	c.AddFlags(fs)
	t.Cleanup(func() {
		_ = fs.Set("v", "0")
		_ = fs.Set("vmodule", "")
		_ = fs.Set("logtostderr", "true")
	})
	return c, fs
}

// parse parses args and validates the result.
func parse(t *testing.T, args ...string) (*KubeDNSConfig, *pflag.FlagSet, error) {
	t.Helper()
	c, fs := newFlags(t)
	if err := fs.Parse(args); err != nil {
		return c, fs, err
	}
	return c, fs, c.Validate()
}

func TestDefaults(t *testing.T) {
	want := &KubeDNSConfig{
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
		MetricsPath:        "/metrics",
		MetricsNamespace:   "skydns",
		MetricsSubsystem:   "skydns",

		DNSTCPMaxConnections: 4096,
	}
	if got := NewKubeDNSConfig(); !reflect.DeepEqual(got, want) {
		t.Errorf("NewKubeDNSConfig() =\n%+v\nwant\n%+v", got, want)
	}

	c, fs, err := parse(t)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("after Parse and Validate =\n%+v\nwant\n%+v", c, want)
	}

	// The defaults as the flags show them (--help, LogFlags).
	for name, def := range map[string]string{
		"domain":               "cluster.local.",
		"dns-bind-address":     "0.0.0.0",
		"dns-port":             "53",
		"dns-udp-sockets":      "1",
		"healthz-port":         "8081",
		"kubecfg-file":         "",
		"kube-master-url":      "",
		"nameservers":          "",
		"federations":          "",
		"config-map-namespace": "kube-system",
		"config-map":           "",
		"config-dir":           "",
		"config-period":        "10s",
		"initial-sync-timeout": "1m0s",
		"profiling":            "false",
		"version":              "false",
		"ttl":                  "30",
		"negative-ttl":         "-1",
		"endpoints-source":     "endpointslices",
		"pod-records":          "insecure",
		"dns-service":          "kube-system/kube-dns",
		"lameduck":             "5s",
		"shutdown-timeout":     "5s",
		"log-flush-frequency":  "5s",
		"logtostderr":          "true",
	} {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("--%s is not registered", name)
			continue
		}
		if f.DefValue != def {
			t.Errorf("--%s default = %q, want %q", name, f.DefValue, def)
		}
	}
	if fs.Lookup("version").NoOptDefVal != "true" {
		t.Errorf("--version NoOptDefVal = %q, want true", fs.Lookup("version").NoOptDefVal)
	}
	if fs.Lookup("federations").Deprecated == "" {
		t.Error("--federations is not marked deprecated")
	}
}

func TestParse(t *testing.T) {
	t.Setenv("KUBEDNS_TEST_MASTER", "10.0.0.1")
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet)
	}{
		{
			name: "seed manifest",
			args: []string{"--domain=cluster.local.", "--dns-port=10053", "--config-dir=/kube-dns-config", "--v=2"},
			check: func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet) {
				if c.ClusterDomain != "cluster.local." || c.DNSPort != 10053 || c.ConfigDir != "/kube-dns-config" {
					t.Errorf("got domain %q port %d config-dir %q", c.ClusterDomain, c.DNSPort, c.ConfigDir)
				}
				if v := fs.Lookup("v").Value.String(); v != "2" {
					t.Errorf("--v = %q, want 2", v)
				}
				if !klog.V(2).Enabled() {
					t.Error("klog.V(2) is not enabled after --v=2")
				}
			},
		},
		{
			name: "domain without dot",
			args: []string{"--domain=cluster.local"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.ClusterDomain != "cluster.local." {
					t.Errorf("ClusterDomain = %q, want cluster.local.", c.ClusterDomain)
				}
			},
		},
		{
			name: "domain upper case",
			args: []string{"--domain", "My.Cluster.Example"},
			check: func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet) {
				if c.ClusterDomain != "my.cluster.example." {
					t.Errorf("ClusterDomain = %q, want my.cluster.example.", c.ClusterDomain)
				}
				if s := fs.Lookup("domain").Value.String(); s != "my.cluster.example." {
					t.Errorf("--domain String() = %q", s)
				}
			},
		},
		{
			name: "underscores",
			args: []string{"--dns_port=10053", "--healthz_port=8082", "--dns_bind_address=::1", "--config_map=kube-dns", "--config_map_namespace=dns", "--log_flush_frequency=1s", "--log_dir=/tmp"},
			check: func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet) {
				if c.DNSPort != 10053 || c.HealthzPort != 8082 || c.DNSBindAddress != "::1" ||
					c.ConfigMap != "kube-dns" || c.ConfigMapNs != "dns" || c.LogFlushFrequency != time.Second {
					t.Errorf("got %+v", c)
				}
				if v := fs.Lookup("log-dir").Value.String(); v != "/tmp" {
					t.Errorf("--log-dir = %q, want /tmp", v)
				}
			},
		},
		{
			name: "klog flags",
			args: []string{"--logtostderr", "--alsologtostderr=false", "--vmodule=server=4", "-v", "3", "--stderrthreshold=ERROR"},
			check: func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet) {
				for name, want := range map[string]string{"logtostderr": "true", "vmodule": "server=4", "v": "3", "stderrthreshold": "2"} {
					if got := fs.Lookup(name).Value.String(); got != want {
						t.Errorf("--%s = %q, want %q", name, got, want)
					}
				}
			},
		},
		{
			name: "version",
			args: []string{"--version"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.PrintVersion != "true" {
					t.Errorf("PrintVersion = %q, want true", c.PrintVersion)
				}
			},
		},
		{
			name: "version raw",
			args: []string{"--version=raw"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.PrintVersion != "raw" {
					t.Errorf("PrintVersion = %q, want raw", c.PrintVersion)
				}
			},
		},
		{
			name: "version false",
			args: []string{"--version=0"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.PrintVersion != "false" {
					t.Errorf("PrintVersion = %q, want false", c.PrintVersion)
				}
			},
		},
		{
			name: "nameservers",
			args: []string{"--nameservers= 8.8.8.8:53,8.8.4.4, [2001:db8::1]:5353,2001:db8::2,::ffff:1.2.3.4"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				want := []string{"8.8.8.8:53", "8.8.4.4:53", "[2001:db8::1]:5353", "[2001:db8::2]:53", "1.2.3.4:53"}
				if !reflect.DeepEqual(c.Nameservers, want) {
					t.Errorf("Nameservers = %q, want %q", c.Nameservers, want)
				}
			},
		},
		{
			name: "federations",
			args: []string{"--federations=myfed=example.com, other = example2.com", "--federations=third=example.com"},
			check: func(t *testing.T, c *KubeDNSConfig, fs *pflag.FlagSet) {
				want := map[string]string{"myfed": "example.com", "other": "example2.com", "third": "example.com"}
				if !reflect.DeepEqual(c.Federations, want) {
					t.Errorf("Federations = %v, want %v", c.Federations, want)
				}
				if s := fs.Lookup("federations").Value.String(); s != "myfed=example.com,other=example2.com,third=example.com" {
					t.Errorf("--federations String() = %q", s)
				}
			},
		},
		{
			name: "kube master url expanded",
			args: []string{"--kube-master-url=https://${KUBEDNS_TEST_MASTER}:6443", "--kubecfg-file=/etc/kubeconfig"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.KubeMasterURL != "https://10.0.0.1:6443" || c.KubeConfigFile != "/etc/kubeconfig" {
					t.Errorf("KubeMasterURL = %q, KubeConfigFile = %q", c.KubeMasterURL, c.KubeConfigFile)
				}
			},
		},
		{
			name: "new flags",
			args: []string{"--ttl=0", "--endpoints-source=endpoints", "--pod-records=verified", "--dns-service=dns/coredns",
				"--lameduck=0s", "--shutdown-timeout=30s", "--profiling", "--config-period=1m", "--initial-sync-timeout=5s",
				"--wildcards=false"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.TTL != 0 || c.EndpointsSource != "endpoints" || c.PodRecords != "verified" || c.DNSService != "dns/coredns" ||
					c.Lameduck != 0 || c.ShutdownTimeout != 30*time.Second || !c.Profiling ||
					c.ConfigPeriod != time.Minute || c.InitialSyncTimeout != 5*time.Second || c.Wildcards {
					t.Errorf("got %+v", c)
				}
				if ns, name := c.SplitDNSService(); ns != "dns" || name != "coredns" {
					t.Errorf("SplitDNSService() = %q, %q", ns, name)
				}
			},
		},
		{
			name: "multicluster domain",
			args: []string{"--multicluster-domain=ClusterSet.local"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.MulticlusterDomain != "clusterset.local." {
					t.Errorf("MulticlusterDomain = %q, want clusterset.local.", c.MulticlusterDomain)
				}
			},
		},
		{
			name: "multicluster off",
			args: []string{"--multicluster-domain="},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.MulticlusterDomain != "" {
					t.Errorf("MulticlusterDomain = %q, want empty", c.MulticlusterDomain)
				}
			},
		},
		{
			name: "limits",
			args: []string{"--ttl=3600", "--dns-port=65535", "--healthz-port=1", "--pod-records=disabled", "--dns-tcp-max-connections=0"},
			check: func(t *testing.T, c *KubeDNSConfig, _ *pflag.FlagSet) {
				if c.TTL != 3600 || c.DNSPort != 65535 || c.HealthzPort != 1 || c.PodRecords != "disabled" || c.DNSTCPMaxConnections != 0 {
					t.Errorf("got %+v", c)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fs, err := parse(t, tt.args...)
			if err != nil {
				t.Fatalf("%q: %v", tt.args, err)
			}
			tt.check(t, c, fs)
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		args []string
		flag string // the flag the error must name
	}{
		{"domain label", []string{"--domain=Bad_Domain"}, "--domain"},
		{"domain empty label", []string{"--domain=cluster..local"}, "--domain"},
		{"domain empty", []string{"--domain="}, "--domain"},
		{"domain root", []string{"--domain=."}, "--domain"},
		{"domain label too long", []string{"--domain=" + strings.Repeat("a", 64) + ".local"}, "--domain"},
		{"domain too long", []string{"--domain=" + strings.Repeat(strings.Repeat("a", 60)+".", 5) + "local"}, "--domain"},
		{"multicluster label", []string{"--multicluster-domain=bad_zone.local"}, "--multicluster-domain"},
		{"multicluster is the cluster domain", []string{"--multicluster-domain=cluster.local"}, "--multicluster-domain"},
		{"multicluster below the cluster domain", []string{"--multicluster-domain=set.cluster.local"}, "--multicluster-domain"},
		{"multicluster above the cluster domain", []string{"--domain=a.clusterset.local", "--multicluster-domain=clusterset.local"}, "--multicluster-domain"},
		{"multicluster reverse zone", []string{"--multicluster-domain=in-addr.arpa"}, "--multicluster-domain"},
		{"dns tcp max connections negative", []string{"--dns-tcp-max-connections=-1"}, "--dns-tcp-max-connections"},
		{"dns port 0", []string{"--dns-port=0"}, "--dns-port"},
		{"dns port 70000", []string{"--dns-port=70000"}, "--dns-port"},
		{"dns port text", []string{"--dns-port=dns"}, "--dns-port"},
		{"healthz port 0", []string{"--healthz-port=0"}, "--healthz-port"},
		{"healthz port 70000", []string{"--healthz-port=70000"}, "--healthz-port"},
		{"healthz port is dns port", []string{"--healthz-port=53"}, "--healthz-port"},
		{"bind address", []string{"--dns-bind-address=localhost"}, "--dns-bind-address"},
		{"bind address empty", []string{"--dns-bind-address="}, "--dns-bind-address"},
		{"master url no scheme", []string{"--kube-master-url=localhost:8080"}, "--kube-master-url"},
		{"master url no host", []string{"--kube-master-url=http://"}, "--kube-master-url"},
		{"master url colon host", []string{"--kube-master-url=http://:"}, "--kube-master-url"},
		{"master url unparsable", []string{"--kube-master-url=http://%zz"}, "--kube-master-url"},
		{"master url unset env", []string{"--kube-master-url=$KUBEDNS_TEST_UNSET_VARIABLE"}, "--kube-master-url"},
		{"nameserver hostname", []string{"--nameservers=dns.google"}, "--nameservers"},
		{"nameserver hostname port", []string{"--nameservers=dns.google:53"}, "--nameservers"},
		{"nameserver port 0", []string{"--nameservers=8.8.8.8:0"}, "--nameservers"},
		{"nameserver port text", []string{"--nameservers=8.8.8.8:dns"}, "--nameservers"},
		{"nameserver empty entry", []string{"--nameservers=8.8.8.8,"}, "--nameservers"},
		{"nameserver bare v6 port", []string{"--nameservers=2001:db8::1:53:"}, "--nameservers"},
		{"federations garbage", []string{"--federations=garbage"}, "--federations"},
		{"federations bad name", []string{"--federations=Bad_Name=example.com"}, "--federations"},
		{"federations bad domain", []string{"--federations=fed=not_a_domain"}, "--federations"},
		{"federations empty domain", []string{"--federations=fed="}, "--federations"},
		{"config-map and config-dir", []string{"--config-map=kube-dns", "--config-dir=/kube-dns-config"}, "--config-map"},
		{"config-map name", []string{"--config-map=Kube_DNS"}, "--config-map"},
		{"config-map namespace", []string{"--config-map=kube-dns", "--config-map-namespace=Kube_System"}, "--config-map-namespace"},
		{"config period 0", []string{"--config-period=0"}, "--config-period"},
		{"initial sync timeout 0", []string{"--initial-sync-timeout=0"}, "--initial-sync-timeout"},
		{"initial sync timeout text", []string{"--initial-sync-timeout=soon"}, "--initial-sync-timeout"},
		{"ttl above 3600", []string{"--ttl=3601"}, "--ttl"},
		{"negative ttl above 3600", []string{"--negative-ttl=3601"}, "--negative-ttl"},
		{"negative ttl below -1", []string{"--negative-ttl=-2"}, "--negative-ttl"},
		{"ttl negative", []string{"--ttl=-1"}, "--ttl"},
		{"endpoints source", []string{"--endpoints-source=pods"}, "--endpoints-source"},
		{"pod records", []string{"--pod-records=yes"}, "--pod-records"},
		{"dns service no slash", []string{"--dns-service=kube-dns"}, "--dns-service"},
		{"dns service no name", []string{"--dns-service=kube-system/"}, "--dns-service"},
		{"dns service bad namespace", []string{"--dns-service=Kube_System/kube-dns"}, "--dns-service"},
		{"dns service extra part", []string{"--dns-service=a/b/c"}, "--dns-service"},
		{"lameduck negative", []string{"--lameduck=-1s"}, "--lameduck"},
		{"shutdown timeout 0", []string{"--shutdown-timeout=0s"}, "--shutdown-timeout"},
		{"version value", []string{"--version=maybe"}, "--version"},
		{"log flush frequency 0", []string{"--log-flush-frequency=0"}, "--log-flush-frequency"},
		{"unknown flag", []string{"--cluster-domain=cluster.local"}, "--cluster-domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse(t, tt.args...)
			if err == nil {
				t.Fatalf("%q: accepted", tt.args)
			}
			if !strings.Contains(err.Error(), tt.flag) {
				t.Errorf("%q: error %q does not name %s", tt.args, err, tt.flag)
			}
		})
	}
}

func TestValidateFields(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *KubeDNSConfig)
		flag   string
	}{
		{"domain", func(c *KubeDNSConfig) { c.ClusterDomain = "bad_domain" }, "--domain"},
		{"master url", func(c *KubeDNSConfig) { c.KubeMasterURL = "no-scheme" }, "--kube-master-url"},
		{"federation", func(c *KubeDNSConfig) { c.Federations = map[string]string{"fed": "-bad-"} }, "--federations"},
		{"version", func(c *KubeDNSConfig) { c.PrintVersion = "" }, "--version"},
		{"metrics port", func(c *KubeDNSConfig) { c.MetricsPort = 70000 }, "PROMETHEUS_PORT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewKubeDNSConfig()
			tt.mutate(c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.flag) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.flag)
			}
		})
	}

	t.Run("zero value", func(t *testing.T) {
		// Flags on a configuration not made by NewKubeDNSConfig.
		var c KubeDNSConfig
		fs := pflag.NewFlagSet("kube-dns", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		c.AddFlags(fs)
		if err := fs.Parse([]string{"--federations=fed=example.com", "--kube-master-url=http://a", "--kube-master-url="}); err != nil {
			t.Fatal(err)
		}
		if c.Federations["fed"] != "example.com" || c.KubeMasterURL != "" {
			t.Errorf("Federations = %v, KubeMasterURL = %q", c.Federations, c.KubeMasterURL)
		}
	})

	t.Run("normalizes", func(t *testing.T) {
		c := NewKubeDNSConfig()
		c.ClusterDomain = "Example.COM"
		c.NameserversFlag = "1.1.1.1"
		c.Nameservers = []string{"stale:53"}
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if c.ClusterDomain != "example.com." || !reflect.DeepEqual(c.Nameservers, []string{"1.1.1.1:53"}) {
			t.Errorf("ClusterDomain = %q, Nameservers = %q", c.ClusterDomain, c.Nameservers)
		}
		c.NameserversFlag = ""
		if err := c.Validate(); err != nil || c.Nameservers != nil {
			t.Errorf("Validate() = %v, Nameservers = %q; want none", err, c.Nameservers)
		}
	})
}

func TestValidateJoinsAllErrors(t *testing.T) {
	_, _, err := parse(t, "--dns-port=0", "--dns-bind-address=x", "--ttl=4000", "--pod-records=no",
		"--config-map=a", "--config-dir=/b", "--nameservers=x")
	if err == nil {
		t.Fatal("accepted")
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 6 {
		t.Errorf("want 6 joined errors, got %v", err)
	}
	for _, flag := range []string{"--dns-port", "--dns-bind-address", "--ttl", "--pod-records", "--config-map", "--nameservers"} {
		if !strings.Contains(err.Error(), flag) {
			t.Errorf("error does not name %s:\n%v", flag, err)
		}
	}
}

func TestAddFlagsRepeatedly(t *testing.T) {
	for i := 0; i < 3; i++ {
		c, fs := newFlags(t)
		if err := fs.Parse([]string{"--v=1", "--dns-port=5353"}); err != nil {
			t.Fatal(err)
		}
		if c.DNSPort != 5353 {
			t.Errorf("DNSPort = %d", c.DNSPort)
		}
	}
	// Registering twice on one flag set is a programming error pflag reports.
	defer func() {
		if recover() == nil {
			t.Error("AddFlags twice on one flag set did not panic")
		}
	}()
	c, fs := newFlags(t)
	c.AddFlags(fs)
}

func TestLoadEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		port    int
		path    string
		ns, sub string
		wantErr string
	}{
		{name: "unset", port: 0, path: "/metrics", ns: "skydns", sub: "skydns"},
		{name: "port", env: map[string]string{"PROMETHEUS_PORT": "10055"}, port: 10055, path: "/metrics", ns: "skydns", sub: "skydns"},
		{name: "port zero", env: map[string]string{"PROMETHEUS_PORT": "0"}, port: 0, path: "/metrics", ns: "skydns", sub: "skydns"},
		{
			name: "all",
			env: map[string]string{"PROMETHEUS_PORT": " 9153 ", "PROMETHEUS_PATH": "/m", "PROMETHEUS_NAMESPACE": "kubedns",
				"PROMETHEUS_SUBSYSTEM": "dns"},
			port: 9153, path: "/m", ns: "kubedns", sub: "dns",
		},
		{name: "port text", env: map[string]string{"PROMETHEUS_PORT": "metrics"}, wantErr: "PROMETHEUS_PORT"},
		{name: "port negative", env: map[string]string{"PROMETHEUS_PORT": "-1"}, wantErr: "PROMETHEUS_PORT"},
		{name: "port too big", env: map[string]string{"PROMETHEUS_PORT": "65536"}, wantErr: "PROMETHEUS_PORT"},
		{name: "relative path", env: map[string]string{"PROMETHEUS_PATH": "metrics"}, wantErr: "PROMETHEUS_PATH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewKubeDNSConfig()
			err := c.LoadEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadEnv() = %v, want an error naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.MetricsPort != tt.port || c.MetricsPath != tt.path || c.MetricsNamespace != tt.ns || c.MetricsSubsystem != tt.sub {
				t.Errorf("got port %d path %q namespace %q subsystem %q", c.MetricsPort, c.MetricsPath, c.MetricsNamespace, c.MetricsSubsystem)
			}
		})
	}

	t.Run("os.Getenv", func(t *testing.T) {
		t.Setenv("PROMETHEUS_PORT", "10055")
		c := NewKubeDNSConfig()
		if err := c.LoadEnv(nil); err != nil || c.MetricsPort != 10055 {
			t.Errorf("LoadEnv(nil) = %v, MetricsPort = %d", err, c.MetricsPort)
		}
	})
}

func TestLogFlags(t *testing.T) {
	c, fs, err := parse(t, "--dns-port=10053", "--kube-master-url=https://admin:secret@10.0.0.1:6443")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	klog.LogToStderr(false)
	klog.SetOutput(&buf)
	t.Cleanup(func() {
		klog.SetOutput(os.Stderr)
		klog.LogToStderr(true)
	})
	c.LogFlags(fs)
	klog.Flush()
	out := buf.String()
	for _, want := range []string{`FLAG: --dns-port="10053"`, `FLAG: --domain="cluster.local."`, `FLAG: --v="0"`, `FLAG: --kube-master-url="https://admin:xxxxx@10.0.0.1:6443"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret") {
		t.Errorf("output shows the password:\n%s", out)
	}
}
