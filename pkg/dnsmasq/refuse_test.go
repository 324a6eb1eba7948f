package dnsmasq

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// A stub domain dnsmasq 2.90 refuses: a label of 64 octets.
func badDomain(i int) string { return strings.Repeat("a", 63) + strconv.Itoa(i%10) + ".local" }

// stubs is a configuration of version v with the stub domains given.
func stubs(v string, domains map[string]string) *config.Config {
	c := &config.Config{StubDomains: map[string][]string{}, Version: v}
	for d, s := range domains {
		c.StubDomains[d] = []string{s}
	}
	return c
}

const (
	refusedBack = "dnsmasq refused its configuration; the last accepted one is back"
	refusedNone = "dnsmasq refused its configuration; it runs without the ConfigMap's servers until it accepts one"
)

// stillRunning fails the test if Run has returned.
func stillRunning(t *testing.T, r *running) {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned %v", err)
	default:
	}
}

// TestRefusedServersFileLine: dnsmasq refuses a line of its servers file
// at a reload (it logs "error at line 1 of …"); the nanny gives it the last
// configuration it accepted again, says so once, does not give it the
// refused one again, and applies the next change.
func TestRefusedServersFileLine(t *testing.T) {
	dnsmasqtest.Require(t)
	first := serveAddress(t, freeport.LoopbackIP(2), "acme.local", "10.9.9.9")
	second := serveAddress(t, freeport.LoopbackIP(3), "acme.local", "10.8.8.8")
	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logs := &logBuffer{}
	r := startLogged(t, Options{
		Exec: dnsmasqtest.Path, Args: listenArgs("127.0.0.1", port), RestartOnChange: true,
		ServersDir: sharedDir(t), AcceptAfter: 500 * time.Millisecond,
	}, stubs("v1", map[string]string{"acme.local": first}), logs)
	waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
	pid := r.PID()

	bad := stubs("v2", map[string]string{"acme.local": second, badDomain(0): second})
	began := time.Now()
	r.send(t, bad)
	waitFor(t, 10*time.Second, "the refusal", func() bool { return strings.Contains(logs.String(), refusedBack) })
	waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
	t.Logf("the last accepted configuration answers %v after the refused one was sent", time.Since(began))
	line := logLine(logs.String(), refusedBack)
	for _, want := range []string{"version=v2", badDomain(0), " at line 1 of "} {
		if !strings.Contains(line, want) {
			t.Errorf("the refusal's log line lacks %q:\n%s", want, line)
		}
	}

	// The same configuration again is not given to dnsmasq again; the next
	// one is.
	r.send(t, stubs("v2", map[string]string{"acme.local": second, badDomain(0): second}))
	r.send(t, stubs("v3", map[string]string{"acme.local": second}))
	waitAnswer(t, addr, "x.acme.local", "10.8.8.8")
	if n := strings.Count(logs.String(), refusedBack); n != 1 {
		t.Errorf("%d refusals logged, want 1", n)
	}
	if r.PID() != pid {
		t.Errorf("dnsmasq %d was restarted (now %d): reloads only", pid, r.PID())
	}
	stillRunning(t, r)
}

