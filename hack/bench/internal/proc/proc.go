package proc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// Descendants lists the children of pid, their children, and so on.
func Descendants(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, Descendants(c)...)
			}
		}
	}
	return out
}

// Proc is one process the harness started.
type Proc struct {
	Name, LogPath, CommandLine string
	Cmd                        *exec.Cmd
	Done                       chan struct{}
	Err                        error // after done
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
	p := &Proc{Name: name, LogPath: logPath, Cmd: cmd, Done: make(chan struct{}),
		CommandLine: strings.TrimSpace(strings.Join(env, " ") + " " + shellJoin(append([]string{bin}, args...)))}
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
		kids[pid] = startTime(pid)
	}
	select {
	case <-p.Done:
	default:
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.Done:
		case <-time.After(10 * time.Second):
			Logf("%s did not stop within 10s of SIGTERM; killing it", p.Name)
			_ = p.Cmd.Process.Kill()
			<-p.Done
		}
	}
	for pid, started := range kids {
		if started != "" && startTime(pid) == started {
			Logf("%s left process %d behind; killing it", p.Name, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// startTime is field 22 of /proc/<pid>/stat ("" when the process is gone).
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; count after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19]
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " #'\"$") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// FreePort returns a loopback port that is free for both UDP and TCP.
// freePort returns a loopback port free for both UDP and TCP.
func FreePort() (int, error) { return freeport.Loopback() }

func FreePorts(n int) ([]int, error) {
	var ports []int
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := FreePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// LookBin finds a program on PATH or, as a user's PATH may not hold them,
// in the sbin directories.
func LookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}

// Logf prints one line of progress to stderr.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func Sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
