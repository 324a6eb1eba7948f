// Package lameduck decides how long a stopping kube-dns pod keeps
// answering: at least Min, then until no query has come for Quiet, at most
// Max. A fixed wait is not enough on a busy node: the pod leaves the
// Service's endpoints at once, but kube-proxy keeps sending a UDP flow it
// has mapped to the pod there until the endpoint is no longer serving (the
// kubelet has seen readiness fail, the EndpointSlice says so, kube-proxy has
// synced and dropped the flow's conntrack entry), and each of those steps
// waits for CPU. Queries still arriving are the one sure sign.
//
// The sign is the pod's network namespace's count of UDP datagrams
// received: clients' queries to dnsmasq and dnsmasq's forwards to kubedns
// both move it, and nothing else in the pod sends UDP once the sidecar has
// stopped. The nanny stops dnsmasq after a quiet second; kubedns waits for
// two, so it outlives dnsmasq and answers every query dnsmasq forwards.
// TCP clients keep their connections to dnsmasq until it stops and then
// reconnect, through the Service, to a pod that is ready.
package lameduck

import (
	"context"
	"time"

	"k8s.io/utils/clock"

	"github.com/kubedns-go/kube-dns/pkg/procnet"
)

// Poll is how often the counter is read.
const Poll = 100 * time.Millisecond

// The quiet periods: dnsmasq, in front, is stopped after DnsmasqQuiet;
// kubedns waits twice as long, so that it outlives dnsmasq and answers
// every query dnsmasq still forwards.
const (
	DnsmasqQuiet = time.Second
	KubednsQuiet = 2 * DnsmasqQuiet
)

// Wait is one lameduck period.
type Wait struct {
	Min, Max, Quiet time.Duration
	// Received counts what arrives; nil, or a failing read, means Min alone.
	Received func() (uint64, error)
	Clock    clock.WithTicker // nil: the real clock
}

// UDPReceived reads the reading process's network namespace's
// Udp InDatagrams (/proc/net/snmp).
func UDPReceived() (uint64, error) {
	return procnet.Counter("/proc/net/snmp", "Udp", "InDatagrams")
}

// Run waits as Wait says, or until ctx ends, and returns how long it
// waited and why it stopped: "quiet", "max", "min" (no counter) or
// "canceled".
func (w Wait) Run(ctx context.Context) (time.Duration, string) {
	clk := w.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	start := clk.Now()
	last, err := uint64(0), error(nil)
	if w.Received != nil {
		last, err = w.Received()
	}
	counting := w.Received != nil && err == nil
	lastSeen := start
	tick := clk.NewTicker(Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return clk.Since(start), "canceled"
		case <-tick.C():
		}
		now := clk.Now()
		elapsed := now.Sub(start)
		if counting {
			if n, err := w.Received(); err != nil {
				counting = false
			} else if n != last {
				last, lastSeen = n, now
			}
		}
		switch {
		case w.Max > 0 && elapsed >= w.Max:
			return elapsed, "max"
		case elapsed < w.Min:
		case !counting:
			return elapsed, "min"
		case now.Sub(lastSeen) >= w.Quiet:
			return elapsed, "quiet"
		}
	}
}