// logLine returns the first line of logs holding s.
func logLine(logs, s string) string {
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// TestRefusedServerArguments: with a --servers-file of their own in its
// arguments the servers are arguments, and dnsmasq refuses a bad one by
// exiting at its start ("bad command line options", status 1). The nanny
// starts it again at once with the last configuration it accepted, and
// does not count the refusal as a failure: five refusals in a row, as many
// as the failures that end it, leave it and dnsmasq running. The same when
// dnsmasq exits after AcceptAfter, as it can on a busy node: the exit
// takes back the acceptance.
func TestRefusedServerArguments(t *testing.T) {
	for _, tt := range []struct {
		name   string
		accept time.Duration
	}{
		{name: "within the trial", accept: 500 * time.Millisecond},
		{name: "after it", accept: time.Nanosecond},
	} {
		t.Run(tt.name, func(t *testing.T) { testRefusedServerArguments(t, tt.accept) })
	}
}

func testRefusedServerArguments(t *testing.T, accept time.Duration) {
	dnsmasqtest.Require(t)
	first := serveAddress(t, freeport.LoopbackIP(2), "acme.local", "10.9.9.9")
	second := serveAddress(t, freeport.LoopbackIP(3), "acme.local", "10.8.8.8")
	own := filepath.Join(t.TempDir(), "servers.conf")
	if err := os.WriteFile(own, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	logs := &logBuffer{}
	r := startLogged(t, Options{
		Exec: dnsmasqtest.Path, Args: append(listenArgs("127.0.0.1", port), "--servers-file="+own), RestartOnChange: true,
		AcceptAfter: accept,
	}, stubs("v1", map[string]string{"acme.local": first}), logs)
	waitAnswer(t, addr, "x.acme.local", "10.9.9.9")

	for i := range fastRestarts.MaxFailures {
		began := time.Now()
		r.send(t, stubs("bad"+strconv.Itoa(i), map[string]string{"acme.local": second, badDomain(i): second}))
		waitFor(t, 10*time.Second, "refusal "+strconv.Itoa(i+1), func() bool { return strings.Count(logs.String(), refusedBack) == i+1 })
		waitAnswer(t, addr, "x.acme.local", "10.9.9.9")
		t.Logf("refusal %d: the last accepted configuration answers again %v after the refused one was sent", i+1, time.Since(began))
	}
	stillRunning(t, r)
	line := logLine(logs.String(), refusedBack)
	for _, want := range []string{"version=bad0", "--server=/" + badDomain(0) + "/", "bad command line options"} {
		if !strings.Contains(line, want) {
			t.Errorf("the refusal's log line lacks %q:\n%s", want, line)
		}
	}
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(r.PID()) + "/cmdline")
	if err != nil || !strings.Contains(string(cmdline), "--server=/acme.local/"+strings.Replace(first, ":", "#", 1)) {
		t.Errorf("dnsmasq runs with %q, %v; want the first configuration's arguments", cmdline, err)
	}

	r.send(t, stubs("v2", map[string]string{"acme.local": second}))
	waitAnswer(t, addr, "x.acme.local", "10.8.8.8")
	stillRunning(t, r)
}

// TestRefusedBaseArguments: when dnsmasq refuses its own arguments, no
// configuration helps: the nanny goes back to them alone, and ends with
// the crash-loop error after MaxFailures failures. Nothing is to be
// accepted here, so the trial never runs out: dnsmasq's exit is its
// verdict however long it takes (226 ms once on a busy machine, past the
// 50 ms start gives tests, and its refusal was then a plain failure).
func TestRefusedBaseArguments(t *testing.T) {
	dnsmasqtest.Require(t)
	port := freePort(t, "127.0.0.1")
	logs := &logBuffer{}
	r := startLogged(t, Options{
		Exec: dnsmasqtest.Path, Args: append(listenArgs("127.0.0.1", port), "--no-such-option"), RestartOnChange: true,
		ServersDir: sharedDir(t), AcceptAfter: time.Hour,
	}, stubs("v1", map[string]string{"acme.local": "192.0.2.1"}), logs)
	err := r.result(t, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "failed 5 times") || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("Run = %v, want the crash-loop error", err)
	}
	// The first start also gives the servers file; dnsmasq refuses the
	// arguments before it reads it.
	if n := strings.Count(logs.String(), refusedNone); n != 1 {
		t.Errorf("%d refusals logged, want the configuration's, once:\n%s", n, logs)
	}
}

