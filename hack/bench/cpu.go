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
	at   time.Time
	busy int64 // all CPUs, non-idle
	own  int64 // the benchmark's processes
}

// markCPU reads the machine's busy time and that of the given processes.
func markCPU(pids []int) cpuMark {
	m := cpuMark{at: time.Now(), busy: busyTicks()}
	for _, pid := range pids {
		m.own += procTicks(pid)
	}
	return m
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

// busyTicks sums the user, nice, system and steal fields of /proc/stat's
// cpu line. Interrupt time is left out: with IRQ time accounting the
// loopback traffic of the benchmark itself lands there, in no process.
func busyTicks() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	// cpu user nice system idle iowait irq softirq steal ...
	for _, idx := range []int{1, 2, 3, 8} {
		if idx < len(f) {
			v, _ := strconv.ParseInt(f[idx], 10, 64)
			busy += v
		}
	}
	return busy
}

// procTicks is utime+stime of pid (0 when it is gone).
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
