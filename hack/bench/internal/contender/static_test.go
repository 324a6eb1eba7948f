package contender

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

func TestStaticMMsg(t *testing.T) {
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- serveStaticMMsg(ctx, addr, 2, 8, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("not ready after 5s")
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		for i := range 20 { // several source ports: both sockets get some
			name := fmt.Sprintf("q%d.example.", i)
			r, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
			if err != nil {
				t.Fatalf("%s %s: %v", network, name, err)
			}
			if len(r.Question) != 1 || r.Question[0].Name != name || len(r.Answer) != 1 || !r.Authoritative {
				t.Fatalf("%s %s: %v", network, name, r)
			}
			if a, ok := r.Answer[0].(*dns.A); !ok || !a.A.Equal(staticIP) || a.Hdr.Name != name {
				t.Fatalf("%s %s: answer %v", network, name, r.Answer[0])
			}
		}
	}
	// A datagram that is not DNS is dropped, and the socket keeps answering.
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte{1, 2, 3})
	u.Close()
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(new(dns.Msg).SetQuestion("after.", dns.TypeA), addr); err != nil {
		t.Errorf("after garbage: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveStaticMMsg: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("did not stop within 5s")
	}
}
