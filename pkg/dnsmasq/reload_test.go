package dnsmasq

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
)

// resolvFile writes a resolv.conf with content and returns its path.
func resolvFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// replaceResolv puts content at path whole, by renaming a file written
// beside it, as resolvconf does: rewritten in place, the file could be read
// between its truncation and its write (no nameserver, a reload of its own).
func replaceResolv(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// waitHups waits until the stub has logged n SIGHUPs and returns them.
func waitHups(t *testing.T, events string, n int) []event {
	t.Helper()
	var hups []event
	waitFor(t, 5*time.Second, "SIGHUP", func() bool {
		hups = ofKind(readEvents(t, events), "hup")
		return len(hups) >= n
	})
	return hups
}

// TestConfigChangeReloads: every change of stub domains or upstreams is
// written to the servers file and applied with SIGHUP; dnsmasq is started
// once and never stopped. Without upstreams the servers are those of the
// resolv file, which the nanny reads itself.
func TestConfigChangeReloads(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubForever)
	resolv := resolvFile(t, "search example\nnameserver 192.0.2.53\n")
	r := start(t, Options{Exec: exe, Args: []string{"--resolv-file=" + resolv}, RestartOnChange: true}, config.Default())
	pid := waitReady(t, r, events, 1)
	if got := last(readEvents(t, events), "servers").args; got != "server=192.0.2.53#53" {
		t.Errorf("servers at the start: %q, want the resolv file's", got)
	}

	steps := []struct {
		name string
		data map[string]string
		want string // the servers file's lines
	}{
		{
			name: "stub domain added",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4"]}`},
			want: "server=/acme.local/1.2.3.4#53 server=192.0.2.53#53",
		},
		{
			name: "upstreams replace the resolv file",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4"]}`, "upstreamNameservers": `["8.8.8.8", "8.8.4.4:5353"]`},
			want: "server=/acme.local/1.2.3.4#53 server=8.8.8.8#53 server=8.8.4.4#5353",
		},
		{
			name: "stub server changed",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.5"]}`, "upstreamNameservers": `["8.8.8.8", "8.8.4.4:5353"]`},
			want: "server=/acme.local/1.2.3.5#53 server=8.8.8.8#53 server=8.8.4.4#5353",
		},
		{
			name: "upstreams removed: the resolv file again",
			data: map[string]string{"stubDomains": `{"acme.local": ["1.2.3.5"]}`},
			want: "server=/acme.local/1.2.3.5#53 server=192.0.2.53#53",
		},
	}
	for i, s := range steps {
		r.send(t, mustParse(t, s.data))
		if got := waitHups(t, events, i+1)[i]; got.pid != pid || got.args != s.want {
			t.Errorf("%s: SIGHUP to %d with servers %q; want %d with %q", s.name, got.pid, got.args, pid, s.want)
		}
	}
	e := readEvents(t, events)
	if n := count(e, "start"); n != 1 || count(e, "exit") != 0 || r.PID() != pid {
		t.Errorf("%d starts, %d exits, PID() = %d (was %d): dnsmasq must not restart", n, count(e, "exit"), r.PID(), pid)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
}

func stubConfig(t *testing.T, stubs string) *config.Config {
	return mustParse(t, map[string]string{"stubDomains": stubs})
}

// TestServersFileFallback: where no servers file can be written, the
// servers are --server arguments and every change restarts dnsmasq, as the
// original nanny did; one log line says so.
func TestServersFileFallback(t *testing.T) {
	before := runtime.NumGoroutine()
	exe, events := stub(t, stubForever)
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	r := startLogged(t, Options{Exec: exe, RestartOnChange: true, ServersDir: notADir}, config.Default(), logs)
	first := waitReady(t, r, events, 1)
	if n := strings.Count(logs.String(), "Cannot write dnsmasq's servers file: the configuration goes into --server arguments, and every change restarts dnsmasq"); n != 1 {
		t.Errorf("the fallback logged %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), notADir) {
		t.Errorf("the log does not name %s:\n%s", notADir, logs)
	}

	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	waitReady(t, r, events, 2)
	e := readEvents(t, events)
	if len(e) != 5 || e[2].kind != "exit" || e[2].pid != first || e[3].kind != "start" {
		t.Fatalf("events = %+v, want start, ready, exit of the old one, start, ready", e)
	}
	if e[3].args != "--keep-in-foreground --server=/acme.local/1.2.3.4#53" {
		t.Errorf("new args = %q", e[3].args)
	}

	// The same arguments from a new version: no restart. A later change
	// shows the same version was processed first.
	same := stubConfig(t, `{"acme.local":["1.2.3.4:53"]}`)
	same.Version = "v2"
	r.send(t, same)
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.5"]}`))
	waitReady(t, r, events, 3)
	if n := count(readEvents(t, events), "exit"); n != 2 {
		t.Errorf("%d exits, want 2", n)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
}

// TestConfigChangeWithoutRestart: without RestartOnChange (the nanny's
// -restartDnsmasq=false) a change reaches neither dnsmasq nor its servers
// file until dnsmasq starts again.
func TestConfigChangeWithoutRestart(t *testing.T) {
	exe, events := stub(t, stubForever)
	r := start(t, Options{Exec: exe, Args: []string{"-R"}}, config.Default())
	first := waitReady(t, r, events, 1)
	file := serversFileOf(t, events)
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.5"]}`)) // taken: the first was processed
	e := readEvents(t, events)
	if r.PID() != first || count(e, "start") != 1 || count(e, "hup") != 0 {
		t.Fatalf("dnsmasq restarted or reloaded without -restartDnsmasq: %+v", e)
	}
	if b, err := os.ReadFile(file); err != nil || len(b) != 0 {
		t.Errorf("servers file %q, %v; want it left empty until the next start", b, err)
	}
	// It dies: the next start uses the latest configuration.
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitReady(t, r, events, 2)
	if got := last(readEvents(t, events), "servers").args; got != "server=/acme.local/1.2.3.5#53" {
		t.Errorf("restarted with servers %q", got)
	}
}

// serversFileOf returns the --servers-file of the stub's last start.
func serversFileOf(t *testing.T, events string) string {
	t.Helper()
	for _, a := range strings.Fields(lastStart(readEvents(t, events)).args) {
		if f, ok := strings.CutPrefix(a, "--servers-file="); ok {
			return f
		}
	}
	t.Fatal("dnsmasq started without --servers-file")
	return ""
}

// changingResolver resolves every name to addr and counts lookups.
type changingResolver struct {
	mu      sync.Mutex
	addr    netip.Addr
	lookups atomic.Int64
}

func (c *changingResolver) set(a string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.addr = netip.MustParseAddr(a)
}

func (c *changingResolver) LookupAddrs(context.Context, string) ([]netip.Addr, error) {
	c.lookups.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	return []netip.Addr{c.addr}, nil
}

// TestNamesResolvedAgain: dnsmasq starts without waiting for a stub
// server's name, which a reload adds once found; the name is resolved again
// at every sync, a new address is a reload, the same one nothing.
func TestNamesResolvedAgain(t *testing.T) {
	exe, events := stub(t, stubForever)
	res := &changingResolver{}
	res.set("192.0.2.1")
	r := start(t, Options{Exec: exe, Args: []string{"-R"}, RestartOnChange: true, Resolver: res, SyncInterval: 20 * time.Millisecond},
		stubConfig(t, `{"acme.local": ["dns.my.corp"]}`))
	waitReady(t, r, events, 1)
	if got := waitHups(t, events, 1)[0].args; got != "server=/acme.local/192.0.2.1#53" {
		t.Errorf("reloaded with %q, want the name's address", got)
	}
	looked := res.lookups.Load()
	waitFor(t, 5*time.Second, "five more lookups", func() bool { return res.lookups.Load() >= looked+5 })
	if n := count(readEvents(t, events), "hup"); n != 1 {
		t.Fatalf("%d SIGHUPs with unchanged names, want 1", n)
	}
	res.set("192.0.2.2")
	if got := waitHups(t, events, 2)[1].args; got != "server=/acme.local/192.0.2.2#53" {
		t.Errorf("reloaded with %q", got)
	}
	if n := count(readEvents(t, events), "start"); n != 1 {
		t.Errorf("%d starts, want 1", n)
	}
}

// TestResolvFileReadAgain: the nanny reads the resolv file at every sync;
// while it cannot, dnsmasq keeps the nameservers read last.
func TestResolvFileReadAgain(t *testing.T) {
	exe, events := stub(t, stubForever)
	resolv := resolvFile(t, "nameserver 192.0.2.53\n")
	logs := &logBuffer{}
	r := startLogged(t, Options{Exec: exe, Args: []string{"-r", resolv}, RestartOnChange: true, SyncInterval: 20 * time.Millisecond}, config.Default(), logs)
	waitReady(t, r, events, 1)
	replaceResolv(t, resolv, "nameserver 192.0.2.54\nnameserver fd00::53\n")
	if got := waitHups(t, events, 1)[0].args; got != "server=192.0.2.54#53 server=fd00::53#53" {
		t.Errorf("reloaded with %q", got)
	}
	if err := os.Remove(resolv); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the resolv file to be missed", func() bool {
		return strings.Contains(logs.String(), "Cannot read the resolv file; keeping its last nameservers")
	})
	if got := readServersFile(t, serversFileOf(t, events)); got != "server=192.0.2.54#53\nserver=fd00::53#53\n" {
		t.Errorf("servers file %q without the resolv file, want the last nameservers", got)
	}
	replaceResolv(t, resolv, "nameserver 192.0.2.55\n")
	// The next SIGHUP is the new file's: none came in between.
	if got := waitHups(t, events, 2)[1].args; got != "server=192.0.2.55#53" {
		t.Errorf("reloaded with %q", got)
	}
}

func readServersFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestResolvLeftToDnsmasq: when dnsmasq may read a configuration file, which
// could say which resolv file to read or none, dnsmasq reads the resolv
// file itself; --no-resolv then comes with the upstreams, and adding or
// removing them restarts dnsmasq. Stub domain changes are still reloads.
func TestResolvLeftToDnsmasq(t *testing.T) {
	exe, events := stub(t, stubForever)
	conf := filepath.Join(t.TempDir(), "dnsmasq.conf")
	if err := os.WriteFile(conf, []byte("no-resolv\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := start(t, Options{Exec: exe, RestartOnChange: true, DefaultConfFile: conf}, config.Default())
	waitReady(t, r, events, 1)
	args := func() string { return lastStart(readEvents(t, events)).args }
	if strings.Contains(args(), "--no-resolv") {
		t.Errorf("started with %q: --no-resolv without upstreams", args())
	}
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	if got := waitHups(t, events, 1)[0].args; got != "server=/acme.local/1.2.3.4#53" {
		t.Errorf("reloaded with %q", got)
	}
	r.send(t, mustParse(t, map[string]string{"stubDomains": `{"acme.local": ["1.2.3.4"]}`, "upstreamNameservers": `["8.8.8.8"]`}))
	waitReady(t, r, events, 2)
	if !strings.Contains(args(), " --no-resolv --servers-file=") {
		t.Errorf("restarted with %q, want --no-resolv", args())
	}
	if got := last(readEvents(t, events), "servers").args; got != "server=/acme.local/1.2.3.4#53 server=8.8.8.8#53" {
		t.Errorf("restarted with servers %q", got)
	}
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	waitReady(t, r, events, 3)
	if strings.Contains(args(), "--no-resolv") {
		t.Errorf("restarted with %q, want no --no-resolv", args())
	}
}

// A stub that installs its SIGHUP handler only once the file $EVENTS.gate
// exists, and then reads the servers file, as dnsmasq does at its start.
const stubGated = `while [ ! -e "$EVENTS.gate" ]; do sleep 0.01; done
trap 'echo "hup $$ $(servers)" >> "$EVENTS"' HUP
trap 'echo "exit $$" >> "$EVENTS"; exit 0' TERM
echo "servers $$ $(servers)" >> "$EVENTS"
echo "ready $$" >> "$EVENTS"
while :; do sleep 0.05; done`

// TestChangeWhileStarting: a change that comes before dnsmasq handles
// SIGHUP (it would die of it) is written to the servers file only, which
// dnsmasq reads once it handles the signal.
func TestChangeWhileStarting(t *testing.T) {
	exe, events := stub(t, stubGated)
	r := start(t, Options{Exec: exe, Args: []string{"-R"}, RestartOnChange: true}, config.Default())
	waitFor(t, 5*time.Second, "the start", func() bool { return r.PID() != 0 && count(readEvents(t, events), "servers") == 1 })
	file := serversFileOf(t, events)
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.4"]}`))
	waitFor(t, 5*time.Second, "the servers file", func() bool {
		b, _ := os.ReadFile(file)
		return string(b) == "server=/acme.local/1.2.3.4#53\n"
	})
	if err := os.WriteFile(events+".gate", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pid := waitReady(t, r, events, 1)
	e := readEvents(t, events)
	if count(e, "start") != 1 || count(e, "hup") != 0 || r.PID() != pid {
		t.Errorf("events %+v: want one start and no SIGHUP", e)
	}
	if got := last(e, "servers").args; got != "server=/acme.local/1.2.3.4#53" {
		t.Errorf("dnsmasq read %q", got)
	}
	// Now it handles SIGHUP: the next change is a reload.
	r.send(t, stubConfig(t, `{"acme.local": ["1.2.3.5"]}`))
	if got := waitHups(t, events, 1)[0].args; got != "server=/acme.local/1.2.3.5#53" {
		t.Errorf("reloaded with %q", got)
	}
}