// stubRefusing logs a refusal of its servers file, as dnsmasq does, when
// the file holds "bad", at its start and at each SIGHUP. Like dnsmasq it
// reads the file once for a SIGHUP, in its main loop (the trap only notes
// the signal, as dnsmasq's handler does), records that read in the "hup"
// event and judges that same text. Reading it in the trap, once for the
// event and again for the verdict, let a verdict come late: dash runs the
// trap of a SIGHUP that arrives meanwhile inside the one still running,
// so the earlier SIGHUPs' verdicts were made on the file written for the
// next configuration, after the test had seen their events and sent that
// configuration, and the nanny got one refusal of it more than dnsmasq
// gives. (It matches the text read, not grep's status: dash can give a
// command interrupted by a trap the trap's status.)
const stubRefusing = `refuse() { case "$1" in *bad*) echo "dnsmasq[$$]: error at line 1 of $SERVERS_FILE" >&2;; esac; }
hup=
trap 'echo "exit $$" >> "$EVENTS"; exit 0' TERM
trap 'hup=1' HUP
echo "ready $$" >> "$EVENTS"
refuse "$(servers)"
while :; do
	if [ -n "$hup" ]; then hup=; s=$(servers); echo "hup $$ $s" >> "$EVENTS"; refuse "$s"; fi
	sleep 0.05
done`

// TestRefusedAtFirstStart: a servers file refused at dnsmasq's first start
// has nothing accepted before it to go back to: dnsmasq gets its base
// arguments without the ConfigMap's servers (a reload, no restart), then
// the next configuration, and a refused one after that is replaced by it.
// The same when the refusals come after AcceptAfter: they take the
// acceptance back.
func TestRefusedAtFirstStart(t *testing.T) {
	for _, tt := range []struct {
		name   string
		accept time.Duration
	}{
		{name: "within the trial", accept: time.Second},
		{name: "after it", accept: time.Nanosecond},
	} {
		t.Run(tt.name, func(t *testing.T) { testRefusedAtFirstStart(t, tt.accept) })
	}
}

func testRefusedAtFirstStart(t *testing.T, accept time.Duration) {
	exe, events := stub(t, stubRefusing)
	logs := &logBuffer{}
	r := startLogged(t, Options{Exec: exe, Args: []string{"-R"}, RestartOnChange: true, AcceptAfter: accept},
		stubs("v1", map[string]string{"bad.local": "192.0.2.1"}), logs)
	pid := waitReady(t, r, events, 1)
	if got := waitHups(t, events, 1)[0]; got.pid != pid || got.args != "" {
		t.Errorf("SIGHUP to %d with servers %q; want %d with none", got.pid, got.args, pid)
	}
	if n := strings.Count(logs.String(), refusedNone); n != 1 {
		t.Errorf("%d refusals logged as %q, want 1:\n%s", n, refusedNone, logs)
	}

	r.send(t, stubs("v2", map[string]string{"ok.local": "192.0.2.2"}))
	if got := waitHups(t, events, 2)[1].args; got != "server=/ok.local/192.0.2.2#53" {
		t.Errorf("reloaded with %q", got)
	}
	r.send(t, stubs("v3", map[string]string{"ok.local": "192.0.2.3", "bad.local": "192.0.2.1"}))
	hups := waitHups(t, events, 4)
	if hups[2].args != "server=/bad.local/192.0.2.1#53 server=/ok.local/192.0.2.3#53" || hups[3].args != "server=/ok.local/192.0.2.2#53" {
		t.Errorf("reloads %q, %q; want v3's, then v2's again", hups[2].args, hups[3].args)
	}
	waitFor(t, 5*time.Second, "the refusal", func() bool { return strings.Contains(logs.String(), refusedBack) })
	if line := logLine(logs.String(), refusedBack); !strings.Contains(line, "version=v3") {
		t.Errorf("the refusal's log line lacks the version:\n%s", line)
	}
	if e := readEvents(t, events); count(e, "start") != 1 || r.PID() != pid {
		t.Errorf("events %+v: want one start", e)
	}
	stillRunning(t, r)
}
