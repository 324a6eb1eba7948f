package sidecar

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeBacklog answers the collector's sock_diag reads and records them.
type fakeBacklog struct {
	mu       sync.Mutex
	backlog  uint32
	err      error
	families [][2]bool // v4, v6 of each read
}

func (f *fakeBacklog) read(port uint16, v4, v6 bool) (int, uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.families = append(f.families, [2]bool{v4, v6})
	if f.err != nil {
		return 0, 0, f.err
	}
	return 1, f.backlog, nil
}

// newTestTCP returns a collector of port 53 with limit 20 reading the
// fixture root, sock_diag faked by bl, and its registry.
func newTestTCP(t *testing.T, root string, bl *fakeBacklog, c Clock) (*DnsmasqTCP, *prometheus.Registry) {
	t.Helper()
	d := NewDnsmasqTCP(53, 20, "kubedns", c)
	d.proc.Root, d.backlog = root, bl.read
	d.logLine = func(bool, string) {}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(d)
	return d, reg
}

// TestDnsmasqTCPMetrics reads the fixtures in turn: the values follow
// them, and a failed read counts an error and keeps the last values.
func TestDnsmasqTCPMetrics(t *testing.T) {
	bl := &fakeBacklog{backlog: 32}
	d, reg := newTestTCP(t, "", bl, Clock{})
	if got := exported(t, reg); len(got) != 2 || got["kubedns_dnsmasq_tcp_connections_limit"] != 20 || got["kubedns_dnsmasq_tcp_read_errors_total"] != 0 {
		t.Errorf("before any read: %v, want only the limit and the errors", got)
	}

	steps := []struct {
		name       string
		root       string
		backlogErr error
		fail       bool
		conns      float64
		queue      float64
		queueLimit float64
		overflows  float64
		errors     float64
		families   [2]bool // of the sock_diag read, if any
	}{
		{name: "idle", root: "idle", conns: 4, queueLimit: 32, families: [2]bool{true, true}},
		{name: "full", root: "full", conns: 20, queue: 34, queueLimit: 32, overflows: 1523, families: [2]bool{true, true}},
		{name: "unreadable", root: "missing", fail: true, conns: 20, queue: 34, queueLimit: 32, overflows: 1523, errors: 1},
		{name: "malformed", root: "malformed", fail: true, conns: 20, queue: 34, queueLimit: 32, overflows: 1523, errors: 2},
		{name: "backlog unreadable", root: "no-tcp6", backlogErr: errors.New("sock_diag: no"), fail: true, conns: 5, queue: 2, queueLimit: 32, overflows: 7, errors: 3, families: [2]bool{true, false}},
	}
	for _, st := range steps {
		bl.mu.Lock()
		bl.err, bl.families = st.backlogErr, nil
		bl.mu.Unlock()
		d.proc.Root = filepath.Join("testdata/procnet", st.root)
		if err := d.Poll(); (err != nil) != st.fail {
			t.Errorf("%s: Poll error %v", st.name, err)
		}
		want := map[string]float64{
			"kubedns_dnsmasq_tcp_connections": st.conns, "kubedns_dnsmasq_tcp_connections_limit": 20,
			"kubedns_dnsmasq_tcp_accept_queue": st.queue, "kubedns_dnsmasq_tcp_accept_queue_limit": st.queueLimit,
			"kubedns_tcp_listen_overflows_total": st.overflows, "kubedns_dnsmasq_tcp_read_errors_total": st.errors,
		}
		if got := exported(t, reg); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: exported\n%v\nwant\n%v", st.name, got, want)
		}
		bl.mu.Lock()
		if (st.families != [2]bool{}) != (len(bl.families) == 1) || len(bl.families) == 1 && bl.families[0] != st.families {
			t.Errorf("%s: sock_diag reads %v, want one of %v", st.name, bl.families, st.families)
		}
		bl.mu.Unlock()
	}
}

// TestDnsmasqTCPNoListener: while dnsmasq does not listen, there is no
// backlog to read; the one read before stays.
func TestDnsmasqTCPNoListener(t *testing.T) {
	bl := &fakeBacklog{backlog: 32}
	d, reg := newTestTCP(t, "testdata/procnet/idle", bl, Clock{})
	if err := d.Poll(); err != nil {
		t.Fatal(err)
	}
	d.port = 5353
	if err := d.Poll(); err != nil {
		t.Fatal(err)
	}
	if len(bl.families) != 1 {
		t.Errorf("sock_diag reads %v, want only the first poll's", bl.families)
	}
	if got := exported(t, reg); got["kubedns_dnsmasq_tcp_accept_queue_limit"] != 32 || got["kubedns_dnsmasq_tcp_connections"] != 0 {
		t.Errorf("exported %v", got)
	}
}

