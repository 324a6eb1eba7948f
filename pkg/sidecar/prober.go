package sidecar

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"
)

// Status is the result of a probe, and the JSON body of
// /healthcheck/<label>, with the original's field names.
type Status struct {
	// IsOk is true when the probe got NOERROR with at least one answer.
	IsOk bool `json:"IsOk"`
	// LatencySeconds is how long the probe took.
	LatencySeconds float64 `json:"LatencySeconds"`
	// Err says what went wrong; "" on success.
	Err string `json:"Err"`
}

// errWaiting is the status of a probe that has not run yet.
const errWaiting = "waiting for first probe"

// Prober runs one Probe on its interval and keeps its last result.
type Prober struct {
	probe   Probe
	metrics *ProbeMetrics
	clock   Clock

	attempts atomic.Int64 // probes run, for tests

	mu   sync.Mutex
	last Status
	at   time.Time // when last was recorded; zero before the first probe
}

// NewProber returns a Prober for p that records its results in m (nil: no
// metrics) and takes time from c (the zero Clock: real time).
func NewProber(p Probe, m *ProbeMetrics, c Clock) *Prober {
	return &Prober{probe: p, metrics: m, clock: c.withDefaults(), last: Status{Err: errWaiting}}
}

// Probe returns the probe p runs.
func (p *Prober) Probe() Probe { return p.probe }

// Run probes until ctx is done: first after a random delay in [0, interval),
// so that probes started together spread out, then every interval.
func (p *Prober) Run(ctx context.Context) {
	if !p.clock.Sleep(ctx, p.clock.Jitter(p.probe.Interval)) {
		return
	}
	for {
		start := p.clock.Now()
		p.probeOnce(ctx)
		if !p.clock.Sleep(ctx, max(0, p.probe.Interval-p.clock.Now().Sub(start))) {
			return
		}
	}
}

// Status returns the last result, and whether it is a success recent enough
// (within two intervals plus the timeout) to call the server healthy. A
// success gone stale is reported as a failure.
func (p *Prober) Status() (Status, bool) {
	p.mu.Lock()
	s, at := p.last, p.at
	p.mu.Unlock()
	if at.IsZero() || !s.IsOk {
		return s, false
	}
	if age := p.clock.Now().Sub(at); age > p.probe.maxAge() {
		return Status{
			LatencySeconds: s.LatencySeconds,
			Err:            fmt.Sprintf("the last probe result is %v old, more than %v", age.Round(time.Millisecond), p.probe.maxAge()),
		}, false
	}
	return s, true
}

// probeOnce asks the question once and records the result, unless ctx was
// cancelled meanwhile.
func (p *Prober) probeOnce(ctx context.Context) {
	p.attempts.Add(1)
	start := p.clock.Now()
	err := p.ask(ctx)
	if ctx.Err() != nil {
		return
	}
	latency := p.clock.Now().Sub(start)
	p.metrics.observe(p.probe.Label, latency, err)

	s := Status{IsOk: err == nil, LatencySeconds: latency.Seconds()}
	if err != nil {
		s.Err = err.Error()
	}
	p.mu.Lock()
	prev, first := p.last, p.at.IsZero()
	p.last, p.at = s, p.clock.Now()
	p.mu.Unlock()

	switch {
	case !s.IsOk && (prev.IsOk || first):
		klog.InfoS("Probe failing", "probe", p.probe.Label, "server", p.probe.Server, "err", s.Err)
	case s.IsOk && !prev.IsOk:
		klog.InfoS("Probe succeeding", "probe", p.probe.Label, "server", p.probe.Server, "latency", latency)
	}
	if v := klog.V(4); v.Enabled() {
		v.InfoS("Probe result", "probe", p.probe.Label, "ok", s.IsOk, "latency", latency, "err", s.Err)
	}
}

// ask sends the probe's question with RD set and checks the answer:
// NOERROR with at least one answer record.
func (p *Prober) ask(ctx context.Context) error {
	timeout := p.probe.Timeout()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := new(dns.Msg)
	m.SetQuestion(p.probe.Name, p.probe.Type)
	m.RecursionDesired = true
	r, err := exchange(ctx, m, p.probe.Server)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from %s within %v", p.probe.Server, timeout)
	case err != nil:
		return fmt.Errorf("query %s: %w", p.probe.Server, err)
	case r.Rcode != dns.RcodeSuccess:
		return fmt.Errorf("%s answered %s for %s %s", p.probe.Server, dns.RcodeToString[r.Rcode], p.probe.Name, dns.Type(p.probe.Type))
	case len(r.Answer) == 0:
		return fmt.Errorf("%s answered no records for %s %s", p.probe.Server, p.probe.Name, dns.Type(p.probe.Type))
	}
	return nil
}
