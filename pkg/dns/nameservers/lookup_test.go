package nameservers

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
)

func TestNames(t *testing.T) {
	cfg := &config.Config{StubDomains: map[string][]string{
		"a.local": {"ns.b.svc.cluster.local:5353", "1.2.3.4", "[fd00::1]:53", "dns.my.corp"},
		"b.local": {"dns.my.corp", "ns.a.svc.cluster.local"},
	}}
	want := []string{"dns.my.corp", "ns.a.svc.cluster.local", "ns.b.svc.cluster.local"}
	if got := Names(cfg); !slices.Equal(got, want) {
		t.Errorf("Names = %q, want %q", got, want)
	}
	if got := Names(nil); got != nil || HasNames(nil) {
		t.Errorf("Names(nil) = %q", got)
	}
	if !HasNames(cfg) || HasNames(&config.Config{StubDomains: map[string][]string{"a.local": {"1.2.3.4"}}}) {
		t.Error("HasNames disagrees with Names")
	}
}

// stuckResolver answers nothing: each lookup waits for its context to end.
// It counts the lookups in flight and the most at once.
type stuckResolver struct {
	inFlight, most atomic.Int64
}

func (s *stuckResolver) LookupAddrs(ctx context.Context, _ string) ([]netip.Addr, error) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestLookupAllBounded: 1,000 names that never answer, 50 at a time with a
// 20 ms timeout each, end within 20 rounds of the timeout, each reported
// once as failed.
func TestLookupAllBounded(t *testing.T) {
	hosts := make([]string, 1000)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("ns%d.default.svc.cluster.local", i)
	}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
	)
	r := &stuckResolver{}
	const workers, timeout = 50, 20 * time.Millisecond
	began := time.Now()
	LookupAll(context.Background(), r, hosts, workers, timeout, func(l Lookup) {
		mu.Lock()
		defer mu.Unlock()
		if l.Err == nil {
			t.Errorf("%s resolved: %v", l.Host, l.Addrs)
		}
		seen[l.Host]++
	})
	took := time.Since(began)
	t.Logf("1000 names, %d workers, %v each: %v, %d at most at once", workers, timeout, took, r.most.Load())
	if bound := 20 * timeout; took < bound || took > 5*bound {
		t.Errorf("took %v, want about %v", took, bound)
	}
	if m := r.most.Load(); m > workers {
		t.Errorf("%d lookups at once, want at most %d", m, workers)
	}
	if len(seen) != len(hosts) {
		t.Errorf("%d names reported, want %d", len(seen), len(hosts))
	}
	for h, n := range seen {
		if n != 1 {
			t.Errorf("%s reported %d times", h, n)
		}
	}
}

// TestLookupAllCancel: once the context ends the lookups in flight end,
// the others are not started, and LookupAll returns.
func TestLookupAllCancel(t *testing.T) {
	hosts := make([]string, 100)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("ns%d.example", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &stuckResolver{}
	var calls atomic.Int64
	done := make(chan struct{})
	go func() {
		LookupAll(ctx, r, hosts, 4, time.Hour, func(Lookup) { calls.Add(1) })
		close(done)
	}()
	if err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 5*time.Second, true,
		func(context.Context) (bool, error) { return r.inFlight.Load() >= 4, nil }); err != nil {
		t.Fatalf("%d lookups in flight, want 4", r.inFlight.Load())
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("LookupAll did not return after the cancel")
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("%d outcomes reported, want those of the lookups under way", n)
	}
}

func TestLookupAllAddrs(t *testing.T) {
	r := ResolverFunc(func(_ context.Context, host string) ([]netip.Addr, error) {
		switch host {
		case "multi":
			return []netip.Addr{netip.MustParseAddr("fd00::2"), netip.MustParseAddr("::ffff:192.0.2.10"), netip.MustParseAddr("192.0.2.9"), netip.MustParseAddr("192.0.2.9")}, nil
		case "empty":
			return nil, nil
		}
		return nil, fmt.Errorf("%s: NXDOMAIN", host)
	})
	got := map[string]Lookup{}
	var mu sync.Mutex
	LookupAll(context.Background(), r, []string{"multi", "empty", "gone"}, 2, 0, func(l Lookup) {
		mu.Lock()
		defer mu.Unlock()
		got[l.Host] = l
	})
	if s := addrStrings(got["multi"].Addrs); !slices.Equal(s, []string{"192.0.2.9", "192.0.2.10", "fd00::2"}) || got["multi"].Err != nil {
		t.Errorf("multi: %q, %v; want sorted, unmapped, once each", s, got["multi"].Err)
	}
	for _, h := range []string{"empty", "gone"} {
		if got[h].Err == nil || got[h].Addrs != nil {
			t.Errorf("%s: %+v, want an error", h, got[h])
		}
	}
}

// TestBuild: names take the addresses given; one without is left out, and
// a domain left without servers is reported.
func TestBuild(t *testing.T) {
	cfg := &config.Config{
		StubDomains: map[string][]string{
			"a.local": {"1.2.3.4", "pending.example", "dns.example:5353"},
			"b.local": {"pending.example"},
		},
		UpstreamNameservers: []string{"8.8.8.8:53"},
	}
	s, left := Build(context.Background(), cfg, map[string][]netip.Addr{
		"dns.example": {netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("1.2.3.4")},
	})
	want := []netip.AddrPort{netip.MustParseAddrPort("1.2.3.4:53"), netip.MustParseAddrPort("192.0.2.1:5353"), netip.MustParseAddrPort("1.2.3.4:5353")}
	if !slices.Equal(s.Stubs["a.local"], want) || len(s.Stubs) != 1 {
		t.Errorf("stubs = %v, want a.local: %v", s.Stubs, want)
	}
	if !slices.Equal(left, []string{"b.local"}) {
		t.Errorf("left out %q, want b.local", left)
	}
	if !slices.Equal(s.Upstreams, []netip.AddrPort{netip.MustParseAddrPort("8.8.8.8:53")}) {
		t.Errorf("upstreams = %v", s.Upstreams)
	}
}
