package options

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

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
