package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestLoopback(t *testing.T) {
	for range 50 {
		p, err := Loopback()
		if err != nil {
			t.Fatal(err)
		}
		if p < low || p >= high {
			t.Fatalf("port %d outside [%d, %d)", p, low, high)
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			t.Fatalf("port %d is not free for TCP: %v", p, err)
		}
		l.Close()
	}
}

func TestLoopbackIP(t *testing.T) {
	for _, n := range []byte{1, 2, 7} {
		ip := LoopbackIP(n)
		if ip != "127.0.0.1" && ip != net.IPv4(127, 0, 0, n).String() {
			t.Errorf("LoopbackIP(%d) = %s", n, ip)
		}
		pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
		if err != nil {
			t.Fatalf("LoopbackIP(%d) = %s, which cannot be bound: %v", n, ip, err)
		}
		pc.Close()
	}
}
