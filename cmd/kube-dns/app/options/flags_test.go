package options

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

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
