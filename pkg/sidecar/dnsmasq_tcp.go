package sidecar

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// warnEvery is the least time between two warnings that dnsmasq turns TCP
// clients away.
const warnEvery = time.Minute

// DnsmasqTCP watches dnsmasq's TCP port in the pod's network namespace,
// which the sidecar shares: the connections dnsmasq serves, against the
// limit it was given (--max-tcp-connections; past it dnsmasq stops
// accepting), the connections waiting in its listen sockets' accept queues,
// and the connection attempts the kernel dropped because a queue was full.
// It is a prometheus.Collector, and logs a warning while dnsmasq turns
// clients away. A failed read counts an error and keeps the last values.
type DnsmasqTCP struct {
	port     uint16
	maxConns int
	proc     ProcNet
	// backlog reads the listen sockets' backlog; listenBacklog but in tests.
	backlog func(port uint16, v4, v6 bool) (n int, backlog uint32, err error)
	clock   Clock
	// logLine logs a line about turning clients away; klog but in tests.
	logLine func(warning bool, line string)

	conns, connsLimit, queue, queueLimit, overflows, errors *prometheus.Desc

	mu          sync.Mutex
	polled      bool         // a read of /proc/net has succeeded
	st          TCPPortStats // its values
	at          time.Time    // and when it was
	haveBacklog bool
	backlogMax  uint32 // the backlog last read
	failures    uint64
	procFailing bool // the last read of /proc/net failed
	diagFailing bool // the last read of the backlog failed
	warned      bool // a warning was logged, and no line since that it stopped
	lastWarn    time.Time
}

// NewDnsmasqTCP returns the collector of dnsmasq's TCP port, whose limit
// of connections is maxConns, with metric names under namespace, taking
// time from c (the zero Clock: real time). It reads /proc/net. Register
// it, then call Run.
func NewDnsmasqTCP(port, maxConns int, namespace string, c Clock) *DnsmasqTCP {
	desc := func(subsystem, name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help, nil, nil)
	}
	return &DnsmasqTCP{
		port:     uint16(port),
		maxConns: maxConns,
		backlog:  listenBacklog,
		clock:    c.withDefaults(),
		logLine:  klogLine,
		conns: desc("dnsmasq", "tcp_connections",
			"TCP connections dnsmasq has accepted on its port and not yet closed (ESTABLISHED sockets of the port held by a process, in /proc/net/tcp and tcp6)."),
		connsLimit: desc("dnsmasq", "tcp_connections_limit",
			"TCP connections dnsmasq serves at once (its --max-tcp-connections, as given to the sidecar's --dnsmasq-max-tcp-connections); past it dnsmasq stops accepting."),
		queue: desc("dnsmasq", "tcp_accept_queue",
			"TCP connections waiting in the accept queues of dnsmasq's listen sockets (their rx_queue in /proc/net/tcp and tcp6)."),
		queueLimit: desc("dnsmasq", "tcp_accept_queue_limit",
			"Backlog of dnsmasq's TCP listen sockets, the largest if several (sock_diag); the kernel queues one more connection per socket, then drops connection attempts."),
		overflows: desc("tcp", "listen_overflows_total",
			"Connection attempts the kernel dropped because a listen socket's accept queue was full (TcpExt ListenOverflows in /proc/net/netstat). Counts every listener of the pod's network namespace; in this pod, dnsmasq's is the one that fills."),
		errors: desc("dnsmasq", "tcp_read_errors_total",
			"Failed reads of the pod's TCP state: /proc/net/tcp, tcp6 and netstat, or the backlog of dnsmasq's listen sockets (sock_diag)."),
	}
}

func klogLine(warning bool, line string) {
	if warning {
		klog.Warning(line)
	} else {
		klog.Info(line)
	}
}

// Describe sends the descriptors of every metric d may export.
func (d *DnsmasqTCP) Describe(ch chan<- *prometheus.Desc) {
	for _, desc := range []*prometheus.Desc{d.conns, d.connsLimit, d.queue, d.queueLimit, d.overflows, d.errors} {
		ch <- desc
	}
}

