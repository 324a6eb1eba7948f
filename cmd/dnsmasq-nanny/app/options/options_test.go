package options

import (
	"flag"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parse parses args on a fresh flag set. klog's flags drive the global
// logger, so -v is put back afterwards.
func parse(t *testing.T, args ...string) (*NannyOptions, error) {
	t.Helper()
	o := NewNannyOptions()
	fs := flag.NewFlagSet("dnsmasq-nanny", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	t.Cleanup(func() {
		_ = fs.Set("v", "0")
		_ = fs.Set("logtostderr", "true")
	})
	return o, o.Parse(fs, args)
}

func TestDefaults(t *testing.T) {
	want := &NannyOptions{
		DnsmasqExec:    "/usr/sbin/dnsmasq",
		ConfigDir:      "/etc/k8s/dns/dnsmasq-nanny",
		SyncInterval:   10 * time.Second,
		KubednsServer:  "127.0.0.1:10053",
		ServersFileDir: os.TempDir(),
		Lameduck:       5 * time.Second,
		LameduckMax:    20 * time.Second,
		ClusterDomain:  "cluster.local",
	}
	o, err := parse(t)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("defaults =\n%+v\nwant\n%+v", o, want)
	}
}

func TestSplitArgs(t *testing.T) {
	for _, tt := range []struct {
		name           string
		args           []string
		nanny, dnsmasq []string
	}{
		{name: "none"},
		{name: "no separator", args: []string{"-v=2"}, nanny: []string{"-v=2"}},
		{name: "only dnsmasq", args: []string{"--", "-k"}, nanny: []string{}, dnsmasq: []string{"-k"}},
		{name: "trailing separator", args: []string{"-v=2", "--"}, nanny: []string{"-v=2"}, dnsmasq: []string{}},
		{
			name:    "first separator wins",
			args:    []string{"-v=2", "--", "-k", "--", "x"},
			nanny:   []string{"-v=2"},
			dnsmasq: []string{"-k", "--", "x"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nanny, dnsmasq := SplitArgs(tt.args)
			if len(nanny) != len(tt.nanny) || (len(nanny) > 0 && !reflect.DeepEqual(nanny, tt.nanny)) {
				t.Errorf("nanny = %q, want %q", nanny, tt.nanny)
			}
			if len(dnsmasq) != len(tt.dnsmasq) || (len(dnsmasq) > 0 && !reflect.DeepEqual(dnsmasq, tt.dnsmasq)) {
				t.Errorf("dnsmasq = %q, want %q", dnsmasq, tt.dnsmasq)
			}
		})
	}
}

// The arguments of the kube-dns addon manifest.
var manifestArgs = []string{
	"-v=2", "-logtostderr", "-configDir=/etc/k8s/dns/dnsmasq-nanny", "-restartDnsmasq=true", "--",
	"-k", "--cache-size=1000", "--no-negcache", "--log-facility=-",
	"--server=/cluster.local/127.0.0.1#10053", "--server=/in-addr.arpa/127.0.0.1#10053", "--server=/ip6.arpa/127.0.0.1#10053",
}

func TestParseManifest(t *testing.T) {
	o, err := parse(t, manifestArgs...)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if !o.RestartDnsmasq || o.ConfigDir != "/etc/k8s/dns/dnsmasq-nanny" {
		t.Errorf("got %+v", o)
	}
	if want := manifestArgs[5:]; !reflect.DeepEqual(o.DnsmasqArgs, want) {
		t.Errorf("DnsmasqArgs = %q, want %q", o.DnsmasqArgs, want)
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		check   func(*NannyOptions) bool
		wantErr string
	}{
		{name: "one dash", args: []string{"-restartDnsmasq=true"}, check: func(o *NannyOptions) bool { return o.RestartDnsmasq }},
		{name: "two dashes", args: []string{"--restartDnsmasq=true"}, check: func(o *NannyOptions) bool { return o.RestartDnsmasq }},
		{name: "bare bool", args: []string{"-restartDnsmasq"}, check: func(o *NannyOptions) bool { return o.RestartDnsmasq }},
		{name: "separate value", args: []string{"--configDir", "/cfg"}, check: func(o *NannyOptions) bool { return o.ConfigDir == "/cfg" }},
		{name: "exec", args: []string{"-dnsmasqExec=/bin/dnsmasq"}, check: func(o *NannyOptions) bool { return o.DnsmasqExec == "/bin/dnsmasq" }},
		{name: "sync interval", args: []string{"-syncInterval=200ms"}, check: func(o *NannyOptions) bool { return o.SyncInterval == 200*time.Millisecond }},
		{name: "log interval", args: []string{"--logInterval=1m"}, check: func(o *NannyOptions) bool { return o.LogInterval == time.Minute }},
		{name: "kubedns", args: []string{"-kubednsServer=10.0.0.10:53"}, check: func(o *NannyOptions) bool { return o.KubednsServer == "10.0.0.10:53" }},
		{name: "servers file dir", args: []string{"-serversFileDir=/run/nanny"}, check: func(o *NannyOptions) bool { return o.ServersFileDir == "/run/nanny" }},
		{name: "cluster domain", args: []string{"-clusterDomain=Example.COM."}, check: func(o *NannyOptions) bool { return o.ClusterDomain == "example.com" }},
		{name: "version", args: []string{"--version"}, check: func(o *NannyOptions) bool { return o.PrintVersion }},
		{name: "klog one dash", args: []string{"-v=3", "-logtostderr=false"}, check: func(o *NannyOptions) bool { return true }},
		{name: "klog two dashes", args: []string{"--v=3", "--logtostderr"}, check: func(o *NannyOptions) bool { return true }},
		{name: "dnsmasq args untouched", args: []string{"--", "--port=53", "-v"}, check: func(o *NannyOptions) bool {
			return reflect.DeepEqual(o.DnsmasqArgs, []string{"--port=53", "-v"}) && o.DnsmasqExec == "/usr/sbin/dnsmasq"
		}},
		{name: "unknown flag", args: []string{"-cache-size=1000"}, wantErr: "not defined"},
		{name: "bad duration", args: []string{"-syncInterval=10"}, wantErr: "syncInterval"},
		{name: "bad bool", args: []string{"-restartDnsmasq=yes"}, wantErr: "restartDnsmasq"},
		{name: "stray argument", args: []string{"-v=2", "-k"}, wantErr: "not defined"},
		{name: "positional before --", args: []string{"dnsmasq", "--", "-k"}, wantErr: `unexpected argument "dnsmasq"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parse(t, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.args, err)
			}
			if err := o.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if !tt.check(o) {
				t.Errorf("Parse(%q) = %+v", tt.args, o)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*NannyOptions)
		want   []string // each a substring of the error; none: valid
	}{
		{name: "defaults", modify: func(*NannyOptions) {}},
		{name: "empty config dir is allowed", modify: func(o *NannyOptions) { o.ConfigDir = "" }},
		{name: "IPv6 kubedns", modify: func(o *NannyOptions) { o.KubednsServer = "[fd00::10]:10053" }},
		{name: "named kubedns", modify: func(o *NannyOptions) { o.KubednsServer = "localhost:10053" }},
		{name: "empty exec", modify: func(o *NannyOptions) { o.DnsmasqExec = "" }, want: []string{"-dnsmasqExec"}},
		{name: "zero sync interval", modify: func(o *NannyOptions) { o.SyncInterval = 0 }, want: []string{"-syncInterval"}},
		{name: "negative log interval", modify: func(o *NannyOptions) { o.LogInterval = -time.Second }, want: []string{"-logInterval"}},
		{name: "kubedns without port", modify: func(o *NannyOptions) { o.KubednsServer = "127.0.0.1" }, want: []string{"-kubednsServer"}},
		{name: "kubedns bad port", modify: func(o *NannyOptions) { o.KubednsServer = "127.0.0.1:0" }, want: []string{"-kubednsServer"}},
		{name: "kubedns no host", modify: func(o *NannyOptions) { o.KubednsServer = ":53" }, want: []string{"-kubednsServer"}},
		{name: "relative servers file dir", modify: func(o *NannyOptions) { o.ServersFileDir = "tmp" }, want: []string{"-serversFileDir", "absolute"}},
		{name: "empty servers file dir", modify: func(o *NannyOptions) { o.ServersFileDir = "" }, want: []string{"-serversFileDir"}},
		{name: "bad domain", modify: func(o *NannyOptions) { o.ClusterDomain = "cluster_local" }, want: []string{"-clusterDomain"}},
		{name: "empty domain", modify: func(o *NannyOptions) { o.ClusterDomain = "" }, want: []string{"-clusterDomain"}},
		{
			name:   "every problem reported",
			modify: func(o *NannyOptions) { o.DnsmasqExec = ""; o.SyncInterval = -1 },
			want:   []string{"-dnsmasqExec", "-syncInterval"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := NewNannyOptions()
			tt.modify(o)
			err := o.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors about %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
		})
	}
}
