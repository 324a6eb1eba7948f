package server

import (
	"net"
	"testing"

	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// BenchmarkBatchRead compares the loop's recvmmsg (batch.read) with
// golang.org/x/net/ipv4's ReadBatch, which does the same system call through
// x/net's portable messages: each op reads one batch of batchSize queries
// sent over loopback (the sends are the same for both). See the package
// doc for why the loop keeps its own.
func BenchmarkBatchRead(b *testing.B) {
	query, err := query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil).Pack()
	if err != nil {
		b.Fatal(err)
	}
	setup := func(b *testing.B) (*net.UDPConn, *ipv4.PacketConn, []ipv4.Message) {
		srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		if err := srv.SetReadBuffer(4 << 20); err != nil {
			b.Fatal(err)
		}
		cl, err := net.DialUDP("udp4", nil, srv.LocalAddr().(*net.UDPAddr))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cl.Close() })
		out := make([]ipv4.Message, batchSize)
		for i := range out {
			out[i].Buffers = [][]byte{query}
		}
		return srv, ipv4.NewPacketConn(cl), out
	}
	send := func(b *testing.B, cl *ipv4.PacketConn, out []ipv4.Message) {
		for sent := 0; sent < len(out); {
			n, err := cl.WriteBatch(out[sent:], 0)
			if err != nil {
				b.Fatal(err)
			}
			sent += n
		}
	}

	b.Run("recvmmsg", func(b *testing.B) {
		srv, cl, out := setup(b)
		rc, err := srv.SyscallConn()
		if err != nil {
			b.Fatal(err)
		}
		batch := newBatch()
		b.ReportAllocs()
		for b.Loop() {
			send(b, cl, out)
			for got := 0; got < batchSize; {
				n, err := batch.read(rc)
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
	})
	b.Run("x-net-ReadBatch", func(b *testing.B) {
		srv, cl, out := setup(b)
		pc := ipv4.NewPacketConn(srv)
		if err := pc.SetControlMessage(ipv4.FlagDst|ipv4.FlagInterface, true); err != nil {
			b.Fatal(err)
		}
		in := make([]ipv4.Message, batchSize)
		for i := range in {
			in[i].Buffers = [][]byte{make([]byte, slotSize)}
			in[i].OOB = ipv4.NewControlMessage(ipv4.FlagDst | ipv4.FlagInterface)
		}
		b.ReportAllocs()
		for b.Loop() {
			send(b, cl, out)
			for got := 0; got < batchSize; {
				n, err := pc.ReadBatch(in[got:], 0)
				if err != nil {
					b.Fatal(err)
				}
				got += n
			}
		}
	})
}
