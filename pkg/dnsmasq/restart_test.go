package dnsmasq

import (
	"testing"
	"time"
)

func TestRestarts(t *testing.T) {
	s := time.Second
	policy := RestartPolicy{InitialDelay: s, MaxDelay: 8 * s, ResetAfter: 10 * s, MaxFailures: 5, Window: time.Minute}
	type failure struct {
		at, ran   time.Duration // since t0; how long that dnsmasq ran
		wantDelay time.Duration
		wantGive  bool
	}
	for _, tt := range []struct {
		name     string
		failures []failure
	}{
		{
			name: "doubling up to the maximum, then a crash loop",
			failures: []failure{
				{at: 0, wantDelay: s},
				{at: 1 * s, wantDelay: 2 * s},
				{at: 3 * s, wantDelay: 4 * s},
				{at: 7 * s, wantDelay: 8 * s},
				{at: 15 * s, wantGive: true},
			},
		},
		{
			name: "capped at the maximum",
			failures: []failure{
				{at: 0, wantDelay: s},
				{at: 61 * s, wantDelay: 2 * s},
				{at: 122 * s, wantDelay: 4 * s},
				{at: 183 * s, wantDelay: 8 * s},
				{at: 244 * s, wantDelay: 8 * s},
				{at: 305 * s, wantDelay: 8 * s},
			},
		},
		{
			name: "a long run resets the delay",
			failures: []failure{
				{at: 0, wantDelay: s},
				{at: 1 * s, wantDelay: 2 * s},
				{at: 20 * s, ran: 17 * s, wantDelay: s},
				{at: 21 * s, wantDelay: 2 * s},
			},
		},
		{
			name: "failures outside the window are forgotten",
			failures: []failure{
				{at: 0, ran: 30 * s, wantDelay: s},
				{at: 31 * s, ran: 30 * s, wantDelay: s},
				{at: 62 * s, ran: 30 * s, wantDelay: s},
				{at: 93 * s, ran: 30 * s, wantDelay: s},
				{at: 124 * s, ran: 30 * s, wantDelay: s},
				{at: 155 * s, ran: 30 * s, wantDelay: s},
			},
		},
		{
			name: "frequent failures despite long runs are a crash loop",
			failures: []failure{
				{at: 0, ran: 11 * s, wantDelay: s},
				{at: 12 * s, ran: 11 * s, wantDelay: s},
				{at: 24 * s, ran: 11 * s, wantDelay: s},
				{at: 36 * s, ran: 11 * s, wantDelay: s},
				{at: 48 * s, ran: 11 * s, wantGive: true},
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRestarts(policy)
			t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for i, f := range tt.failures {
				delay, give := r.failed(t0.Add(f.at), f.ran)
				if delay != f.wantDelay || give != f.wantGive {
					t.Fatalf("failure %d at %v: got (%v, %v), want (%v, %v)", i, f.at, delay, give, f.wantDelay, f.wantGive)
				}
			}
		})
	}
}

func TestRestartPolicyDefaults(t *testing.T) {
	got := RestartPolicy{}.withDefaults()
	if got != DefaultRestartPolicy() {
		t.Errorf("zero policy = %+v, want %+v", got, DefaultRestartPolicy())
	}
	got = RestartPolicy{InitialDelay: time.Minute}.withDefaults()
	if got.MaxDelay != time.Minute {
		t.Errorf("MaxDelay = %v, want it raised to InitialDelay", got.MaxDelay)
	}
}