// writeProcNet writes a /proc/net with conns connections accepted on port
// 53, queue waiting in the accept queue of its listener, and overflows
// ListenOverflows.
func writeProcNet(t *testing.T, dir string, conns int, queue, overflows uint64) {
	t.Helper()
	var tcp strings.Builder
	tcp.WriteString(tcpHeader)
	fmt.Fprintf(&tcp, "   0: 00000000:0035 00000000:0000 0A 00000000:%08X 00:00000000 00000000  1001        0 101 1 0 100 0 0 10 0\n", queue)
	for i := range conns {
		fmt.Fprintf(&tcp, "%4d: 0701F40A:0035 0100F40A:%04X 01 00000000:00000000 00:00000000 00000000  1001        0 %d 1 0 20 4 30 10 -1\n", i+1, 40000+i, 200+i)
	}
	for name, content := range map[string]string{
		"tcp":     tcp.String(),
		"netstat": fmt.Sprintf("TcpExt: ListenOverflows ListenDrops\nTcpExt: %d %d\n", overflows, overflows),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDnsmasqTCPWarning polls every 5s of a fake clock through an episode
// of dnsmasq turning clients away, a short relapse and another episode:
// a warning at most once a minute, and one line when it has stopped.
func TestDnsmasqTCPWarning(t *testing.T) {
	fc := newFakeClock(0, nil)
	dir := t.TempDir()
	d, _ := newTestTCP(t, dir, &fakeBacklog{backlog: 32}, fc.clock())
	var lines []string
	d.logLine = func(warning bool, line string) {
		lines = append(lines, fmt.Sprintf("%v %s", map[bool]string{true: "W", false: "I"}[warning], line))
	}
	const (
		raise = "; raise dnsmasq's --max-tcp-connections and the sidecar's --dnsmasq-max-tcp-connections (cluster/README.md)"
		start = "W dnsmasq is turning TCP clients away: "
	)
	type poll struct {
		conns     int
		queue     uint64
		overflows uint64
		unread    bool     // /proc/net cannot be read
		want      []string // the lines logged
	}
	polls := []poll{
		{conns: 5, overflows: 100},
		{conns: 20, queue: 3, overflows: 100, want: []string{start + "20 of 20 TCP connections in use (--max-tcp-connections), 3 waiting to be accepted, 0 connection attempts dropped by the kernel in the last 5s" + raise}},
		{conns: 20, queue: 33, overflows: 150},
	}
	// Still turning clients away for the rest of the minute: silent.
	for range 10 {
		polls = append(polls, poll{conns: 20, queue: 33, overflows: 150})
	}
	polls = append(polls,
		// A minute after the first warning, the second.
		poll{conns: 20, queue: 33, overflows: 1673, want: []string{start + "20 of 20 TCP connections in use (--max-tcp-connections), 33 waiting to be accepted, 1523 connection attempts dropped by the kernel in the last 5s" + raise}},
		poll{conns: 12, overflows: 1673, want: []string{"I dnsmasq is no longer turning TCP clients away: 12 of 20 TCP connections in use, 0 waiting to be accepted, none dropped by the kernel in the last 5s"}},
		// A relapse within the minute: not logged, nor its end.
		poll{conns: 12, overflows: 1680},
		poll{conns: 12, overflows: 1680},
	)
	for range 9 {
		polls = append(polls, poll{conns: 12, overflows: 1680})
	}
	polls = append(polls,
		// Drops while dnsmasq has room: any listener's.
		poll{conns: 12, overflows: 1690, want: []string{start + "12 of 20 TCP connections in use (--max-tcp-connections), 0 waiting to be accepted, 10 connection attempts dropped by the kernel in the last 5s (by any listen socket of the pod)" + raise}},
		poll{unread: true},
		// Compared with the last read that succeeded, 10s before.
		poll{conns: 3, overflows: 1690, want: []string{"I dnsmasq is no longer turning TCP clients away: 3 of 20 TCP connections in use, 0 waiting to be accepted, none dropped by the kernel in the last 10s"}},
	)
	for i, p := range polls {
		if i > 0 {
			fc.advance(5 * time.Second)
		}
		if p.unread {
			os.Remove(filepath.Join(dir, "tcp"))
		} else {
			writeProcNet(t, dir, p.conns, p.queue, p.overflows)
		}
		lines = nil
		if err := d.Poll(); (err != nil) != p.unread {
			t.Fatalf("poll %d at %v: %v", i, 5*time.Duration(i)*time.Second, err)
		}
		if fmt.Sprint(lines) != fmt.Sprint(p.want) {
			t.Errorf("poll %d at %v logged\n%q\nwant\n%q", i, 5*time.Duration(i)*time.Second, lines, p.want)
		}
	}
}

// TestDnsmasqTCPFirstRead: turning clients away at the first read is
// logged, without drops, which need a read before.
func TestDnsmasqTCPFirstRead(t *testing.T) {
	d, _ := newTestTCP(t, "testdata/procnet/full", &fakeBacklog{backlog: 32}, newFakeClock(0, nil).clock())
	var lines []string
	d.logLine = func(warning bool, line string) { lines = append(lines, line) }
	if err := d.Poll(); err != nil {
		t.Fatal(err)
	}
	want := "dnsmasq is turning TCP clients away: 20 of 20 TCP connections in use (--max-tcp-connections), 34 waiting to be accepted; raise"
	if len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("logged %q, want one line starting %q", lines, want)
	}
}

// TestDnsmasqTCPRun checks the read loop on a fake clock: a read at once,
// then one per interval.
func TestDnsmasqTCPRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fc := newFakeClock(3, cancel)
	bl := &fakeBacklog{backlog: 32}
	d, reg := newTestTCP(t, "testdata/procnet/idle", bl, fc.clock())
	d.Run(ctx, 5*time.Second)

	if sleeps, _ := fc.recorded(); len(sleeps) != 3 || sleeps[0] != 5*time.Second {
		t.Errorf("sleeps %v, want 3 of 5s", sleeps)
	}
	if len(bl.families) != 3 {
		t.Errorf("%d reads, want 3", len(bl.families))
	}
	if got := exported(t, reg); got["kubedns_dnsmasq_tcp_connections"] != 4 {
		t.Errorf("exported %v", got)
	}
}
