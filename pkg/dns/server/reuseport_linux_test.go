package server

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestEverySocketAnswers binds one UDP socket per CPU (0) and sends from enough
// client ports that the kernel hands every socket some of them: each loop
// reads and every query is answered.
func TestEverySocketAnswers(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	l, err := Listen("127.0.0.1:0", newTestHandler(buildSnapshot(testConfig(), fixture())), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Shutdown(t.Context())
	if len(l.loops) != 4 {
		t.Fatalf("%d UDP sockets with GOMAXPROCS 4, want 4", len(l.loops))
	}
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	for k := 0; k < 256 && !allRead(l.loops); k++ {
		m := new(dns.Msg).SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
		resp, _, err := c.Exchange(m, l.Addr()) // a new client port each time
		if err != nil {
			t.Fatal(err)
		}
		if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
			t.Fatalf("reply %d: %v", k, resp)
		}
	}
	for i, loop := range l.loops {
		if loop.reads.Load() == 0 {
			t.Errorf("socket %d read nothing from 256 client ports", i)
		}
	}
}

func allRead(loops []*udpLoop) bool {
	for _, l := range loops {
		if l.reads.Load() == 0 {
			return false
		}
	}
	return true
}

// TestTakenAddressFails: a second Listen on the address of the first joins
// its UDP group but not its TCP port, so it fails and leaves the first alone.
func TestTakenAddressFails(t *testing.T) {
	first, err := Listen("127.0.0.1:0", newTestHandler(buildSnapshot(testConfig(), fixture())), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Shutdown(t.Context())
	addr := first.Addr()
	second, err := Listen(addr, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		t.Errorf("the second server got %v", r.Question)
	}), 2)
	if err == nil {
		second.Shutdown(t.Context())
		t.Fatalf("a second Listen on %s succeeded", addr)
	}
	if !strings.Contains(err.Error(), "listen tcp") {
		t.Errorf("error %q does not name the TCP bind", err)
	}
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	for k := range 64 {
		m := new(dns.Msg).SetQuestion("kubernetes.default.svc.cluster.local.", dns.TypeA)
		if resp, _, err := c.Exchange(m, addr); err != nil || len(resp.Answer) != 1 {
			t.Fatalf("query %d after the failed Listen: %v %v", k, resp, err)
		}
	}
}
