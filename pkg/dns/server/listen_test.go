package server

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

func startListeners(t *testing.T, h dns.Handler) string {
	t.Helper()
	l, err := Listen("127.0.0.1:0", h, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := l.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return l.Addr()
}

// TestAnswersOverSockets runs the whole answer table through real UDP and TCP sockets.
func TestAnswersOverSockets(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), fixture())))
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		for _, tc := range answerCases {
			t.Run(network+"/"+tc.String(), func(t *testing.T) {
				resp, _, err := c.Exchange(tc.Msg(), addr)
				if err != nil {
					t.Fatal(err)
				}
				if err := dnstest.Check(resp, tc); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// bigFixture is a headless Service with enough endpoints to overflow 512 bytes.
func bigFixture(n int) []fixtureService {
	var eps []records.Endpoint
	for i := range n {
		eps = append(eps, ep("", true, fmt.Sprintf("10.5.%d.%d", i/250, i%250+1)))
	}
	return append(fixture(), fixtureService{
		svc:  records.Service{Namespace: "ns1", Name: "big", Kind: records.Headless},
		sets: []records.EndpointSet{{Ports: []records.Port{tcp("http", 80)}, Endpoints: eps}},
	})
}

func TestTruncationAndEDNS(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), bigFixture(100))))
	const name = "big.ns1.svc.cluster.local."
	tests := []struct {
		name      string
		network   string
		edns      uint16 // 0: no OPT
		truncated bool
		answers   int // exact when not truncated
		maxSize   int
	}{
		{name: "udp without EDNS fits 512", network: "udp", truncated: true, maxSize: 512},
		{name: "udp with EDNS 1232", network: "udp", edns: 1232, truncated: true, maxSize: 1232},
		{name: "udp with EDNS 4096 fits all", network: "udp", edns: 4096, answers: 100, maxSize: 4096},
		{name: "tcp carries everything", network: "tcp", answers: 100, maxSize: 65535},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(name, dns.TypeA)
			if tt.edns > 0 {
				q.SetEdns0(tt.edns, false)
			}
			wire, err := rawExchange(tt.network, addr, q)
			if err != nil {
				t.Fatal(err)
			}
			resp := new(dns.Msg)
			if err := resp.Unpack(wire); err != nil {
				t.Fatal(err)
			}
			if len(wire) > tt.maxSize {
				t.Errorf("reply is %d bytes, limit %d", len(wire), tt.maxSize)
			}
			if resp.Truncated != tt.truncated {
				t.Errorf("TC=%v, want %v", resp.Truncated, tt.truncated)
			}
			if !tt.truncated && len(resp.Answer) != tt.answers {
				t.Errorf("%d answers, want %d", len(resp.Answer), tt.answers)
			}
			if opt := resp.IsEdns0(); (opt != nil) != (tt.edns > 0) {
				t.Errorf("OPT in reply: %v, want %v", opt != nil, tt.edns > 0)
			}
		})
	}
}

// rawExchange sends q and returns the reply exactly as it came off the wire.
func rawExchange(network, addr string, q *dns.Msg) ([]byte, error) {
	out, err := q.Pack()
	if err != nil {
		return nil, err
	}
	return rawExchangeBytes(network, addr, out)
}

// rawExchangeBytes sends a packed query, well-formed or not, and returns the raw reply.
func rawExchangeBytes(network, addr string, out []byte) ([]byte, error) {
	conn, err := net.Dial(network, addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if network == "udp" {
		if _, err := conn.Write(out); err != nil {
			return nil, err
		}
		buf := make([]byte, 65535)
		n, err := conn.Read(buf)
		return buf[:n], err
	}
	if _, err := conn.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...)); err != nil {
		return nil, err
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, err
	}
	buf := make([]byte, int(l[0])<<8|int(l[1]))
	_, err = io.ReadFull(conn, buf)
	return buf, err
}

