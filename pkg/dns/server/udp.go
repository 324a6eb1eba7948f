package server

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// udpLoop reads one UDP socket (on Linux in batches, see batch_linux.go).
// Queries fastReply can answer are answered in the loop itself: no
// goroutine, no unpacking, no allocation. The others are
// handed, through a pipe that poses as a net.PacketConn, to a dns.Server
// that serves them like any miekg/dns server (accept rules, FORMERR, a
// goroutine per query), replying through the same socket.
type udpLoop struct {
	conn *net.UDPConn
	h    *Handler // nil: every query takes the pipe
	pipe *pipeConn
	done chan struct{}
	// reads counts the reads that returned queries; only this loop
	// writes it (tests read it).
	reads atomic.Uint64
}

func newUDPLoop(conn *net.UDPConn, pipe *pipeConn, h dns.Handler) *udpLoop {
	l := &udpLoop{conn: conn, pipe: pipe, done: make(chan struct{})}
	l.h, _ = h.(*Handler)
	enablePacketInfo(conn)
	return l
}

// run reads until the socket's read deadline is set in the past (stop) or the
// socket fails; it returns nil after stop.
func (l *udpLoop) run(stopping func() bool) error {
	defer close(l.done)
	return l.serve(stopping)
}

// serveOne is the loop that reads and answers one datagram at a time
// (serve, where the system has no batch calls).
func (l *udpLoop) serveOne(stopping func() bool) error {
	buf := make([]byte, 65535)
	out := make([]byte, maxUDPSize)
	oob := make([]byte, 128)
	replyOOB := make([]byte, 128)
	for {
		n, oobn, _, addr, err := l.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if again, err := readFailed(err, stopping); !again {
				return err
			}
			continue
		}
		l.reads.Add(1)
		src := sourceOOB(oob[:oobn], replyOOB)
		if reply := l.fast(buf[:n], out, time.Now()); reply != nil {
			if _, _, err := l.conn.WriteMsgUDPAddrPort(reply, src, addr); err != nil {
				l.writeFailed(err)
			}
			continue
		}
		if !l.slow(buf[:n], addr, src) {
			return nil
		}
	}
}

// readFailed tells the loop what a failed read means: read again after a
// deadline, stop with nil once stopping, or stop with the error.
func readFailed(err error, stopping func() bool) (again bool, _ error) {
	switch {
	case stopping():
		return false, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return true, nil
	}
	return false, err
}

// fast returns the fast path's reply to req, written into out, or nil.
func (l *udpLoop) fast(req, out []byte, start time.Time) []byte {
	if l.h == nil {
		return nil
	}
	if reply, ok := l.h.fastReply(req, out[:0], false, start); ok {
		return reply
	}
	return nil
}

// writeFailed counts and logs a reply the loop could not send.
func (l *udpLoop) writeFailed(err error) {
	var m *Metrics
	if l.h != nil {
		m = l.h.metrics
	}
	m.writeFailed(true, err)
}

// slow hands a query the fast path did not answer to the dns.Server behind
// the pipe, with copies of its bytes and of the control message its reply
// needs; false once that server has stopped.
func (l *udpLoop) slow(req []byte, addr netip.AddrPort, src []byte) bool {
	if len(req) < headerLen || req[2]&0x80 != 0 {
		return true // too short to answer, or a response: dns.Server would ignore it too
	}
	return l.pipe.put(packet{data: append([]byte(nil), req...), addr: addr, oob: append([]byte(nil), src...)})
}

// stop ends run and waits for it.
func (l *udpLoop) stop() {
	_ = l.conn.SetReadDeadline(time.Unix(1, 0))
	<-l.done
}

// packet is a query for the dns.Server: its bytes, the client, and the
// control message that makes the reply leave from the address it was sent to.
type packet struct {
	data []byte
	addr netip.AddrPort
	oob  []byte
}

// pipeConn is the net.PacketConn the dns.Server behind a udpLoop reads from.
// Clients are *net.UDPAddr, as handlers expect from any UDP server; each
// read's address is a new one, the key to its reply's control message.
type pipeConn struct {
	conn      *net.UDPConn
	queue     chan packet
	closed    chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	oob     map[*net.UDPAddr][]byte // queries read and not answered yet
	pending int                     // bound of oob: maxPending, lower in tests
}

// maxPending bounds the replies the pipe waits for; a handler that never
// replies would otherwise leave entries behind.
const maxPending = 1 << 14

func newPipeConn(conn *net.UDPConn) *pipeConn {
	return &pipeConn{conn: conn, queue: make(chan packet, 256), closed: make(chan struct{}),
		oob: map[*net.UDPAddr][]byte{}, pending: maxPending}
}

// put queues a packet for the server; false once the pipe is closed.
func (p *pipeConn) put(pk packet) bool {
	select {
	case p.queue <- pk:
		return true
	case <-p.closed:
		return false
	}
}

// ReadFrom returns the next queued packet.
func (p *pipeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case pk := <-p.queue:
		addr := net.UDPAddrFromAddrPort(pk.addr)
		if len(pk.oob) > 0 {
			p.mu.Lock()
			if len(p.oob) >= p.pending {
				clear(p.oob) // those replies leave from the address the kernel picks
			}
			p.oob[addr] = pk.oob
			p.mu.Unlock()
		}
		return copy(b, pk.data), addr, nil
	case <-p.closed:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

// WriteTo replies through the socket.
func (p *pipeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	a, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errors.New("server: reply to an address the pipe did not read from")
	}
	p.mu.Lock()
	oob := p.oob[a]
	delete(p.oob, a)
	p.mu.Unlock()
	n, _, err := p.conn.WriteMsgUDP(b, oob, a)
	return n, err
}

// Close ends reads; the socket itself belongs to the Listeners.
func (p *pipeConn) Close() error {
	p.closeOnce.Do(func() { close(p.closed) })
	return nil
}

func (p *pipeConn) LocalAddr() net.Addr { return p.conn.LocalAddr() }

// SetReadDeadline in the past is how dns.Server stops a reader: it closes the
// pipe. Other deadlines are not needed: reads end when the pipe closes.
func (p *pipeConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && t.Before(time.Now()) {
		return p.Close()
	}
	return nil
}

func (p *pipeConn) SetDeadline(t time.Time) error    { return p.SetReadDeadline(t) }
func (p *pipeConn) SetWriteDeadline(time.Time) error { return nil }
