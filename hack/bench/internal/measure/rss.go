package measure

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// resetHWM resets the process's peak RSS (VmHWM) to its current RSS and
// reports whether the kernel did.
func resetHWM(pid int) bool {
	if os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0) != nil {
		return false
	}
	hwm, rss := proc.ProcStatus(pid, "VmHWM:"), proc.ProcStatus(pid, "VmRSS:")
	return hwm > 0 && hwm <= rss+rss/20 // a little may be touched in between
}

// sampler reads a process's VmRSS every rssEvery until stopped.
type sampler struct {
	done chan struct{}
	out  chan sampled
	once sync.Once
	last sampled
}

type sampled struct {
	peak, peakAnon int64 // VmRSS, RssAnon
	n              int
	trace          []byte // "ms\tVmRSS kB\tRssAnon kB" lines
}

// maxSamples bounds a sampler: 10 minutes of samples.
const maxSamples = int(10 * time.Minute / RSSEvery)

func startSampler(pid int) *sampler {
	s := &sampler{done: make(chan struct{}), out: make(chan sampled, 1)}
	go func() {
		var r sampled
		var trace bytes.Buffer
		start := time.Now()
		t := time.NewTicker(RSSEvery)
		defer t.Stop()
		for r.n < maxSamples {
			kb := proc.Status(pid, "VmRSS:", "RssAnon:")
			r.peak, r.peakAnon = max(r.peak, kb[0]), max(r.peakAnon, kb[1])
			r.n++
			fmt.Fprintf(&trace, "%.1f\t%d\t%d\n", time.Since(start).Seconds()*1000, kb[0], kb[1])
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

// stop ends the sampling and returns the highest VmRSS and RssAnon seen,
// the number of samples and their trace; the same again when called again.
func (s *sampler) stop() sampled {
	s.once.Do(func() {
		close(s.done)
		s.last = <-s.out
	})
	return s.last
}
