package contender

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// RunStaticMMsg is the static server with the kernel's fastest plain UDP
// path: one SO_REUSEPORT socket per CPU, so the kernel spreads the queries
// over them, each read by its own goroutine in batches (recvmmsg) and
// answered in batches (sendmmsg), through golang.org/x/net/ipv4. The
// replies are unpacked and packed by miekg/dns as in static: the two
// differ in how datagrams reach the socket and go back, not in the work on
// each one. TCP is miekg/dns's server, as in static.
func RunStaticMMsg(args []string) error {
	fs := flag.NewFlagSet("static-mmsg", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:10053", "UDP and TCP address to answer on")
	sockets := fs.Int("sockets", runtime.NumCPU(), "UDP sockets, one goroutine each")
	batch := fs.Int("batch", 32, "datagrams read or written by one system call at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sockets < 1 || *batch < 1 {
		return errors.New("sockets and batch must be positive")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serveStaticMMsg(ctx, *addr, *sockets, *batch, nil)
}

// serveStaticMMsg serves until ctx ends; ready, when set, is closed once
// every socket listens.
func serveStaticMMsg(ctx context.Context, addr string, sockets, batch int, ready chan<- struct{}) error {
	conns, err := listenReusePort(ctx, addr, sockets)
	if err != nil {
		return err
	}
	errs := make(chan error, len(conns)+1)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := serveBatches(c, batch); err != nil {
				errs <- err
			}
		}()
	}
	tcp := &dns.Server{Addr: addr, Net: "tcp", Handler: staticHandler}
	if ready != nil {
		tcp.NotifyStartedFunc = func() { close(ready) }
	}
	go func() { errs <- tcp.ListenAndServe() }()
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	for _, c := range conns {
		c.Close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = tcp.ShutdownContext(sctx)
	wg.Wait()
	return err
}

// listenReusePort opens n UDP sockets on addr with SO_REUSEPORT.
func listenReusePort(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	var conns []net.PacketConn
	for range n {
		c, err := lc.ListenPacket(ctx, "udp4", addr)
		if err != nil {
			for _, o := range conns {
				o.Close()
			}
			return nil, fmt.Errorf("listen %s with SO_REUSEPORT: %w", addr, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// serveBatches answers the queries of one socket until it is closed: read
// up to size datagrams, answer each, write the answers in one go.
func serveBatches(c net.PacketConn, size int) error {
	p := ipv4.NewPacketConn(c)
	in, out := make([]ipv4.Message, size), make([]ipv4.Message, size)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, dns.DefaultMsgSize)}
		out[i].Buffers = [][]byte{make([]byte, dns.DefaultMsgSize)}
	}
	bufs := make([][]byte, size) // out's buffers, whole
	for i := range out {
		bufs[i] = out[i].Buffers[0]
	}
	for {
		n, err := p.ReadBatch(in, 0)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue // a datagram's error (ICMP) is no reason to stop
		}
		k := 0
		for _, m := range in[:n] {
			req := new(dns.Msg)
			if req.Unpack(m.Buffers[0][:m.N]) != nil {
				continue
			}
			b, err := staticReply(req).PackBuffer(bufs[k])
			if err != nil {
				continue
			}
			out[k].Buffers[0], out[k].Addr = b, m.Addr
			k++
		}
		for sent := 0; sent < k; {
			w, err := p.WriteBatch(out[sent:k], 0)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return nil
				}
				break
			}
			sent += w
		}
	}
}
