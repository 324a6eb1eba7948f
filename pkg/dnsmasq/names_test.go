package dnsmasq

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// silentResolver never answers, as a DNS server that drops the queries:
// each lookup ends with its context (the 5 s lookup timeout). One name,
// late, answers addr once released. It counts the lookups in flight and
// the most at once.
type silentResolver struct {
	late       string
	addr       netip.Addr
	release    chan struct{}
	lateAsked  atomic.Bool
	inFlight   atomic.Int64
	most       atomic.Int64
	lookupsRun atomic.Int64
}

func (s *silentResolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	s.lookupsRun.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	if host == s.late {
		s.lateAsked.Store(true)
		select {
		case <-s.release:
			return []netip.Addr{s.addr}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// stepUntil steps clk by step until cond holds, and returns how far it
// stepped; it fails after 10 s of real time.
func stepUntil(t *testing.T, clk *clocktesting.FakeClock, step time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	var stepped time.Duration
	if poll(10*time.Millisecond, 10*time.Second, func() bool {
		if cond() {
			return true
		}
		clk.Step(step)
		stepped += step
		return false
	}) != nil {
		t.Fatalf("timed out waiting for %s (clock stepped %v)", what, stepped)
	}
	return stepped
}

// answers reports whether addr answers name with ip alone.
func answers(addr, name, ip string) bool {
	got, err := lookupA(addr, name)
	return err == nil && slices.Equal(got, []string{ip})
}

// TestNamesNeverDelayDnsmasq: 1,000 stub server names that never answer
// hold up neither dnsmasq's first start nor its restart after SIGKILL,
// which come when the nanny's clock says (at once; after the restart
// delay), while at most nameservers.DefaultWorkers lookups are in flight.
// A name a later configuration brings is looked up before them, and a
// reload adds it once it resolves.
func TestNamesNeverDelayDnsmasq(t *testing.T) {
	dnsmasqtest.Require(t)
	known := serveAddress(t, freeport.LoopbackIP(2), "known.local", "10.9.9.9")
	late := serveAddress(t, freeport.LoopbackIP(3), "acme.local", "10.8.8.8")
	lateIP, latePort, _ := net.SplitHostPort(late)
	res := &silentResolver{late: "late.example", addr: netip.MustParseAddr(lateIP), release: make(chan struct{})}
	dead := make([]string, 1000)
	for i := range dead {
		dead[i] = fmt.Sprintf("ns%d.dead.example", i)
	}
	cfg := &config.Config{StubDomains: map[string][]string{"known.local": {known}, "dead.local": dead}, Version: "v1"}

	before := runtime.NumGoroutine()
	clk := newFakeClock()
	const restartDelay = time.Second
	port := freePort(t, "127.0.0.1")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	began := time.Now()
	r := start(t, Options{
		Exec: dnsmasqtest.Path, Args: listenArgs("127.0.0.1", port), RestartOnChange: true, ServersDir: sharedDir(t),
		Resolver: res, Clock: clk, AcceptAfter: time.Second,
		Restart: RestartPolicy{InitialDelay: restartDelay, MaxDelay: restartDelay, ResetAfter: time.Hour, MaxFailures: 5, Window: time.Hour},
	}, cfg)

	// The first start: the clock never moves.
	waitFor(t, 5*time.Second, "dnsmasq's first answer", func() bool { return answers(addr, "x.known.local", "10.9.9.9") })
	t.Logf("first answer %v after Run began", time.Since(began))
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("first answer after %v, want about a second at most", took)
	}
	waitFor(t, 5*time.Second, "the lookups", func() bool { return res.inFlight.Load() == nameservers.DefaultWorkers })

	// SIGKILL: restarted after the restart delay of the nanny's clock, the
	// first timer it makes after the exit.
	pid := r.PID()
	timers := len(clk.timersMade())
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	stepped := clk.waitTimer(t, timers, "the restart's timer")
	if p := r.PID(); p != 0 {
		t.Errorf("dnsmasq %d restarted before the clock moved", p)
	}
	clk.Step(stepped)
	waitFor(t, 10*time.Second, "the restart", func() bool { return r.PID() != 0 && r.PID() != pid })
	waitFor(t, 5*time.Second, "the restarted dnsmasq's answer", func() bool { return answers(addr, "x.known.local", "10.9.9.9") })
	t.Logf("restarted: clock stepped %v, answering %v after SIGKILL", stepped, time.Since(killed))
	if stepped < restartDelay || stepped > restartDelay+500*time.Millisecond {
		t.Errorf("restarted after the clock moved %v, want the restart delay, %v", stepped, restartDelay)
	}
	if took := time.Since(killed); took > 2*time.Second {
		t.Errorf("answering %v after SIGKILL, want about a second at most", took)
	}
	if m := res.most.Load(); m > nameservers.DefaultWorkers {
		t.Errorf("%d lookups at once, want at most %d", m, nameservers.DefaultWorkers)
	}

	// A new name is looked up before the dead ones; once it resolves, a
	// reload adds its domain.
	next := &config.Config{StubDomains: map[string][]string{
		"known.local": {known}, "dead.local": dead, "acme.local": {"late.example:" + latePort},
	}, Version: "v2"}
	r.send(t, next)
	waitFor(t, 5*time.Second, "the new name's lookup", res.lateAsked.Load)
	close(res.release)
	stepUntil(t, clk.FakeClock, 100*time.Millisecond, "the new name's domain", func() bool { return answers(addr, "x.acme.local", "10.8.8.8") })
	if !answers(addr, "x.known.local", "10.9.9.9") {
		t.Error("known.local lost at the reload")
	}
	if r.PID() == pid || r.PID() == 0 {
		t.Errorf("dnsmasq not running")
	}
	t.Logf("%d lookups, at most %d at once", res.lookupsRun.Load(), res.most.Load())
	if m := res.most.Load(); m > nameservers.DefaultWorkers {
		t.Errorf("%d lookups at once, want at most %d", m, nameservers.DefaultWorkers)
	}

	// Run ends the lookups under way.
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
}
