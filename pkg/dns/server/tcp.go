package server

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/netutil"
)

// Defaults of TCPConfig's timeouts.
const (
	// DefaultTCPIdleTimeout is CoreDNS forward's connection expiry rather
	// than miekg/dns's 8 s: such a client reuses a connection idle for up
	// to 10 s, and one kubedns has closed under it costs its query a retry
	// (on EOF) or an error (when the reset comes first). dnsmasq's TCP
	// children keep theirs as long as they live and retry once on a new one.
	DefaultTCPIdleTimeout = 10 * time.Second
	// DefaultTCPReadTimeout is miekg/dns's 2 s, which is also the wait
	// for the first query of a new connection.
	DefaultTCPReadTimeout = 2 * time.Second
	// DefaultTCPWriteTimeout is the 2 s miekg/dns documents for its
	// WriteTimeout but does not apply to TCP replies.
	DefaultTCPWriteTimeout = 2 * time.Second
)

// TCPConfig bounds what TCP clients may hold. A connection is closed when
// no query begins within IdleTimeout of the last reply (ReadTimeout for
// the first query), when a query once begun is not complete within
// ReadTimeout, and when a reply cannot be written within WriteTimeout.
// Zero durations mean the defaults above.
type TCPConfig struct {
	// MaxConns is how many connections are served at once; past it, new
	// ones wait in the kernel's accept queue until one closes. 0: no limit.
	MaxConns     int
	IdleTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
}

func (c TCPConfig) withDefaults() TCPConfig {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultTCPIdleTimeout
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = DefaultTCPReadTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = DefaultTCPWriteTimeout
	}
	return c
}

// Why kubedns closed a TCP connection, when a timeout did it.
type tcpTimeout int

const (
	timeoutIdle tcpTimeout = iota
	timeoutRead
	timeoutWrite
	numTCPTimeouts
)

var tcpTimeoutNames = [numTCPTimeouts]string{"idle", "read", "write"}

// tcpListener limits, counts and wraps the connections miekg/dns serves.
type tcpListener struct {
	net.Listener
	cfg      TCPConfig
	metrics  *Metrics
	stopping *atomic.Bool // set before miekg/dns's shutdown begins
}

func newTCPListener(ln net.Listener, cfg TCPConfig, m *Metrics, stopping *atomic.Bool) *tcpListener {
	cfg = cfg.withDefaults()
	if cfg.MaxConns > 0 {
		ln = netutil.LimitListener(ln, cfg.MaxConns)
	}
	return &tcpListener{Listener: ln, cfg: cfg, metrics: m, stopping: stopping}
}

// server returns the miekg/dns server of l, reading through tcpConn.
func (l *tcpListener) server(h dns.Handler, started func()) *dns.Server {
	return &dns.Server{
		Listener: l, Handler: h, NotifyStartedFunc: started,
		// A client may keep one TCP connection for any number of queries
		// (miekg/dns closes it after 128 by default, losing those in flight).
		MaxTCPQueries:  -1,
		ReadTimeout:    l.cfg.ReadTimeout,
		IdleTimeout:    func() time.Duration { return l.cfg.IdleTimeout },
		DecorateReader: func(r dns.Reader) dns.Reader { return tcpReader{r} },
	}
}

func (l *tcpListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.metrics.tcpOpened()
	return &tcpConn{Conn: c, l: l}, nil
}

// tcpConn is one client connection: reads of a whole message at a time
// with the timeouts of TCPConfig, writes with a deadline, and counted.
type tcpConn struct {
	net.Conn
	l      *tcpListener
	closed atomic.Bool
	hdr    [2]byte
}

// aLongTimeAgo is a deadline in the past: it ends a blocked read at once.
var aLongTimeAgo = time.Unix(1, 0)

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// readMsg reads one length-prefixed message: its first byte may take wait,
// the rest ReadTimeout. A timeout is counted unless the server is stopping.
func (c *tcpConn) readMsg(wait time.Duration) ([]byte, error) {
	if err := c.setReadDeadline(wait); err != nil {
		return nil, err
	}
	n, err := c.Conn.Read(c.hdr[:])
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		c.timedOut(timeoutIdle, err)
		return nil, err
	}
	// A query has begun: the rest of it comes within ReadTimeout.
	if err := c.setReadDeadline(c.l.cfg.ReadTimeout); err != nil {
		return nil, err
	}
	if n < len(c.hdr) {
		if _, err := io.ReadFull(c.Conn, c.hdr[n:]); err != nil {
			c.timedOut(timeoutRead, err)
			return nil, err
		}
	}
	m := make([]byte, binary.BigEndian.Uint16(c.hdr[:]))
	if _, err := io.ReadFull(c.Conn, m); err != nil {
		c.timedOut(timeoutRead, err)
		return nil, err
	}
	return m, nil
}

// setReadDeadline sets the read deadline d from now, unless Shutdown has
// begun: miekg/dns then sets (or has set) a deadline in the past to end the
// read, and a later one must not undo it. stopping is stored before that,
// so a read that sees it false set its deadline before miekg/dns's.
func (c *tcpConn) setReadDeadline(d time.Duration) error {
	err := c.Conn.SetReadDeadline(time.Now().Add(d))
	if c.l.stopping.Load() {
		err = c.Conn.SetReadDeadline(aLongTimeAgo)
	}
	return err
}

func (c *tcpConn) timedOut(t tcpTimeout, err error) {
	if isTimeout(err) && !c.l.stopping.Load() {
		c.l.metrics.tcpTimedOut(t)
	}
}

// Write writes a reply within WriteTimeout. A failed write closes the
// connection: a client that does not read its replies does not keep it,
// and a reply cut short leaves nothing to parse after it.
func (c *tcpConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.l.cfg.WriteTimeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Write(b)
	if err != nil {
		c.timedOut(timeoutWrite, err)
		c.Close()
	}
	return n, err
}

// Close closes the connection once, freeing its place under MaxConns.
func (c *tcpConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return net.ErrClosed
	}
	c.l.metrics.tcpClosed()
	return c.Conn.Close()
}

// tcpReader reads the messages of a tcpConn with its timeouts; miekg/dns
// gives it the wait for the first byte (ReadTimeout, then IdleTimeout).
type tcpReader struct{ dns.Reader }

func (r tcpReader) ReadTCP(conn net.Conn, wait time.Duration) ([]byte, error) {
	if c, ok := conn.(*tcpConn); ok {
		return c.readMsg(wait)
	}
	return r.Reader.ReadTCP(conn, wait)
}
