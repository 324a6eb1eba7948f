package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// resetHWM resets the process's peak RSS (VmHWM) to its current RSS and
// reports whether the kernel did.
func resetHWM(pid int) bool {
	if os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) != nil {
		return false
	}
	hwm, rss := procStatus(pid, "VmHWM:"), procStatus(pid, "VmRSS:")
	return hwm > 0 && hwm <= rss+rss/20 // a little may be touched in between
}

// procStatus reads one "kB" field of /proc/PID/status (0 when it cannot).
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}

// sampler reads a process's VmRSS every rssEvery until stopped.
type sampler struct {
	done chan struct{}
	out  chan sampled
	once sync.Once
	last sampled
}

type sampled struct {
	peak  int64
	n     int
	trace []byte // "ms\tkB" lines
}

// maxSamples bounds a sampler: 10 minutes of samples.
const maxSamples = int(10 * time.Minute / rssEvery)

func startSampler(pid int) *sampler {
	s := &sampler{done: make(chan struct{}), out: make(chan sampled, 1)}
	go func() {
		var r sampled
		var trace bytes.Buffer
		start := time.Now()
		t := time.NewTicker(rssEvery)
		defer t.Stop()
		for r.n < maxSamples {
			kb := vmRSS(pid)
			r.peak = max(r.peak, kb)
			r.n++
			fmt.Fprintf(&trace, "%.1f\t%d\n", time.Since(start).Seconds()*1000, kb)
			select {
			case <-s.done:
				r.trace = trace.Bytes()
				s.out <- r
				return
			case <-t.C:
			}
		}
		r.trace = trace.Bytes()
		s.out <- r
		<-s.done
	}()
	return s
}

// stop ends the sampling and returns the highest VmRSS seen, the number of
// samples and their trace; the same again when called again.
func (s *sampler) stop() (peak int64, n int, trace []byte) {
	s.once.Do(func() {
		close(s.done)
		s.last = <-s.out
	})
	return s.last.peak, s.last.n, s.last.trace
}
