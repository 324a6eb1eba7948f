package measure

import (
	"math"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// The machine may be shared: CPU time that went to processes outside the
// benchmark during a run is measured, so a disturbed run can be repeated and
// flagged. Times are in clock ticks (USER_HZ, 100 per second on Linux).
const tick = 10 * time.Millisecond

// NoisyCPU is the share of one CPU taken by other processes above which a
// run is repeated (at most twice; the least disturbed attempt is kept).
const NoisyCPU = 0.15

// cpuMark is a reading taken before and after a run.
type cpuMark struct {
	at          time.Time
	busy        int64 // all CPUs, non-idle
	idle, total int64 // all CPUs: idle and iowait, and every field
	own         int64 // the benchmark's processes
	server      int64 // the server's processes (a subset of own)
}

// markCPU reads the machine's CPU time and that of the given processes.
func markCPU(own, server []int) cpuMark {
	m := cpuMark{at: time.Now()}
	m.busy, m.idle, m.total = proc.StatTicks()
	for _, pid := range own {
		m.own += proc.ProcTicks(pid)
	}
	for _, pid := range server {
		m.server += proc.ProcTicks(pid)
	}
	return m
}

// CPUSplit is where the machine's CPU time went during a run, as shares of
// all its CPUs; the rest is interrupts (the loopback traffic), the control
// plane, the harness and anything else.
type CPUSplit struct {
	Server, Dnsperf, Idle float64
	ServerSec             float64 // CPU seconds of the server's processes
}

// split is the CPU split between a and b, given dnsperf's CPU time.
func split(a, b cpuMark, dnsperf time.Duration) CPUSplit {
	all := b.total - a.total // ticks of all CPUs
	if all <= 0 {
		return CPUSplit{}
	}
	s := CPUSplit{ServerSec: float64(b.server-a.server) * tick.Seconds()}
	s.Server = float64(b.server-a.server) / float64(all)
	s.Dnsperf = dnsperf.Seconds() / tick.Seconds() / float64(all)
	s.Idle = float64(b.idle-a.idle) / float64(all)
	return s
}

// foreignShare is the share of one CPU used by other processes between a and
// b, given the ticks of benchmark processes that ended in between (dnsperf).
func foreignShare(a, b cpuMark, ended int64) float64 {
	wall := b.at.Sub(a.at)
	if wall <= 0 {
		return 0
	}
	foreign := (b.busy - a.busy) - (b.own - a.own) - ended
	return max(0, float64(foreign)*float64(tick)/float64(wall))
}

// CPUPerM is the server's CPU seconds per million answers of a run, NaN
// without one.
func CPUPerM(r *Perf) float64 {
	if r == nil || r.Completed == 0 || r.CPU.ServerSec == 0 {
		return math.NaN()
	}
	return r.CPU.ServerSec / float64(r.Completed) * 1e6
}
