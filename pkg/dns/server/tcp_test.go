package server

import (
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnstest"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// A stub resolver or a forwarding cache may keep one TCP connection open and
// write its queries back to back: every one gets its answer, with its ID,
// whatever path answers it.
func TestTCPPipelining(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), fixture())))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	dc := &dns.Conn{Conn: conn}

	const queries = 500
	questions := []struct {
		name  string
		qtype uint16
	}{
		{"my-nginx.default.svc.cluster.local.", dns.TypeA},                 // fast path
		{"nope.default.svc.cluster.local.", dns.TypeA},                     // fast path, negative
		{"_http._tcp.hl.ns1.svc.cluster.local.", dns.TypeSRV},              // fast path, additional records
		{"my-nginx.default.svc.cluster.local.", dns.TypeANY},               // general path
		{"ext-in.ns1.svc.cluster.local.", dns.TypeA},                       // general path: a CNAME chased
		{"*.default.svc.cluster.local.", dns.TypeA},                        // general path: a wildcard
		{"10-9-8-7.default.pod.cluster.local.", dns.TypeA},                 // general path: a pod name
		{"162.32.254.10.in-addr.arpa.", dns.TypePTR},                       // fast path, reverse
		{"kube-dns.kube-system.svc.cluster.local.", dns.TypeA},             // fast path
		{"_dns._udp.kube-dns.kube-system.svc.cluster.local.", dns.TypeSRV}, // fast path
	}
	want := map[uint16]string{}
	writeErr := make(chan error, 1)
	go func() {
		for i := range queries {
			q := questions[i%len(questions)]
			m := new(dns.Msg)
			m.SetQuestion(q.name, q.qtype)
			m.Id = uint16(i + 1)
			if err := dc.WriteMsg(m); err != nil {
				writeErr <- err
				return
			}
		}
		writeErr <- nil
	}()
	for i := range queries {
		q := questions[i%len(questions)]
		want[uint16(i+1)] = q.name
	}
	got := 0
	for got < queries {
		r, err := dc.ReadMsg()
		if err != nil {
			t.Fatalf("after %d of %d replies: %v", got, queries, err)
		}
		name, ok := want[r.Id]
		if !ok {
			t.Fatalf("reply with ID %d: not asked, or answered twice", r.Id)
		}
		delete(want, r.Id)
		if len(r.Question) != 1 || r.Question[0].Name != name || r.Rcode == dns.RcodeServerFailure {
			t.Errorf("reply %d: %v", r.Id, r)
		}
		got++
	}
	if err := <-writeErr; err != nil {
		t.Fatal(err)
	}
}

// hugeFixture is a headless Service with 3,000 ready endpoints: its SRV set
// alone is larger than any DNS message.
func hugeFixture() []fixtureService {
	var eps []records.Endpoint
	for i := range 3000 {
		eps = append(eps, ep(fmt.Sprintf("web-%d", i), true, fmt.Sprintf("10.6.%d.%d", i/250, i%250+1)))
	}
	return append(fixture(), fixtureService{
		svc:  records.Service{Namespace: "ns1", Name: "huge", Kind: records.Headless},
		sets: []records.EndpointSet{{Ports: []records.Port{tcp("http", 80)}, Endpoints: eps}},
	})
}

