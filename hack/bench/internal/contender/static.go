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

	"github.com/kubedns-go/kube-dns/pkg/dns/server"
)

// staticIP is the one address the static servers answer with.
var staticIP = net.IPv4(192, 0, 2, 53).To4()

// staticReply is the reply to r: its question echoed and, for one
// question, one A record of staticIP.
func staticReply(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) == 1 {
		m.Answer = []dns.RR{&dns.A{
			Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30},
			A:   staticIP,
		}}
	}
	return m
}

// RunStatic runs the static-answer server mode ("static" or "static-mmsg")
// with its flags (-addr).
func RunStatic(mode string, args []string) error {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError) // -addr and --addr alike
	addr := fs.String("addr", "127.0.0.1:10053", "UDP and TCP address to answer on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return serveStatic(ctx, *addr, mode == "static-mmsg")
}

// serveStatic answers every query, until ctx ends, with the question echoed
// and one fixed A record, by miekg/dns on TCP. On UDP, static is miekg/dns's
// server: the fastest a miekg/dns server can be here. static-mmsg (mmsg)
// has the kernel's fastest plain UDP path: one SO_REUSEPORT socket per CPU,
// each read by its own goroutine in batches (recvmmsg) and answered in
// batches (sendmmsg) through golang.org/x/net/ipv4; the replies are packed
// by miekg/dns as in static, so the two differ only in how datagrams come
// and go.
func serveStatic(ctx context.Context, addr string, mmsg bool) error {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { _ = w.WriteMsg(staticReply(r)) })
	servers := []*dns.Server{{Addr: addr, Net: "tcp", Handler: handler}}
	var conns []net.PacketConn
	if mmsg {
		var err error
		if conns, err = listenReusePort(ctx, addr, runtime.NumCPU()); err != nil {
			return err
		}
	} else {
		servers = append(servers, &dns.Server{Addr: addr, Net: "udp", Handler: handler})
	}
	errs := make(chan error, len(conns)+len(servers))
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { serveBatches(c) })
	}
	for _, s := range servers {
		go func() { errs <- s.ListenAndServe() }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	for _, c := range conns {
		c.Close()
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.ShutdownContext(sctx)
	}
	wg.Wait()
	return err
}

// listenReusePort opens n UDP sockets on addr with SO_REUSEPORT.
func listenReusePort(ctx context.Context, addr string, n int) ([]net.PacketConn, error) {
	lc := net.ListenConfig{Control: server.ReusePort}
	var conns []net.PacketConn
	for range n {
		c, err := lc.ListenPacket(ctx, "udp4", addr)
		if err != nil { // the server ends: the sockets close with it
			return nil, fmt.Errorf("listen %s with SO_REUSEPORT: %w", addr, err)
		}
		conns = append(conns, c)
	}
	return conns, nil
}

// mmsgBatch is how many datagrams one recvmmsg or sendmmsg takes at most.
const mmsgBatch = 32

// serveBatches answers the queries of one socket until it is closed: read
// up to mmsgBatch datagrams, answer each, write the answers in one go.
func serveBatches(c net.PacketConn) {
	p := ipv4.NewPacketConn(c)
	in, out := make([]ipv4.Message, mmsgBatch), make([]ipv4.Message, mmsgBatch)
	bufs := make([][]byte, mmsgBatch) // out's buffers, whole
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, dns.DefaultMsgSize)}
		bufs[i] = make([]byte, dns.DefaultMsgSize)
		out[i].Buffers = [][]byte{nil}
	}
	for {
		n, err := p.ReadBatch(in, 0)
		if errors.Is(err, net.ErrClosed) {
			return
		} else if err != nil {
			continue // a datagram's error (ICMP) is no reason to stop
		}
		k := 0
		for _, m := range in[:n] {
			req := new(dns.Msg)
			if req.Unpack(m.Buffers[0][:m.N]) != nil {
				continue
			}
			if b, err := staticReply(req).PackBuffer(bufs[k]); err == nil {
				out[k].Buffers[0], out[k].Addr = b, m.Addr
				k++
			}
		}
		for sent := 0; sent < k; {
			w, err := p.WriteBatch(out[sent:k], 0)
			if err != nil {
				break
			}
			sent += w
		}
	}
}
