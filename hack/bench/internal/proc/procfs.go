package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// StatTicks reads /proc/stat's cpu line: busy sums the user, nice, system
// and steal fields, idle the idle and iowait ones, total the first eight
// (guest time is already in user). Interrupt time is in total but not in
// busy: with IRQ time accounting the loopback traffic of the benchmark
// itself lands there, in no process.
func StatTicks() (busy, idle, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return ParseStatLine(line)
}

func ParseStatLine(line string) (busy, idle, total int64) {
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

// ProcTicks is utime+stime of pid (0 when it is gone): of all its threads,
// the ones that ended included.
func ProcTicks(pid int) int64 {
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

// ProcStatus reads one "kB" field of /proc/PID/status (0 when it cannot).
func ProcStatus(pid int, field string) int64 { return Status(pid, field)[0] }

// Status reads "kB" fields of /proc/PID/status, such as "VmRSS:", in the
// order asked (0 for one it cannot read).
func Status(pid int, fields ...string) []int64 {
	out := make([]int64, len(fields))
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return out
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		for i, f := range fields {
			if v, ok := strings.CutPrefix(line, f); ok {
				out[i], _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	return out
}

// ClockTicks is USER_HZ, the unit of /proc/PID/stat's times.
const ClockTicks = 100
