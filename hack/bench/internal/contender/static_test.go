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

func TestStatic(t *testing.T) {
	for _, mmsg := range []bool{false, true} {
		t.Run(fmt.Sprint("mmsg=", mmsg), func(t *testing.T) {
			ports, err := proc.FreePorts(1)
			if err != nil {
				t.Fatal(err)
			}
			addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- serveStatic(ctx, addr, mmsg) }()
			for _, network := range []string{"udp", "tcp"} {
				c := &dns.Client{Net: network, Timeout: time.Second}
				for i := range 20 { // several source ports: every socket gets some
					name := fmt.Sprintf("q%d.example.", i)
					r, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
					for try := 0; err != nil && i == 0 && try < 50; try++ { // not listening yet
						time.Sleep(20 * time.Millisecond)
						r, _, err = c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
					}
					if err != nil {
						t.Fatalf("%s %s: %v", network, name, err)
					}
					if len(r.Answer) != 1 || !r.Authoritative {
						t.Fatalf("%s %s: %v", network, name, r)
					}
					if a, ok := r.Answer[0].(*dns.A); !ok || !a.A.Equal(staticIP) || a.Hdr.Name != name {
						t.Fatalf("%s %s: answer %v", network, name, r.Answer[0])
					}
				}
			}
			// A datagram that is not DNS is dropped, and the socket keeps answering.
			if u, err := net.Dial("udp", addr); err == nil {
				u.Write([]byte{1, 2, 3})
				u.Close()
			}
			if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(new(dns.Msg).SetQuestion("after.", dns.TypeA), addr); err != nil {
				t.Errorf("after garbage: %v", err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serveStatic: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Error("did not stop within 5s")
			}
		})
	}
}
