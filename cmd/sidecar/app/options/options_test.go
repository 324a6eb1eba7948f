package options

import (
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/sidecar"
)

// newFlags returns options with their flags on a fresh flag set. klog's
// flags drive the global logger, so they are put back afterwards.
func newFlags(t *testing.T) (*SidecarOptions, *pflag.FlagSet) {
	t.Helper()
	o := NewSidecarOptions()
	fs := pflag.NewFlagSet("sidecar", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	t.Cleanup(func() {
		_ = fs.Set("v", "0")
		_ = fs.Set("vmodule", "")
		_ = fs.Set("logtostderr", "true")
	})
	return o, fs
}

// parse parses args and validates the result.
func parse(t *testing.T, args ...string) (*SidecarOptions, *pflag.FlagSet, error) {
	t.Helper()
	o, fs := newFlags(t)
	if err := fs.Parse(args); err != nil {
		return o, fs, err
	}
	return o, fs, o.Validate()
}

func TestDefaults(t *testing.T) {
	want := &SidecarOptions{
		DnsmasqAddr:              "127.0.0.1",
		DnsmasqPort:              53,
		DnsmasqPollIntervalMs:    5000,
		DnsmasqMaxTCPConnections: 20,
		PrometheusAddr:           "0.0.0.0",
		PrometheusPort:           10054,
		PrometheusPath:           "/metrics",
		PrometheusNamespace:      "kubedns",
		PrintVersion:             "false",
		LogFlushFrequency:        5 * time.Second,
	}
	o, fs, err := parse(t)
	if err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("defaults =\n%+v\nwant\n%+v", o, want)
	}
	if o.DnsmasqAddress() != "127.0.0.1:53" || o.DnsmasqPollInterval() != 5*time.Second || o.HTTPAddress() != "0.0.0.0:10054" {
		t.Errorf("DnsmasqAddress %q, DnsmasqPollInterval %v, HTTPAddress %q", o.DnsmasqAddress(), o.DnsmasqPollInterval(), o.HTTPAddress())
	}
	for name, def := range map[string]string{
		"probe": "", "dnsmasq-addr": "127.0.0.1", "dnsmasq-port": "53", "dnsmasq-poll-interval-ms": "5000", "dnsmasq-max-tcp-connections": "20",
		"prometheus-addr": "0.0.0.0", "prometheus-port": "10054", "prometheus-path": "/metrics",
		"prometheus-namespace": "kubedns", "version": "false", "log-flush-frequency": "5s",
		"v": "0", "logtostderr": "true", "vmodule": "",
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
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	if !strings.Contains(b.String(), "--probe probe") {
		t.Errorf("usage lacks --probe:\n%s", b.String())
	}
}

func TestParse(t *testing.T) {
	seed := []string{"--v=2", "--logtostderr",
		"--probe=kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV",
		"--probe=dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local.,5,SRV"}
	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, o *SidecarOptions, fs *pflag.FlagSet)
	}{
		{
			name: "seed manifest",
			args: seed,
			check: func(t *testing.T, o *SidecarOptions, fs *pflag.FlagSet) {
				want := []sidecar.Probe{
					{Label: "kubedns", Server: "127.0.0.1:10053", Name: "kubernetes.default.svc.cluster.local.", Interval: 5 * time.Second, Type: dns.TypeSRV},
					{Label: "dnsmasq", Server: "127.0.0.1:53", Name: "kubernetes.default.svc.cluster.local.", Interval: 5 * time.Second, Type: dns.TypeSRV},
				}
				if !reflect.DeepEqual(o.Probes, want) {
					t.Errorf("Probes = %+v, want %+v", o.Probes, want)
				}
				if v := fs.Lookup("v").Value.String(); v != "2" || !klog.V(2).Enabled() {
					t.Errorf("--v = %q, V(2) enabled %v", v, klog.V(2).Enabled())
				}
				if v := fs.Lookup("logtostderr").Value.String(); v != "true" {
					t.Errorf("--logtostderr = %q", v)
				}
				if s := fs.Lookup("probe").Value.String(); s != "kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local.,5,SRV" {
					t.Errorf("--probe String() = %q", s)
				}
			},
		},
		{
			name: "probe defaults",
			args: []string{"--probe", "x,10.0.0.10,kubernetes.default"},
			check: func(t *testing.T, o *SidecarOptions, _ *pflag.FlagSet) {
				want := []sidecar.Probe{{Label: "x", Server: "10.0.0.10:53", Name: "kubernetes.default.", Interval: 5 * time.Second, Type: dns.TypeANY}}
				if !reflect.DeepEqual(o.Probes, want) {
					t.Errorf("Probes = %+v", o.Probes)
				}
			},
		},
		{
			name: "underscores",
			args: []string{"--dnsmasq_addr=::1", "--dnsmasq_port=5353", "--dnsmasq_poll_interval_ms=250", "--dnsmasq_max_tcp_connections=150", "--prometheus_addr=127.0.0.1",
				"--prometheus_port=9000", "--prometheus_path=/m", "--prometheus_namespace=dns", "--log_flush_frequency=1s", "--log_dir=/tmp"},
			check: func(t *testing.T, o *SidecarOptions, fs *pflag.FlagSet) {
				if o.DnsmasqAddr != "::1" || o.DnsmasqPort != 5353 || o.DnsmasqPollIntervalMs != 250 || o.DnsmasqMaxTCPConnections != 150 || o.PrometheusAddr != "127.0.0.1" ||
					o.PrometheusPort != 9000 || o.PrometheusPath != "/m" || o.PrometheusNamespace != "dns" || o.LogFlushFrequency != time.Second {
					t.Errorf("got %+v", o)
				}
				if o.DnsmasqAddress() != "[::1]:5353" || o.DnsmasqPollInterval() != 250*time.Millisecond || o.HTTPAddress() != "127.0.0.1:9000" {
					t.Errorf("DnsmasqAddress %q, DnsmasqPollInterval %v, HTTPAddress %q", o.DnsmasqAddress(), o.DnsmasqPollInterval(), o.HTTPAddress())
				}
				if v := fs.Lookup("log-dir").Value.String(); v != "/tmp" {
					t.Errorf("--log-dir = %q", v)
				}
			},
		},
		{
			name: "klog flags",
			args: []string{"--logtostderr=false", "--alsologtostderr", "--vmodule=prober=4", "-v", "3", "--stderrthreshold=ERROR", "--add_dir_header"},
			check: func(t *testing.T, _ *SidecarOptions, fs *pflag.FlagSet) {
				for name, want := range map[string]string{"logtostderr": "false", "alsologtostderr": "true", "vmodule": "prober=4", "v": "3", "stderrthreshold": "2", "add-dir-header": "true"} {
					if got := fs.Lookup(name).Value.String(); got != want {
						t.Errorf("--%s = %q, want %q", name, got, want)
					}
				}
				_ = fs.Set("add-dir-header", "false")
				_ = fs.Set("alsologtostderr", "false")
				_ = fs.Set("stderrthreshold", "INFO")
			},
		},
		{
			name: "hostnames and empty namespace",
			args: []string{"--dnsmasq-addr=localhost", "--prometheus-addr=", "--prometheus-namespace="},
			check: func(t *testing.T, o *SidecarOptions, _ *pflag.FlagSet) {
				if o.DnsmasqAddr != "localhost" || o.PrometheusAddr != "" || o.PrometheusNamespace != "" || o.HTTPAddress() != ":10054" {
					t.Errorf("got %+v", o)
				}
			},
		},
		{name: "version", args: []string{"--version"}, check: func(t *testing.T, o *SidecarOptions, _ *pflag.FlagSet) {
			if o.PrintVersion != "true" {
				t.Errorf("PrintVersion = %q", o.PrintVersion)
			}
		}},
		{name: "version raw", args: []string{"--version=raw"}, check: func(t *testing.T, o *SidecarOptions, _ *pflag.FlagSet) {
			if o.PrintVersion != "raw" {
				t.Errorf("PrintVersion = %q", o.PrintVersion)
			}
		}},
		{name: "version false", args: []string{"--version=0"}, check: func(t *testing.T, o *SidecarOptions, _ *pflag.FlagSet) {
			if o.PrintVersion != "false" {
				t.Errorf("PrintVersion = %q", o.PrintVersion)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, fs, err := parse(t, tt.args...)
			if err != nil {
				t.Fatalf("%q: %v", tt.args, err)
			}
			tt.check(t, o, fs)
		})
	}
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{name: "probe too few fields", args: []string{"--probe=kubedns,127.0.0.1:10053"}, want: "got 2 fields"},
		{name: "probe too many fields", args: []string{"--probe=a,127.0.0.1,x,5,SRV,1"}, want: "got 6 fields"},
		{name: "probe label", args: []string{"--probe=kube-dns,127.0.0.1,x"}, want: `label "kube-dns" does not match [A-Za-z0-9_]+`},
		{name: "probe bare v6", args: []string{"--probe=a,::1,x"}, want: "brackets"},
		{name: "probe port", args: []string{"--probe=a,127.0.0.1:99999,x"}, want: `port "99999"`},
		{name: "probe name", args: []string{"--probe=a,127.0.0.1,"}, want: "the name is empty"},
		{name: "probe interval", args: []string{"--probe=a,127.0.0.1,x,0"}, want: `interval "0"`},
		{name: "probe type", args: []string{"--probe=a,127.0.0.1,x,5,MX"}, want: `type "MX"`},
		{name: "probe duplicate label", args: []string{"--probe=a,127.0.0.1,x", "--probe=a,127.0.0.2,y"}, want: `label "a" is already used by --probe=a,127.0.0.1:53,x.,5,ANY`},
		{name: "dnsmasq addr", args: []string{"--dnsmasq-addr=not_a_host"}, want: "--dnsmasq-addr"},
		{name: "dnsmasq addr empty", args: []string{"--dnsmasq-addr="}, want: "--dnsmasq-addr"},
		{name: "dnsmasq port 0", args: []string{"--dnsmasq-port=0"}, want: "--dnsmasq-port"},
		{name: "dnsmasq port 65536", args: []string{"--dnsmasq-port=65536"}, want: "--dnsmasq-port"},
		{name: "poll interval 0", args: []string{"--dnsmasq-poll-interval-ms=0"}, want: "--dnsmasq-poll-interval-ms"},
		{name: "poll interval text", args: []string{"--dnsmasq-poll-interval-ms=5s"}, want: "dnsmasq-poll-interval-ms"},
		{name: "max tcp connections 0", args: []string{"--dnsmasq-max-tcp-connections=0"}, want: "--dnsmasq-max-tcp-connections: must be positive, got 0"},
		{name: "max tcp connections negative", args: []string{"--dnsmasq-max-tcp-connections=-1"}, want: "--dnsmasq-max-tcp-connections"},
		{name: "prometheus addr", args: []string{"--prometheus-addr=a b"}, want: "--prometheus-addr"},
		{name: "prometheus port 0", args: []string{"--prometheus-port=0"}, want: "--prometheus-port"},
		{name: "prometheus path relative", args: []string{"--prometheus-path=metrics"}, want: "--prometheus-path"},
		{name: "prometheus path healthz", args: []string{"--prometheus-path=/healthz"}, want: "--prometheus-path"},
		{name: "prometheus path healthcheck", args: []string{"--prometheus-path=/healthcheck/kubedns"}, want: "--prometheus-path"},
		{name: "prometheus namespace", args: []string{"--prometheus-namespace=kube-dns"}, want: "--prometheus-namespace"},
		{name: "prometheus namespace digit", args: []string{"--prometheus-namespace=1dns"}, want: "--prometheus-namespace"},
		{name: "version", args: []string{"--version=maybe"}, want: "version"},
		{name: "log flush frequency", args: []string{"--log-flush-frequency=0"}, want: "--log-flush-frequency"},
		{name: "unknown flag", args: []string{"--healthz-port=8081"}, want: "unknown flag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%q: error %v, want one containing %q", tt.args, err, tt.want)
			}
		})
	}
}

// TestValidateProbes checks probes set in code rather than by flags.
func TestValidateProbes(t *testing.T) {
	p := sidecar.Probe{Label: "a", Server: "127.0.0.1:53", Name: "x.", Interval: time.Second, Type: dns.TypeA}
	o := NewSidecarOptions()
	o.Probes = []sidecar.Probe{p, p}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), `--probe: label "a" is used by more than one probe`) {
		t.Errorf("duplicate labels: %v", err)
	}
	bad := p
	bad.Name = "x"
	o.Probes = []sidecar.Probe{bad}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "not a fully qualified domain name") {
		t.Errorf("bad name: %v", err)
	}
	o = NewSidecarOptions()
	o.DnsmasqPort, o.PrometheusPort = 0, 0
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "--dnsmasq-port") || !strings.Contains(err.Error(), "--prometheus-port") {
		t.Errorf("every problem is reported: %v", err)
	}
}
