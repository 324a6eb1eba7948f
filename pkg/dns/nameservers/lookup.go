package nameservers

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
)

// DefaultWorkers is how many names LookupAll looks up at once unless told
// otherwise. 1,000 names that never answer then take 16 rounds of the 5 s
// lookup timeout, 80 s in all; 64 queries in flight are little to kubedns or
// to a resolver.
const DefaultWorkers = 64

// Names returns the stub servers of cfg given by name (the host part of
// "host" or "host:port"), each once, sorted.
func Names(cfg *config.Config) []string {
	if cfg == nil {
		return nil
	}
	var out []string
	for _, servers := range cfg.StubDomains {
		for _, s := range servers {
			host, _, err := config.StubServer(s)
			if err != nil {
				continue
			}
			if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
				continue
			}
			out = append(out, host)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Lookup is the outcome of looking up one stub server name.
type Lookup struct {
	Host string
	// Addrs are every address found, sorted (IPv4 first), so that a DNS
	// server rotating its answers does not change what is built from them;
	// nil when Err is set.
	Addrs []netip.Addr
	Err   error
}

// LookupAll looks each of hosts up through r, at most workers at once
// (DefaultWorkers when workers <= 0), each lookup bounded by timeout (5 s
// when timeout <= 0), in the order given. It calls found with each outcome
// as it comes, from the goroutine of the lookup (so concurrently), and
// returns after the last call. All of it takes at most
// ⌈len(hosts)/workers⌉ × timeout, however slow r is, as long as r returns
// when its context ends. Once ctx ends the hosts not yet started are left
// out: found is not called for them.
func LookupAll(ctx context.Context, r Resolver, hosts []string, workers int, timeout time.Duration, found func(Lookup)) {
	if workers <= 0 {
		workers = DefaultWorkers
	}
	if timeout <= 0 {
		timeout = lookupTimeout
	}
	next := make(chan string)
	var wg sync.WaitGroup
	for range min(workers, len(hosts)) {
		wg.Go(func() {
			for host := range next {
				if ctx.Err() != nil {
					continue // ended: left out
				}
				found(lookupOne(ctx, r, host, timeout))
			}
		})
	}
feed:
	for _, h := range hosts {
		select {
		case next <- h:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
}

func lookupOne(ctx context.Context, r Resolver, host string, timeout time.Duration) Lookup {
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := r.LookupAddrs(lctx, host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		return Lookup{Host: host, Err: err}
	}
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap()
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return Lookup{Host: host, Addrs: slices.Compact(out)}
}
