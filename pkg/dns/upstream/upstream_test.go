package upstream

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	dnsserver "github.com/kubedns-go/kube-dns/pkg/dns/server"
)

// server is a real DNS server on loopback that answers every A query with ip,
// or with rcode when it is not NOERROR.
type server struct {
	addr    string
	queries atomic.Int32
}

func startServer(t *testing.T, ip string, rcode int, bigAnswer bool) *server {
	t.Helper()
	s := &server{}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		s.queries.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		m.Rcode = rcode
		if rcode == dns.RcodeSuccess && r.Question[0].Qtype == dns.TypeA {
			n := 1
			if bigAnswer {
				n = 60
			}
			for i := range n {
				rr, _ := dns.NewRR(r.Question[0].Name + " 60 IN A " + ip)
				rr.(*dns.A).A[3] += byte(i)
				m.Answer = append(m.Answer, rr)
			}
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncate(dns.MinMsgSize)
		}
		_ = w.WriteMsg(m)
	})
	l, err := dnsserver.Listen("127.0.0.1:0", h, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Shutdown(context.Background()) })
	s.addr = l.Addr()
	return s
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func query(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	return m
}

func TestForward(t *testing.T) {
	good := startServer(t, "192.0.2.1", dns.RcodeSuccess, false)
	other := startServer(t, "192.0.2.2", dns.RcodeSuccess, false)
	failing := startServer(t, "", dns.RcodeServerFailure, false)
	big := startServer(t, "192.0.2.100", dns.RcodeSuccess, true)
	dead := deadAddr(t)
	tests := []struct {
		name    string
		servers Servers
		qname   string
		wantA   string // first answer; "" for an error
		rcode   int
	}{
		{name: "first upstream answers", servers: Servers{Upstreams: []string{good.addr, other.addr}}, qname: "example.com.", wantA: "192.0.2.1"},
		{name: "fails over a dead server", servers: Servers{Upstreams: []string{dead, good.addr}}, qname: "example.com.", wantA: "192.0.2.1"},
		{name: "fails over SERVFAIL", servers: Servers{Upstreams: []string{failing.addr, other.addr}}, qname: "example.com.", wantA: "192.0.2.2"},
		{name: "only SERVFAIL is relayed", servers: Servers{Upstreams: []string{failing.addr}}, qname: "example.com.", rcode: dns.RcodeServerFailure},
		{name: "every server down", servers: Servers{Upstreams: []string{dead, deadAddr(t)}}, qname: "example.com."},
		{name: "no servers", servers: Servers{}, qname: "example.com."},
		{name: "stub domain", servers: Servers{Upstreams: []string{good.addr}, Stubs: map[string][]string{"acme.local": {other.addr}}}, qname: "db.ACME.local.", wantA: "192.0.2.2"},
		{name: "longest stub wins", servers: Servers{Upstreams: []string{good.addr}, Stubs: map[string][]string{"local.": {good.addr}, "acme.local": {other.addr}}}, qname: "x.acme.local.", wantA: "192.0.2.2"},
		{name: "not in the stub", servers: Servers{Upstreams: []string{good.addr}, Stubs: map[string][]string{"acme.local": {other.addr}}}, qname: "notacme.local.", wantA: "192.0.2.1"},
		{name: "truncated UDP retried over TCP", servers: Servers{Upstreams: []string{big.addr}}, qname: "big.example.", wantA: "192.0.2.100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.servers, 500*time.Millisecond)
			reply, err := r.Forward(context.Background(), query(tt.qname))
			switch {
			case tt.wantA == "" && tt.rcode == 0:
				if err == nil {
					t.Fatalf("want an error, got %v", reply)
				}
			case err != nil:
				t.Fatal(err)
			case reply.Rcode != tt.rcode:
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[reply.Rcode], dns.RcodeToString[tt.rcode])
			case tt.wantA != "" && (len(reply.Answer) == 0 || reply.Answer[0].(*dns.A).A.String() != tt.wantA):
				t.Fatalf("answer %v, want %s", reply.Answer, tt.wantA)
			}
		})
	}
	if n := big.queries.Load(); n != 2 {
		t.Errorf("the big server got %d queries, want 2 (UDP then TCP)", n)
	}
}

func TestLookupAndSet(t *testing.T) {
	one := startServer(t, "192.0.2.1", dns.RcodeSuccess, false)
	two := startServer(t, "192.0.2.2", dns.RcodeSuccess, false)
	r := New(Servers{Upstreams: []string{one.addr}}, time.Second)
	if rrs := r.Lookup(context.Background(), "target.example.com", dns.TypeA); len(rrs) != 1 || rrs[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Fatalf("Lookup: %v", rrs)
	}
	r.Set(Servers{Upstreams: []string{two.addr}})
	if rrs := r.Lookup(context.Background(), "target.example.com", dns.TypeA); len(rrs) != 1 || rrs[0].(*dns.A).A.String() != "192.0.2.2" {
		t.Fatalf("Lookup after Set: %v", rrs)
	}
	r.Set(Servers{Upstreams: []string{deadAddr(t)}})
	if rrs := r.Lookup(context.Background(), "target.example.com", dns.TypeA); rrs != nil {
		t.Fatalf("Lookup with every server down: %v", rrs)
	}
}