// TestWildcardBindRepliesFromQueriedAddress binds every address and queries
// loopback: the client's connected socket only accepts a reply sent from the
// address it queried, on the fast path and on the general one.
func TestWildcardBindRepliesFromQueriedAddress(t *testing.T) {
	l, err := Listen(":0", newTestHandler(buildSnapshot(testConfig(), fixture())), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Shutdown(context.Background()) }()
	_, port, _ := net.SplitHostPort(l.Addr())
	targets := []string{"127.0.0.1", "127.0.0.2"}
	if c, err := net.ListenPacket("udp6", "[::1]:0"); err == nil {
		c.Close()
		targets = append(targets, "::1")
	}
	c := &dns.Client{Timeout: 2 * time.Second}
	for _, host := range targets {
		for _, q := range []*dns.Msg{
			query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil),   // fast path
			query("*.default.svc.cluster.local.", dns.TypeA, nil),          // general path
			query("My-Nginx.default.svc.cluster.local.", dns.TypeANY, nil), // general path
		} {
			resp, _, err := c.Exchange(q, net.JoinHostPort(host, port))
			if err != nil {
				t.Fatalf("%s %s: %v", host, q.Question[0].Name, err)
			}
			if len(resp.Answer) == 0 || resp.Answer[0].Header().Name != q.Question[0].Name {
				t.Errorf("%s %s: answer %v", host, q.Question[0].Name, resp.Answer)
			}
		}
	}
}

// TestPipeForgetsUnansweredQueries checks that a handler that never replies
// cannot make the pipe hold on to the control messages of its queries.
func TestPipeForgetsUnansweredQueries(t *testing.T) {
	var seen atomic.Int64
	l, err := Listen(":0", dns.HandlerFunc(func(dns.ResponseWriter, *dns.Msg) { seen.Add(1) }), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Shutdown(context.Background()) }()
	const bound = 50
	l.loops[0].pipe.mu.Lock()
	l.loops[0].pipe.pending = bound
	l.loops[0].pipe.mu.Unlock()
	_, port, _ := net.SplitHostPort(l.Addr())
	c, err := net.Dial("udp", net.JoinHostPort("127.0.0.1", port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, _ := query("x.example.", dns.TypeA, nil).Pack()
	for sent := int64(1); sent <= 4*bound; sent++ {
		if _, err := c.Write(q); err != nil {
			t.Fatal(err)
		}
		// One at a time, so that loopback drops none.
		if poll(5*time.Second, func() bool { return seen.Load() >= sent }) != nil {
			t.Fatalf("query %d never reached the handler", sent)
		}
		l.loops[0].pipe.mu.Lock()
		n := len(l.loops[0].pipe.oob)
		l.loops[0].pipe.mu.Unlock()
		if n > bound {
			t.Fatalf("after %d unanswered queries the pipe remembers %d, bound %d", sent, n, bound)
		}
	}
}

// TestBurstIsAnsweredInFull sends many queries before reading any reply, so
// that the loop reads them in batches (recvmmsg on Linux), mixing the fast
// path, the general path (ANY, a wildcard) and a datagram too long for a
// batch slot, which is dropped without disturbing the others.
func TestBurstIsAnsweredInFull(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), fixture())))
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.(*net.UDPConn).SetReadBuffer(1 << 20); err != nil {
		t.Fatal(err)
	}
	names := []string{"my-nginx.default.svc.cluster.local.", "_http._tcp.hl.ns1.svc.cluster.local.",
		"nope.default.svc.cluster.local.", "*.default.svc.cluster.local."}
	const n = 200
	want := map[uint16]string{}
	for i := range n {
		m := new(dns.Msg)
		qtype := dns.TypeA
		switch i % 5 {
		case 1:
			qtype = dns.TypeSRV
		case 4:
			qtype = dns.TypeANY
		}
		m.SetQuestion(names[i%len(names)], qtype)
		m.Id = uint16(i + 1)
		b, _ := m.Pack()
		if i == n/2 {
			// Longer than a batch slot; ID 0, as no other query has.
			huge := append(append([]byte(nil), b...), make([]byte, 10000)...)
			huge[0], huge[1] = 0, 0
			if _, err := conn.Write(huge); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := conn.Write(b); err != nil {
			t.Fatal(err)
		}
		want[m.Id] = m.Question[0].Name
	}
	buf := make([]byte, 65535)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(want) > 0 {
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("%d queries unanswered: %v", len(want), err)
		}
		var r dns.Msg
		if err := r.Unpack(buf[:k]); err != nil {
			t.Fatal(err)
		}
		if r.Id == 0 {
			continue // the long datagram, where it is read whole and answered
		}
		name, ok := want[r.Id]
		if !ok || len(r.Question) != 1 || r.Question[0].Name != name {
			t.Fatalf("unexpected reply %d for %v", r.Id, r.Question)
		}
		delete(want, r.Id)
	}
}
