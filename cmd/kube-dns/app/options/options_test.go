package options

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
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
