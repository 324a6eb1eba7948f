package lameduck

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	clocktesting "k8s.io/utils/clock/testing"
)

// run runs w on a fake clock, stepping it by Poll, and calls at(elapsed)
// before each step; it returns what Run returned.
func run(t *testing.T, w Wait, at func(time.Duration)) (time.Duration, string) {
	t.Helper()
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	w.Clock = clk
	type result struct {
		d      time.Duration
		reason string
	}
	done := make(chan result, 1)
	go func() { d, r := w.Run(context.Background()); done <- result{d, r} }()
	start := clk.Now()
	for i := 0; i < 1000; i++ {
		// Step only once Run waits on its ticker.
		var (
			r     result
			ended bool
		)
		err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
			select {
			case r = <-done:
				ended = true
				return true, nil
			default:
				return clk.HasWaiters(), nil
			}
		})
		switch {
		case ended:
			return r.d, r.reason
		case err != nil:
			t.Fatal("Run never waited on its ticker")
		}
		if at != nil {
			at(clk.Now().Sub(start))
		}
		clk.Step(Poll)
		select {
		case r := <-done:
			return r.d, r.reason
		case <-time.After(time.Millisecond):
		}
	}
	t.Fatal("Run did not return")
	return 0, ""
}

func TestWait(t *testing.T) {
	sec := time.Second
	for _, tt := range []struct {
		name       string
		trafficFor time.Duration // queries arrive until then
		noCounter  bool
		failing    bool
		want       time.Duration
		reason     string
	}{
		{name: "no traffic: the minimum", want: 5 * sec, reason: "quiet"},
		{name: "traffic past the minimum: a quiet period after it", trafficFor: 8 * sec, want: 9 * sec, reason: "quiet"},
		{name: "traffic that does not stop: the maximum", trafficFor: time.Hour, want: 20 * sec, reason: "max"},
		{name: "no counter: the minimum", noCounter: true, want: 5 * sec, reason: "min"},
		{name: "a counter that fails: the minimum", failing: true, want: 5 * sec, reason: "min"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Uint64
			w := Wait{Min: 5 * sec, Max: 20 * sec, Quiet: sec}
			if !tt.noCounter {
				w.Received = func() (uint64, error) {
					if tt.failing {
						return 0, errors.New("no /proc")
					}
					return n.Load(), nil
				}
			}
			d, reason := run(t, w, func(elapsed time.Duration) {
				if elapsed < tt.trafficFor {
					n.Add(3)
				}
			})
			// The traffic seen last at trafficFor - Poll, so a quiet period
			// after it ends a poll later than trafficFor + Quiet - Poll.
			if reason != tt.reason || d < tt.want-Poll || d > tt.want+Poll {
				t.Errorf("Run = %v %q, want %v±%v %q", d, reason, tt.want, Poll, tt.reason)
			}
		})
	}
}

func TestWaitCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, reason := (Wait{Min: time.Hour, Max: time.Hour}).Run(ctx); reason != "canceled" {
		t.Errorf("Run = %q, want canceled", reason)
	}
}

// TestUDPReceived: the namespace's counter moves when a datagram arrives.
func TestUDPReceived(t *testing.T) {
	before, err := UDPReceived()
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [8]byte
	if _, _, err := pc.ReadFrom(b[:]); err != nil {
		t.Fatal(err)
	}
	after, err := UDPReceived()
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("Udp InDatagrams %d after a datagram arrived, %d before", after, before)
	}
}
