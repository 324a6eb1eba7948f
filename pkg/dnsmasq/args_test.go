package dnsmasq

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestParseDnsmasqArgs(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want dnsmasqArgs
	}{
		{name: "the manifest's", args: []string{"-k", "--cache-size=1000", "--no-negcache", "--log-facility=-", "--server=/cluster.local/127.0.0.1#10053"}},
		{name: "--no-resolv", args: []string{"--no-resolv"}, want: dnsmasqArgs{noResolv: true}},
		{name: "-R", args: []string{"-R"}, want: dnsmasqArgs{noResolv: true}},
		{name: "-R in a bundle", args: []string{"-kR"}, want: dnsmasqArgs{noResolv: true}},
		{name: "a prefix of --no-resolv", args: []string{"--no-res"}, want: dnsmasqArgs{noResolv: true}},
		{name: "resolv files", args: []string{"--resolv-file=/a", "-r", "/b", "-r/c", "--resolv=/d"}, want: dnsmasqArgs{resolvFiles: []string{"/a", "/b", "/c", "/d"}}},
		{name: "a resolv file after a bundle", args: []string{"-kr", "/b"}, want: dnsmasqArgs{resolvFiles: []string{"/b"}}},
		{name: "an empty first --resolv-file is none", args: []string{"--resolv-file"}, want: dnsmasqArgs{noResolv: true}},
		{name: "an empty later --resolv-file is nothing", args: []string{"--resolv-file=/a", "--resolv-file="}, want: dnsmasqArgs{resolvFiles: []string{"/a"}}},
		{name: "a value is not an option", args: []string{"--server", "-R", "-S", "-R", "-p", "-R"}},
		{name: "--conf-file=/dev/null", args: []string{"--conf-file=/dev/null"}, want: dnsmasqArgs{noDefault: true}},
		{name: "--conf-file alone", args: []string{"--conf-file"}, want: dnsmasqArgs{noDefault: true}},
		{name: "conf files", args: []string{"-C", "/a.conf", "--conf-file=/b.conf", "--conf-dir", "/d", "-7/e", "--conf-script=/s"},
			want: dnsmasqArgs{noDefault: true, confFiles: []string{"/a.conf", "/b.conf", "/d", "/e", "/s"}}},
		{name: "servers file", args: []string{"--servers-file", "/s"}, want: dnsmasqArgs{serversFile: "/s"}},
		{name: "servers file by a prefix", args: []string{"--servers=/s"}, want: dnsmasqArgs{serversFile: "/s"}},
		{name: "--server is not --servers-file", args: []string{"--server=/s"}},
		{name: "user", args: []string{"-u", "root"}, want: dnsmasqArgs{user: "root"}},
		{name: "user, long", args: []string{"--user=dnsmasq"}, want: dnsmasqArgs{user: "dnsmasq"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseDnsmasqArgs(tt.args); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseDnsmasqArgs(%q) =\n%+v, want\n%+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestReadsConfFiles(t *testing.T) {
	dir := t.TempDir()
	exists, missing := filepath.Join(dir, "dnsmasq.conf"), filepath.Join(dir, "none.conf")
	if err := os.WriteFile(exists, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args    []string
		defConf string
		want    bool
	}{
		{defConf: missing},
		{defConf: exists, want: true},
		{args: []string{"--conf-file=/dev/null"}, defConf: exists},
		{args: []string{"-C", exists}, defConf: missing, want: true},
		{args: []string{"--conf-dir=/etc/dnsmasq.d"}, defConf: missing, want: true},
	} {
		if got := parseDnsmasqArgs(tt.args).readsConfFiles(tt.defConf); got != tt.want {
			t.Errorf("%q with default %s: readsConfFiles = %v, want %v", tt.args, tt.defConf, got, tt.want)
		}
	}
}

func TestParseResolvConf(t *testing.T) {
	got := parseResolvConf([]byte(`# comment
search default.svc.cluster.local
nameserver 10.0.0.10
  nameserver   10.0.0.11 # trailing
server 10.0.0.12
;nameserver 10.0.0.13
#nameserver 10.0.0.14
nameserver not-an-ip
nameserver 10.0.0.10
nameserver fe80::1%eth0
nameserver
options ndots:5
`))
	want := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.10:53"), netip.MustParseAddrPort("10.0.0.11:53"), netip.MustParseAddrPort("10.0.0.12:53"),
		netip.AddrPortFrom(netip.MustParseAddr("fe80::1%eth0"), 53),
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := serverAddr(want[3]); got != "fe80::1%eth0#53" {
		t.Errorf("serverAddr = %q", got)
	}
}

func TestReadResolvFilesLatest(t *testing.T) {
	dir := t.TempDir()
	older, newer := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for f, ns := range map[string]string{older: "192.0.2.1", newer: "192.0.2.2"} {
		if err := os.WriteFile(f, []byte("nameserver "+ns+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(older, past, past); err != nil {
		t.Fatal(err)
	}
	got, err := readResolvFiles([]string{newer, filepath.Join(dir, "missing"), older})
	if err != nil || len(got) != 1 || got[0].String() != "192.0.2.2:53" {
		t.Errorf("got %v, %v; want the file modified last", got, err)
	}
	if _, err := readResolvFiles([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("no error without a resolv file")
	}
}
