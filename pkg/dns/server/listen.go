package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/miekg/dns"
)

// Listeners serve one dns.Handler on UDP and TCP at the same address.
type Listeners struct {
	loops    []*udpLoop  // one per UDP socket; each answers plain queries itself
	udp, tcp *dns.Server // udp serves what the loops hand over
	addr     net.Addr    // the UDP address, port resolved
	done     chan error
	stopping atomic.Bool // set first in Shutdown; read by the UDP loops and TCP reads
	stopOnce sync.Once
}

// ListenOptions is what Listen takes beyond the address and the handler.
type ListenOptions struct {
	// UDPSockets is how many UDP sockets share the address, each read by
	// its own loop (0: one per CPU the process may use, GOMAXPROCS; more
	// than one only on Linux, see reuseport_linux.go).
	UDPSockets int
	// TCP bounds the connections and their timeouts.
	TCP TCPConfig
	// Metrics, when not nil, counts the TCP connections.
	Metrics *Metrics
}

// Listen binds UDP and TCP on addr (host:port; port 0 picks a free port, the
// same for both where possible) and starts serving h, with udpSockets UDP
// sockets and the default TCP timeouts, no limit on TCP connections.
func Listen(addr string, h dns.Handler, udpSockets int) (*Listeners, error) {
	return ListenWith(addr, h, ListenOptions{UDPSockets: udpSockets})
}

// ListenWith is Listen with options. Bind errors are returned here, not later.
func ListenWith(addr string, h dns.Handler, o ListenOptions) (*Listeners, error) {
	conns, ln, err := bindPair(addr, socketCount(o.UDPSockets))
	if err != nil {
		return nil, err
	}
	l := &Listeners{addr: conns[0].LocalAddr(), done: make(chan error, 2+len(conns))}
	// The dns.Server behind the loops replies through the first socket:
	// every socket of the group is bound to the same address.
	pipe := newPipeConn(conns[0])
	for _, c := range conns {
		l.loops = append(l.loops, newUDPLoop(c, pipe, h))
	}
	var started sync.WaitGroup
	started.Add(2)
	l.udp = &dns.Server{PacketConn: pipe, Handler: h, UDPSize: maxUDPSize, NotifyStartedFunc: started.Done}
	l.tcp = newTCPListener(ln, o.TCP, o.Metrics, &l.stopping).server(h, started.Done)
	go func() { l.done <- l.udp.ActivateAndServe() }()
	go func() { l.done <- l.tcp.ActivateAndServe() }()
	started.Wait()
	for _, loop := range l.loops {
		go func() {
			if err := loop.run(l.stopping.Load); err != nil {
				l.done <- fmt.Errorf("server: read udp %s: %w", l.addr, err)
			}
		}()
	}
	return l, nil
}

// Addr returns the bound address, e.g. "127.0.0.1:10053".
func (l *Listeners) Addr() string { return l.addr.String() }

// Done receives an error when a listener stops on its own.
func (l *Listeners) Done() <-chan error { return l.done }

// Shutdown stops accepting queries and waits for the ones in flight, until ctx ends.
func (l *Listeners) Shutdown(ctx context.Context) error {
	var err error
	l.stopOnce.Do(func() {
		l.stopping.Store(true)
		for _, loop := range l.loops {
			loop.stop() // no new queries; those handed over are drained below
			defer loop.conn.Close()
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, s := range []*dns.Server{l.udp, l.tcp} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.ShutdownContext(ctx)
			}()
		}
		wg.Wait()
		err = errors.Join(errs...)
	})
	return err
}

// bindPair binds n UDP sockets (a SO_REUSEPORT group when n > 1) and TCP on
// addr. With port 0, the TCP port is the one picked for UDP; when another
// socket holds it on TCP, a new set is tried. TCP, bound without
// SO_REUSEPORT, is also what keeps two servers of one user from sharing a
// port: a second kubedns (or Listen) on a taken address joins the first's UDP
// group but fails on TCP, and gives the UDP sockets back.
func bindPair(addr string, n int) ([]*net.UDPConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		conns, err := listenUDP(addr, n)
		if err != nil {
			return nil, nil, fmt.Errorf("server: listen udp %s: %w", addr, err)
		}
		tcpAddr := addr
		if port == "0" {
			_, p, _ := net.SplitHostPort(conns[0].LocalAddr().String())
			tcpAddr = net.JoinHostPort(host, p)
		}
		ln, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return conns, ln, nil
		}
		closeAll(conns)
		if port != "0" || attempt == 20 {
			return nil, nil, fmt.Errorf("server: listen tcp %s: %w", tcpAddr, err)
		}
	}
}

// listenUDP binds n UDP sockets on addr; the first picks the port when addr's
// is 0, the others join it.
func listenUDP(addr string, n int) ([]*net.UDPConn, error) {
	lc := net.ListenConfig{}
	if n > 1 {
		lc.Control = ReusePort
	}
	var conns []*net.UDPConn
	for len(conns) < n {
		pc, err := lc.ListenPacket(context.Background(), "udp", addr)
		if err != nil {
			closeAll(conns)
			return nil, err
		}
		conns = append(conns, pc.(*net.UDPConn))
		addr = pc.LocalAddr().String()
	}
	return conns, nil
}

func closeAll(conns []*net.UDPConn) {
	for _, c := range conns {
		c.Close()
	}
}
