package contender

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Answers reports whether name's A records at addr include want, and
// otherwise what came back.
func Answers(ctx context.Context, addr, name, want string, timeout time.Duration) (bool, string) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	r, _, err := c.ExchangeContext(ctx, new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
	if err != nil {
		return false, err.Error()
	}
	if r.Rcode != dns.RcodeSuccess {
		return false, dns.RcodeToString[r.Rcode]
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.Equal(net.ParseIP(want)) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("NOERROR with %d answers, not %s", len(r.Answer), want)
}

// WaitAnswer polls every 5 ms until name resolves to want, writing each
// change of what came back to dir/start-probe.log.
func WaitAnswer(ctx context.Context, s *Server, dir, name, want string, limit time.Duration) error {
	start := time.Now()
	log, err := os.Create(filepath.Join(dir, "start-probe.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	last := ""
	for time.Since(start) < limit {
		ok, got := Answers(ctx, s.Addr, name, want, 100*time.Millisecond)
		if ok {
			got = "answered " + want
		}
		if got != last {
			fmt.Fprintf(log, "%8.1f ms  %s\n", time.Since(start).Seconds()*1000, got)
			last = got
		}
		if ok {
			return nil
		}
		if err := s.Exited(); err != nil {
			return err
		}
		if !proc.Sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s did not answer %s with %s within %s", s.Addr, name, want, limit)
}

// ProbeAnswer is the name polled and the address it must answer: the
// probe Service's cluster IP, or the static servers' fixed address.
func ProbeAnswer(c Contender, probe cluster.Service) (want, name string) {
	want, name = probe.IP, cluster.Fqdn(probe.Name, probe.Ns)
	if !c.ReadsAPI && !c.Zone {
		want = staticIP.String()
	}
	return want, name
}
