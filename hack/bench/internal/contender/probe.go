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
	m := new(dns.Msg).SetQuestion(name, dns.TypeA)
	r, _, err := c.ExchangeContext(ctx, m, addr)
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
	deadline := start.Add(limit)
	log, err := os.Create(filepath.Join(dir, "start-probe.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	last := ""
	for time.Now().Before(deadline) {
		ok, got := Answers(ctx, s.Addr, name, want, 100*time.Millisecond)
		if ok {
			fmt.Fprintf(log, "%8.1f ms  answered %s\n", time.Since(start).Seconds()*1000, want)
			return nil
		}
		if got != last {
			fmt.Fprintf(log, "%8.1f ms  %s\n", time.Since(start).Seconds()*1000, got)
			last = got
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

// PIDs lists the server's processes and their descendants.
func (s *Server) PIDs() []int {
	var out []int
	for _, p := range s.Procs {
		out = append(out, p.Cmd.Process.Pid)
		out = append(out, proc.Descendants(p.Cmd.Process.Pid)...)
	}
	return out
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
