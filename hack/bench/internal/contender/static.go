package contender

import (
	"context"
	"errors"
	"flag"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// staticIP is the one address the static server answers with.
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

var staticHandler = dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) { _ = w.WriteMsg(staticReply(r)) })

// RunStatic answers every query, on UDP and TCP, with the question echoed and
// one fixed A record: the fastest a miekg/dns server can be on this machine.
func RunStatic(args []string) error {
	fs := flag.NewFlagSet("static", flag.ContinueOnError) // -addr and --addr alike
	addr := fs.String("addr", "127.0.0.1:10053", "UDP and TCP address to answer on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	errs := make(chan error, 2)
	var servers []*dns.Server
	for _, network := range []string{"udp", "tcp"} {
		s := &dns.Server{Addr: *addr, Net: network, Handler: staticHandler}
		servers = append(servers, s)
		go func() { errs <- s.ListenAndServe() }()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.ShutdownContext(sctx)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}
