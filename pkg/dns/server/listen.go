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
	loop     *udpLoop    // reads the UDP socket; answers plain queries itself
	udp, tcp *dns.Server // udp serves what loop hands over
	addr     net.Addr    // the UDP address, port resolved
	done     chan error
	stopping atomic.Bool
	stopOnce sync.Once
}

// Listen binds UDP and TCP on addr (host:port; port 0 picks a free port, the
// same for both where possible) and starts serving h. Bind errors are returned
// here, not later.
func Listen(addr string, h dns.Handler) (*Listeners, error) {
	pc, ln, err := bindPair(addr)
	if err != nil {
		return nil, err
	}
	l := &Listeners{addr: pc.LocalAddr(), done: make(chan error, 3)}
	l.loop = newUDPLoop(pc, h)
	var started sync.WaitGroup
	started.Add(2)
	l.udp = &dns.Server{PacketConn: l.loop.pipe, Handler: h, UDPSize: maxUDPSize, NotifyStartedFunc: started.Done}
	// A client may keep one TCP connection for any number of queries
	// (miekg/dns closes it after 128 by default, losing those in flight).
	l.tcp = &dns.Server{Listener: ln, Handler: h, NotifyStartedFunc: started.Done, MaxTCPQueries: -1}
	go func() { l.done <- l.udp.ActivateAndServe() }()
	go func() { l.done <- l.tcp.ActivateAndServe() }()
	started.Wait()
	go func() {
		if err := l.loop.run(l.stopping.Load); err != nil {
			l.done <- fmt.Errorf("server: read udp %s: %w", l.addr, err)
		}
	}()
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
		l.loop.stop() // no new queries; those handed over are drained below
		defer l.loop.conn.Close()
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

// bindPair binds UDP and TCP on addr. With port 0, the TCP port is the one
// picked for UDP; when another socket holds it on TCP, a new pair is tried.
func bindPair(addr string) (*net.UDPConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for attempt := 0; ; attempt++ {
		pc, err := listenUDP(addr)
		if err != nil {
			return nil, nil, fmt.Errorf("server: listen udp %s: %w", addr, err)
		}
		tcpAddr := addr
		if port == "0" {
			_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
			tcpAddr = net.JoinHostPort(host, p)
		}
		ln, err := net.Listen("tcp", tcpAddr)
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" || attempt == 20 {
			return nil, nil, fmt.Errorf("server: listen tcp %s: %w", tcpAddr, err)
		}
	}
}

func listenUDP(addr string) (*net.UDPConn, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, err
	}
	return pc.(*net.UDPConn), nil
}
