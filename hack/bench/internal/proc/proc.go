// Package proc starts and stops the processes of a run and reads what /proc
// says about them: RSS, CPU ticks, descendants.
package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// Proc is one process the harness started.
type Proc struct {
	Name, LogPath, CommandLine string
	Cmd                        *exec.Cmd
	Done                       chan struct{}
	Err                        error // after Done
}

// Start starts bin with args, its output in dir/<name>.log. The process
// gets its own process group, so a Ctrl-C reaches only the harness, which
// stops it in order; if the harness dies, the kernel kills it.
func Start(dir, name string, env []string, bin string, args ...string) (*Proc, error) {
	logPath := filepath.Join(dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	line := env
	for _, a := range append([]string{bin}, args...) {
		if strings.ContainsAny(a, " #'\"$") {
			a = "'" + a + "'"
		}
		line = append(line, a)
	}
	p := &Proc{Name: name, LogPath: logPath, Cmd: cmd, Done: make(chan struct{}), CommandLine: strings.Join(line, " ")}
	go func() {
		p.Err = cmd.Wait()
		close(p.Done)
	}()
	return p, nil
}

// Stop sends SIGTERM, waits up to 10 s, then kills the process and any
// descendant it left behind (the processes seen before it was stopped, by
// PID and start time, so a reused PID is left alone).
func (p *Proc) Stop() {
	kids := map[int]string{}
	for _, pid := range Descendants(p.Cmd.Process.Pid) {
		kids[pid] = stat(pid, 19)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.Done:
	case <-time.After(10 * time.Second):
		Logf("%s did not stop within 10s of SIGTERM; killing it", p.Name)
		_ = p.Cmd.Process.Kill()
		<-p.Done
	}
	for pid, started := range kids {
		if started != "" && stat(pid, 19) == started && stat(pid, 0) != "Z" { // a zombie is for its parent to reap
			Logf("%s left process %d behind; killing it", p.Name, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Descendants lists the children of pid, their children, and so on.
func Descendants(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(append(out, c), Descendants(c)...)
			}
		}
	}
	return out
}

// stat is field i+3 of /proc/PID/stat, counted after the command name
// (which may hold spaces and parentheses): 11 utime, 12 stime, 19 the start
// time; "" when the process is gone.
func stat(pid, i int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) <= i {
		return ""
	}
	return f[i]
}

// ProcTicks is utime+stime of pid in clock ticks (USER_HZ; 0 when it is
// gone): of all its threads, the ones that ended included.
func ProcTicks(pid int) int64 {
	u, _ := strconv.ParseInt(stat(pid, 11), 10, 64)
	s, _ := strconv.ParseInt(stat(pid, 12), 10, 64)
	return u + s
}

// StatTicks reads /proc/stat's cpu line: busy sums the user, nice, system
// and steal fields, idle the idle and iowait ones, total the first eight
// (guest time is already in user). Interrupt time is in total but not in
// busy: with IRQ time accounting the loopback traffic of the benchmark
// itself lands there, in no process.
func StatTicks() (busy, idle, total int64) {
	b, _ := os.ReadFile("/proc/stat")
	line, _, _ := strings.Cut(string(b), "\n")
	return ParseStatLine(line)
}

// ParseStatLine reads "cpu user nice system idle iowait irq softirq steal
// guest guest_nice" as StatTicks says.
func ParseStatLine(line string) (busy, idle, total int64) {
	f := strings.Fields(line)
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

// ProcStatus reads one "kB" field of /proc/PID/status (0 when it cannot).
func ProcStatus(pid int, field string) int64 { return Status(pid, field)[0] }

// Status reads "kB" fields of /proc/PID/status, such as "VmRSS:", in the
// order asked (0 for one it cannot read).
func Status(pid int, fields ...string) []int64 {
	out := make([]int64, len(fields))
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.Lines(string(b)) {
		for i, f := range fields {
			if v, ok := strings.CutPrefix(line, f); ok {
				out[i], _ = strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			}
		}
	}
	return out
}

// FreePorts returns n different loopback ports, each free for both UDP and
// TCP.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for len(ports) < n {
		p, err := freeport.Loopback()
		if err != nil {
			return nil, err
		}
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// LookBin finds a program on PATH or, as a user's PATH may not hold them,
// in the sbin directories.
func LookBin(name string) (string, error) {
	for _, dir := range []string{"", "/usr/sbin/", "/usr/local/sbin/", "/sbin/"} {
		if p, err := exec.LookPath(dir + name); err == nil && (dir == "" || !strings.Contains(name, "/")) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}

// Logf prints one line of progress to stderr.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Sleep sleeps for d, or less when ctx ends first: then it reports false.
func Sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
