package dnsmasq

import "time"

// RestartPolicy says how a dnsmasq that died on its own is restarted.
type RestartPolicy struct {
	// InitialDelay is the wait before the first restart (default 1s); it
	// doubles after each failure up to MaxDelay (default 30s).
	InitialDelay time.Duration
	MaxDelay     time.Duration
	// ResetAfter: a dnsmasq that ran at least this long before dying starts
	// again from InitialDelay (default 10s).
	ResetAfter time.Duration
	// MaxFailures failures within Window (defaults 5 and 1m) end the nanny
	// with an error, so that the kubelet sees a crash loop.
	MaxFailures int
	Window      time.Duration
}

// DefaultRestartPolicy returns the policy used for zero fields.
func DefaultRestartPolicy() RestartPolicy {
	return RestartPolicy{
		InitialDelay: time.Second,
		MaxDelay:     30 * time.Second,
		ResetAfter:   10 * time.Second,
		MaxFailures:  5,
		Window:       time.Minute,
	}
}

func (p RestartPolicy) withDefaults() RestartPolicy {
	d := DefaultRestartPolicy()
	if p.InitialDelay <= 0 {
		p.InitialDelay = d.InitialDelay
	}
	if p.MaxDelay < p.InitialDelay {
		p.MaxDelay = max(d.MaxDelay, p.InitialDelay)
	}
	if p.ResetAfter <= 0 {
		p.ResetAfter = d.ResetAfter
	}
	if p.MaxFailures <= 0 {
		p.MaxFailures = d.MaxFailures
	}
	if p.Window <= 0 {
		p.Window = d.Window
	}
	return p
}

// restarts tracks failures for a RestartPolicy. It is pure: callers pass
// the times in.
type restarts struct {
	policy   RestartPolicy
	next     time.Duration // delay before the next restart
	failures []time.Time   // within the window
}

func newRestarts(p RestartPolicy) *restarts {
	p = p.withDefaults()
	return &restarts{policy: p, next: p.InitialDelay}
}

// failed records that a dnsmasq died at now after running for ran. It
// returns how long to wait before starting the next one, or giveUp when
// this is the MaxFailures-th failure within the window.
func (r *restarts) failed(now time.Time, ran time.Duration) (delay time.Duration, giveUp bool) {
	if ran >= r.policy.ResetAfter {
		r.next = r.policy.InitialDelay
	}
	kept := r.failures[:0]
	for _, t := range r.failures {
		if now.Sub(t) < r.policy.Window {
			kept = append(kept, t)
		}
	}
	r.failures = append(kept, now)
	if len(r.failures) >= r.policy.MaxFailures {
		return 0, true
	}
	delay = r.next
	r.next = min(2*r.next, r.policy.MaxDelay)
	return delay, false
}
