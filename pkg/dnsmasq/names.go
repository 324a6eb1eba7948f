package dnsmasq

import (
	"context"
	"net/netip"
	"slices"
	"sync"

	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
)

// names looks the stub servers given by name up in the background, so that
// the loop never waits for a lookup: it renders dnsmasq's servers from the
// addresses found so far (a name not found yet is left out), and renders
// again as lookups end.
//
// One batch of lookups runs at a time (nameservers.LookupAll: at most
// DefaultWorkers at once, each within its timeout), names never looked up
// first, then those that resolved last time, then those that failed: names
// that never answer do not hold the others up. A sync during a batch has
// another start when it ends; a configuration bringing new names starts one
// at once, in place of the batch under way.
type names struct {
	logger   klog.Logger
	resolver nameservers.Resolver
	workers  int // 0: nameservers.DefaultWorkers
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	// Owned by the loop.
	hosts   map[string]bool         // the names of the configuration
	added   map[string]bool         // those the last configuration brought
	addrs   map[string][]netip.Addr // their addresses, from their last lookup
	failing map[string]bool         // names whose last lookup failed
	cur     *batch                  // the batch under way, or nil
	last    *batch                  // the last one started, maybe still ending
	again   bool                    // look the names up again once it ends

	mu    sync.Mutex           // guards found and batch.ended
	found []nameservers.Lookup // outcomes the loop has not taken yet
	ready chan struct{}        // capacity 1: news in found or of an end
}

// batch is one run of lookups.
type batch struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when its lookups have all returned
	ended  bool          // done, for the loop (guarded by names.mu)
}

func newNames(ctx context.Context, r nameservers.Resolver, workers int) *names {
	ctx, cancel := context.WithCancel(ctx)
	return &names{
		logger: klog.FromContext(ctx), resolver: r, workers: workers, ctx: ctx, cancel: cancel,
		hosts: map[string]bool{}, added: map[string]bool{}, addrs: map[string][]netip.Addr{}, failing: map[string]bool{},
		ready: make(chan struct{}, 1),
	}
}

// set makes cfg's names the ones looked up and forgets the others. Names
// it had already keep their addresses; new ones are looked up at once.
func (n *names) set(cfg *config.Config) {
	old := n.hosts
	n.hosts, n.added = map[string]bool{}, map[string]bool{}
	for _, h := range nameservers.Names(cfg) {
		n.hosts[h] = true
		if !old[h] {
			n.added[h] = true
		}
	}
	for h := range n.addrs {
		if !n.hosts[h] {
			delete(n.addrs, h)
		}
	}
	for h := range n.failing {
		if !n.hosts[h] {
			delete(n.failing, h)
		}
	}
	if len(n.added) > 0 && n.cur != nil {
		n.cur.cancel() // its outcomes from now on are dropped
		n.cur = nil
	}
	n.lookup()
}

// lookup looks the names up again: now, or when the batch under way ends.
func (n *names) lookup() {
	if len(n.hosts) == 0 || n.ctx.Err() != nil {
		return
	}
	if n.cur != nil {
		n.again = true
		return
	}
	n.again = false
	var fresh, known, failing []string
	for h := range n.hosts {
		_, ok := n.addrs[h]
		switch {
		case n.failing[h]:
			failing = append(failing, h)
		case ok:
			known = append(known, h)
		default:
			fresh = append(fresh, h)
		}
	}
	for _, s := range [][]string{fresh, known, failing} {
		slices.Sort(s)
	}
	hosts := slices.Concat(fresh, known, failing)
	ctx, cancel := context.WithCancel(n.ctx)
	b := &batch{cancel: cancel, done: make(chan struct{})}
	prev := n.last
	n.cur, n.last = b, b
	n.wg.Go(func() {
		defer close(b.done)
		defer cancel()
		if prev != nil {
			<-prev.done // cancelled: never more than one batch's lookups at once
		}
		nameservers.LookupAll(ctx, n.resolver, hosts, n.workers, 0, func(l nameservers.Lookup) {
			n.mu.Lock()
			if ctx.Err() == nil {
				n.found = append(n.found, l)
			}
			n.mu.Unlock()
			n.notify()
		})
		n.mu.Lock()
		b.ended = true
		n.mu.Unlock()
		n.notify()
	})
}

func (n *names) notify() {
	select {
	case n.ready <- struct{}{}:
	default:
	}
}

// take applies the lookups that ended since the last call, on a signal
// from ready, and reports whether an address changed. A name that does not
// resolve is left out until it does, and is logged when it starts failing.
func (n *names) take() (changed bool) {
	n.mu.Lock()
	found := n.found
	n.found = nil
	ended := n.cur != nil && n.cur.ended
	n.mu.Unlock()
	for _, l := range found {
		if !n.hosts[l.Host] {
			continue // no longer in the configuration
		}
		if l.Err != nil {
			if !n.failing[l.Host] {
				n.logger.Error(l.Err, "Cannot resolve stub domain server, leaving it out until it resolves", "server", l.Host)
				n.failing[l.Host] = true
			}
			if _, ok := n.addrs[l.Host]; ok {
				delete(n.addrs, l.Host)
				changed = true
			}
			continue
		}
		if n.failing[l.Host] {
			n.logger.Info("Stub domain server resolves again", "server", l.Host, "addresses", l.Addrs)
			delete(n.failing, l.Host)
		}
		if !slices.Equal(n.addrs[l.Host], l.Addrs) {
			n.addrs[l.Host] = l.Addrs
			changed = true
		}
	}
	if ended {
		n.cur = nil
		if n.again {
			n.lookup()
		}
	}
	return changed
}

// pending reports whether a name the last configuration brought has not
// been looked up yet (neither found nor failed).
func (n *names) pending() bool {
	for h := range n.added {
		if _, ok := n.addrs[h]; !ok && !n.failing[h] {
			return true
		}
	}
	return false
}

// close ends the lookups under way and waits for them.
func (n *names) close() {
	n.cancel()
	n.wg.Wait()
}