// Collect sends the limit, the error count, the values of the last
// successful read of /proc/net once there is one, and the backlog once it
// has been read.
func (d *DnsmasqTCP) Collect(ch chan<- prometheus.Metric) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(d.connsLimit, prometheus.GaugeValue, float64(d.maxConns))
	ch <- prometheus.MustNewConstMetric(d.errors, prometheus.CounterValue, float64(d.failures))
	if d.polled {
		ch <- prometheus.MustNewConstMetric(d.conns, prometheus.GaugeValue, float64(d.st.Connections))
		ch <- prometheus.MustNewConstMetric(d.queue, prometheus.GaugeValue, float64(d.st.AcceptQueue))
		ch <- prometheus.MustNewConstMetric(d.overflows, prometheus.CounterValue, float64(d.st.ListenOverflows))
	}
	if d.haveBacklog {
		ch <- prometheus.MustNewConstMetric(d.queueLimit, prometheus.GaugeValue, float64(d.backlogMax))
	}
}

// Run reads at once, then every interval, until ctx is done.
func (d *DnsmasqTCP) Run(ctx context.Context, interval time.Duration) {
	for {
		start := d.clock.Now()
		_ = d.Poll()
		if !d.clock.Sleep(ctx, max(0, interval-d.clock.Now().Sub(start))) {
			return
		}
	}
}

// Poll reads the TCP state of dnsmasq's port once, then the backlog of its
// listen sockets when it has any, and logs when dnsmasq starts or stops
// turning clients away. A failed read counts an error and returns it: of
// /proc/net, every value stays as it was; of the backlog, the backlog does.
func (d *DnsmasqTCP) Poll() error {
	st, procErr := d.proc.TCPPort(d.port)
	var (
		listeners int
		backlog   uint32
		diagErr   error
	)
	if procErr == nil && st.Listen4+st.Listen6 > 0 {
		listeners, backlog, diagErr = d.backlog(d.port, st.Listen4 > 0, st.Listen6 > 0)
	}
	now := d.clock.Now()

	d.mu.Lock()
	defer d.mu.Unlock()
	noteFailure(&d.procFailing, procErr, "the pod's TCP state")
	if procErr != nil {
		d.failures++
		return procErr
	}
	noteFailure(&d.diagFailing, diagErr, "the backlog of dnsmasq's listen sockets")
	if diagErr != nil {
		d.failures++
	} else if listeners > 0 {
		d.haveBacklog, d.backlogMax = true, backlog
	}
	prev, prevAt, first := d.st, d.at, !d.polled
	d.st, d.at, d.polled = st, now, true
	var dropped uint64
	if !first && st.ListenOverflows > prev.ListenOverflows {
		dropped = st.ListenOverflows - prev.ListenOverflows
	}
	d.watch(now, dropped, now.Sub(prevAt), first)
	return diagErr
}

// noteFailure logs when reads of what start or stop failing.
func noteFailure(failing *bool, err error, what string) {
	switch {
	case err != nil && !*failing:
		klog.InfoS("Cannot read "+what, "err", err)
	case err == nil && *failing:
		klog.InfoS("Reading " + what + " again")
	}
	*failing = err != nil
}

// watch logs, at most once every warnEvery, that dnsmasq turns TCP clients
// away: the kernel dropped connection attempts since the last read (over
// the time since), or connections wait in the accept queue while dnsmasq
// holds as many as it may. It logs one line when that has stopped.
func (d *DnsmasqTCP) watch(now time.Time, dropped uint64, since time.Duration, first bool) {
	full := d.st.AcceptQueue > 0 && d.st.Connections >= d.maxConns
	if dropped == 0 && !full {
		if d.warned {
			d.warned = false
			d.logLine(false, fmt.Sprintf("dnsmasq is no longer turning TCP clients away: %d of %d TCP connections in use, %d waiting to be accepted, none dropped by the kernel in the last %v",
				d.st.Connections, d.maxConns, d.st.AcceptQueue, roundDuration(since)))
		}
		return
	}
	if now.Sub(d.lastWarn) < warnEvery {
		return
	}
	d.warned, d.lastWarn = true, now
	var b strings.Builder
	fmt.Fprintf(&b, "dnsmasq is turning TCP clients away: %d of %d TCP connections in use (--max-tcp-connections), %d waiting to be accepted",
		d.st.Connections, d.maxConns, d.st.AcceptQueue)
	if !first {
		fmt.Fprintf(&b, ", %d connection attempts dropped by the kernel in the last %v", dropped, roundDuration(since))
		if !full {
			b.WriteString(" (by any listen socket of the pod)")
		}
	}
	b.WriteString("; raise dnsmasq's --max-tcp-connections and the sidecar's --dnsmasq-max-tcp-connections (cluster/README.md)")
	d.logLine(true, b.String())
}

// roundDuration rounds d for a log line: 5s rather than 5.000213s.
func roundDuration(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
