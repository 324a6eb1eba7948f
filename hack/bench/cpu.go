package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The machine may be shared: CPU time that went to processes outside the
// benchmark during a run is measured, so a disturbed run can be repeated and
// flagged. Times are in clock ticks (USER_HZ, 100 per second on Linux).
const tick = 10 * time.Millisecond

// noisyCPU is the share of one CPU taken by other processes above which a
// run is repeated (at most twice; the least disturbed attempt is kept).
const noisyCPU = 0.15

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
	m.busy, m.idle, m.total = statTicks()
	for _, pid := range own {
		m.own += procTicks(pid)
	}
	for _, pid := range server {
		m.server += procTicks(pid)
	}
	return m
}

// cpuSplit is where the machine's CPU time went during a run, as shares of
// all its CPUs; the rest is interrupts (the loopback traffic), the control
// plane, the harness and anything else.
type cpuSplit struct {
	server, dnsperf, idle float64
	serverSec             float64 // CPU seconds of the server's processes
}

// split is the CPU split between a and b, given dnsperf's CPU time.
func split(a, b cpuMark, dnsperf time.Duration) cpuSplit {
	all := b.total - a.total // ticks of all CPUs
	if all <= 0 {
		return cpuSplit{}
	}
	s := cpuSplit{serverSec: float64(b.server-a.server) * tick.Seconds()}
	s.server = float64(b.server-a.server) / float64(all)
	s.dnsperf = dnsperf.Seconds() / tick.Seconds() / float64(all)
	s.idle = float64(b.idle-a.idle) / float64(all)
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

// statTicks reads /proc/stat's cpu line: busy sums the user, nice, system
// and steal fields, idle the idle and iowait ones, total the first eight
// (guest time is already in user). Interrupt time is in total but not in
// busy: with IRQ time accounting the loopback traffic of the benchmark
// itself lands there, in no process.
func statTicks() (busy, idle, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseStatLine(line)
}

func parseStatLine(line string) (busy, idle, total int64) {
	f := strings.Fields(line)
	// cpu user nice system idle iowait irq softirq steal guest guest_nice
	for idx := 1; idx <= 8 && idx < len(f); idx++ {
		v, _ := strconv.ParseInt(f[idx], 10, 64)
		total += v
		switch idx {
		case 1, 2, 3, 8:
			busy += v
		case 4, 5:
			idle += v
		}
	}
	return busy, idle, total
}

// procTicks is utime+stime of pid (0 when it is gone): of all its threads,
// the ones that ended included.
func procTicks(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}

// pids lists the server's processes and their descendants.
func (s *server) pids() []int {
	var out []int
	for _, p := range s.procs {
		out = append(out, p.cmd.Process.Pid)
		out = append(out, descendants(p.cmd.Process.Pid)...)
	}
	return out
}

// pids lists the control plane's processes.
func (c *cluster) pids() []int {
	var out []int
	for _, name := range []string{"kube-apiserver.pid", "etcd.pid"} {
		b, err := os.ReadFile(filepath.Join(c.dir, name))
		if err != nil {
			continue
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			out = append(out, pid)
		}
	}
	return out
}
