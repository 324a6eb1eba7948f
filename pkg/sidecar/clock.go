package sidecar

import (
	"context"
	"math/rand/v2"
	"time"
)

// Clock is the source of time and randomness of probes and dnsmasq polls.
// Tests replace it so that they never wait real seconds; a nil field takes
// the real implementation.
type Clock struct {
	// Now returns the current time.
	Now func() time.Time
	// Sleep waits for d and reports true, or reports false as soon as ctx
	// is done.
	Sleep func(ctx context.Context, d time.Duration) bool
	// Jitter returns a random duration in [0, d).
	Jitter func(d time.Duration) time.Duration
}

func (c Clock) withDefaults() Clock {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Jitter == nil {
		c.Jitter = jitter
	}
	return c
}

func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}
