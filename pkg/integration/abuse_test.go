package integration

import (
	"fmt"
	"net"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"

	"github.com/miekg/dns"
)

// TestAbusiveClients runs the real kube-dns against the real API server the
// way an abusive or unlucky client would: queries pipelined on one TCP
// connection, a Service whose SRV answer is larger than any DNS message,
// and wildcards that match every Service.
func TestAbusiveClients(t *testing.T) {
	requireCluster(t)
	const ns = "abuse"
	createNamespace(t, ns)
	for i := range 300 {
		ip := fmt.Sprintf("10.254.%d.%d", 210+i/250, i%250+1)
		createService(t, clusterIPService(ns, fmt.Sprintf("s%d", i), []string{ip}, port("http", corev1.ProtocolTCP, 80)))
	}
	createService(t, headlessService(ns, "huge", false, port("http", corev1.ProtocolTCP, 8080)))
	for s := range 3 { // 3,000 ready endpoints: at most 1,000 per slice
		var eps []discoveryv1.Endpoint
		for i := range 1000 {
			n := s*1000 + i
			eps = append(eps, endpoint(fmt.Sprintf("web-%d", n), ptr.To(true), fmt.Sprintf("10.60.%d.%d", n/250, n%250+1)))
		}
		createSlice(t, slice(ns, fmt.Sprintf("huge-%d", s), "huge", discoveryv1.AddressTypeIPv4, []discoveryv1.EndpointPort{slicePort("http", 8080)}, eps...))
	}
	k := startKubeDNS(t)
	k.waitReady(t)
	if _, err := eventually(30*time.Second, func() error {
		r, err := k.query("udp", "huge.abuse.svc.cluster.local.", dns.TypeA)
		if err != nil || !r.Truncated {
			return fmt.Errorf("huge.abuse not served in full yet: %v %v", r, err)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	t.Run("500 queries pipelined on one TCP connection", func(t *testing.T) {
		conn, err := net.Dial("tcp", k.dns)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
		dc := &dns.Conn{Conn: conn}
		names := []string{"s1.abuse.svc.cluster.local.", "nope.abuse.svc.cluster.local.", "*.abuse.svc.cluster.local.", "kubernetes.default.svc.cluster.local."}
		go func() {
			for i := range 500 {
				m := new(dns.Msg)
				m.SetQuestion(names[i%len(names)], dns.TypeA)
				m.Id = uint16(i + 1)
				if dc.WriteMsg(m) != nil {
					return
				}
			}
		}()
		seen := map[uint16]bool{}
		for len(seen) < 500 {
			r, err := dc.ReadMsg()
			if err != nil {
				t.Fatalf("after %d replies: %v", len(seen), err)
			}
			if seen[r.Id] || r.Id == 0 || r.Id > 500 || r.Question[0].Name != names[(r.Id-1)%uint16(len(names))] {
				t.Fatalf("unexpected reply %d to %v", r.Id, r.Question)
			}
			seen[r.Id] = true
		}
	})

	t.Run("an SRV answer larger than a TCP message", func(t *testing.T) {
		r, err := k.query("tcp", "_http._tcp.huge.abuse.svc.cluster.local.", dns.TypeSRV)
		if err != nil {
			t.Fatalf("no reply: %v", err)
		}
		if r.Rcode != dns.RcodeSuccess || !r.Truncated || len(r.Answer) < 500 {
			t.Errorf("rcode %s, TC %v, %d answers; want NOERROR, TC and as many as 64 KiB holds", dns.RcodeToString[r.Rcode], r.Truncated, len(r.Answer))
		}
		r.Compress = true // Len as sent
		if n := r.Len(); n > dns.MaxMsgSize {
			t.Errorf("a %d-byte reply", n)
		}
		for _, rr := range r.Answer {
			if srv, ok := rr.(*dns.SRV); !ok || srv.Port != 8080 {
				t.Fatalf("answer %v", rr)
			}
		}
	})

	t.Run("wildcards matching every Service", func(t *testing.T) {
		for _, network := range []string{"udp", "tcp"} {
			for _, q := range []struct {
				name  string
				qtype uint16
			}{{"*.abuse.svc.cluster.local.", dns.TypeA}, {"*.*.svc.cluster.local.", dns.TypeSRV}, {"*.huge.abuse.svc.cluster.local.", dns.TypeA}} {
				r, err := k.query(network, q.name, q.qtype)
				if err != nil {
					t.Fatalf("%s %s: %v", network, q.name, err)
				}
				if r.Rcode != dns.RcodeSuccess || !r.Truncated || len(r.Answer) == 0 || len(r.Answer) > 128 {
					t.Errorf("%s %s %s: rcode %s, TC %v, %d answers; want NOERROR, TC and at most 128", network, q.name,
						dns.TypeToString[q.qtype], dns.RcodeToString[r.Rcode], r.Truncated, len(r.Answer))
				}
			}
		}
	})
}