// Every reply is a well-formed message of at most 65,535 bytes: what does
// not fit a TCP message is cut, with TC set, as over UDP.
func TestRepliesLargerThanATCPMessage(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), hugeFixture())))
	const name = "huge.ns1.svc.cluster.local."
	for _, tc := range []struct {
		name      string
		network   string
		qtype     uint16
		edns      uint16
		truncated bool
		answers   int  // when not truncated
		capped    bool // an answer of several sets: maxAnswer records
	}{
		{name: "SRV over TCP", network: "tcp", qtype: dns.TypeSRV, truncated: true},
		{name: "named SRV over TCP", network: "tcp", qtype: dns.TypeSRV, truncated: true},
		{name: "ANY over TCP", network: "tcp", qtype: dns.TypeANY, truncated: true, capped: true},
		{name: "A over TCP fits", network: "tcp", qtype: dns.TypeA, answers: 3000},
		{name: "SRV over UDP", network: "udp", qtype: dns.TypeSRV, edns: 4096, truncated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := new(dns.Msg)
			q.SetQuestion(name, tc.qtype)
			if tc.name == "named SRV over TCP" {
				q.SetQuestion("_http._tcp."+name, tc.qtype)
			}
			if tc.edns > 0 {
				q.SetEdns0(tc.edns, false)
			}
			wire, err := rawExchange(tc.network, addr, q)
			if err != nil {
				t.Fatalf("no reply: %v", err)
			}
			limit := dns.MaxMsgSize
			if tc.network == "udp" {
				limit = int(tc.edns)
			}
			if len(wire) > limit {
				t.Errorf("reply of %d bytes, more than %d", len(wire), limit)
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatalf("reply does not unpack: %v", err)
			}
			if r.Truncated != tc.truncated || r.Rcode != dns.RcodeSuccess || len(r.Answer) == 0 {
				t.Errorf("TC=%v rcode %s with %d answers; want TC=%v, NOERROR", r.Truncated,
					dns.RcodeToString[r.Rcode], len(r.Answer), tc.truncated)
			}
			if !tc.truncated && len(r.Answer) != tc.answers {
				t.Errorf("%d answers, want %d", len(r.Answer), tc.answers)
			}
			switch {
			case tc.capped && len(r.Answer) != maxAnswer:
				t.Errorf("%d answers, want the cap, %d", len(r.Answer), maxAnswer)
			case !tc.capped && tc.truncated && tc.network == "tcp" && len(wire) < dns.MaxMsgSize-512:
				t.Errorf("a truncated TCP reply of only %d bytes", len(wire))
			}
		})
	}
}

// failingWriter is a ResponseWriter whose writes fail, as a TCP client that
// went away makes them.
type failingWriter struct{ *dnstest.Recorder }

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }
func (failingWriter) WriteMsg(*dns.Msg) error   { return errors.New("broken pipe") }

// A reply that cannot be sent is counted (and logged, at most every 10 s).
func TestWriteFailuresAreCounted(t *testing.T) {
	reg := prometheus.NewRegistry()
	h := newTestHandler(buildSnapshot(testConfig(), fixture()))
	h.metrics = NewMetrics(reg, "skydns", "skydns")
	for _, q := range []*dns.Msg{
		query("my-nginx.default.svc.cluster.local.", dns.TypeA, nil),   // the fast path
		query("my-nginx.default.svc.cluster.local.", dns.TypeANY, nil), // the general path
		query("*.default.svc.cluster.local.", dns.TypeA, nil),
	} {
		h.ServeDNS(failingWriter{dnstest.NewRecorder(false)}, q)
	}
	h.ServeDNS(failingWriter{dnstest.NewRecorder(true)}, query("my-nginx.default.svc.cluster.local.", dns.TypeANY, nil))
	v := gatherValues(t, reg)
	if got := v[`kubedns_dns_write_errors_total{protocol="tcp"}`]; got != 3 {
		t.Errorf("tcp write errors = %v, want 3", got)
	}
	if got := v[`kubedns_dns_write_errors_total{protocol="udp"}`]; got != 1 {
		t.Errorf("udp write errors = %v, want 1", got)
	}
}

// A wildcard (or ANY) answer holds at most maxAnswer records, with TC set
// when more match, over TCP as well: the work of one query is bounded
// however many names match.
func TestWildcardAnswersAreCapped(t *testing.T) {
	addr := startListeners(t, newTestHandler(buildSnapshot(testConfig(), hugeFixture())))
	for _, network := range []string{"udp", "tcp"} {
		for _, name := range []string{"*.huge.ns1.svc.cluster.local.", "*.*.ns1.svc.cluster.local."} {
			q := query(name, dns.TypeA, func(m *dns.Msg) { m.SetEdns0(4096, false) })
			wire, err := rawExchange(network, addr, q)
			if err != nil {
				t.Fatalf("%s %s: %v", network, name, err)
			}
			r := new(dns.Msg)
			if err := r.Unpack(wire); err != nil {
				t.Fatal(err)
			}
			if !r.Truncated || len(r.Answer) != maxAnswer {
				t.Errorf("%s %s: TC=%v with %d answers, want TC with %d", network, name, r.Truncated, len(r.Answer), maxAnswer)
			}
		}
	}
}
