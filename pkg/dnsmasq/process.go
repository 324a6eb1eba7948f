package dnsmasq

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

const (
	// tailLines is how many lines of output are kept to explain an exit.
	tailLines = 10
	// maxLine caps one logged line; longer ones are split.
	maxLine = 4096
	// pipeDelay bounds the wait for dnsmasq's output pipes to close once it
	// has exited (a grandchild could hold them open).
	pipeDelay = time.Second
)

// process is one dnsmasq run. Exactly one goroutine (started by
// startProcess) calls cmd.Wait; it records the result and closes done.
type process struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	out     *output

	done chan struct{}
	err  error // cmd.Wait's result; read only after done is closed
}

// startProcess starts path with args, its output streamed to logger. Lines
// for which refusal is true (when not nil) are also sent on out.refused.
func startProcess(logger klog.Logger, path string, args []string, now time.Time, refusal func(string) bool) (*process, error) {
	out := &output{logger: logger, refusal: refusal, refused: make(chan string, 1)}
	cmd := exec.Command(path, args...)
	cmd.Stdout = out.stream("stdout")
	cmd.Stderr = out.stream("stderr")
	cmd.WaitDelay = pipeDelay
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &process{cmd: cmd, pid: cmd.Process.Pid, started: now, out: out, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		out.flush()
		close(p.done)
	}()
	return p, nil
}

// signal sends sig; it does nothing once the process has been reaped.
func (p *process) signal(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
}

// catches reports whether the process has a handler for sig, from
// /proc/<pid>/status. A program that has not installed its handler yet
// would die of SIGHUP or SIGUSR1. Without /proc the answer is yes.
func (p *process) catches(sig syscall.Signal) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.pid) + "/status")
	if err != nil {
		return true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			bits, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return err != nil || bits&(1<<(uint(sig)-1)) != 0
		}
	}
	return true
}

// stop sends SIGTERM and waits for the process to exit, sending SIGKILL
// after grace. It reports whether SIGKILL was needed.
func (p *process) stop(clk clock.Clock, grace time.Duration) (killed bool) {
	p.signal(syscall.SIGTERM)
	t := clk.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-t.C():
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return true
}

// exitReason describes how the process ended: "exit status 1",
// "signal: killed", or "exit status 0".
func (p *process) exitReason() string {
	if p.err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.String()
	}
	return p.err.Error()
}

// exitCode is the exit status of the process, which has exited, or -1
// when a signal ended it.
func (p *process) exitCode() int {
	var ee *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &ee):
		return ee.ExitCode()
	}
	return -1
}

// exitError is the process's end as an error (never nil).
func (p *process) exitError() error {
	if p.err != nil {
		return p.err
	}
	return errors.New("exit status 0")
}

// output logs each line dnsmasq writes and keeps the last few. Lines for
// which refusal is true go to refused too; while one waits there, others
// are dropped.
type output struct {
	logger  klog.Logger
	refusal func(string) bool
	refused chan string
	mu      sync.Mutex
	tail    []string
	open    []*lineWriter
}

func (o *output) stream(name string) *lineWriter {
	w := &lineWriter{o: o, name: name}
	o.open = append(o.open, w)
	return w
}

func (o *output) line(stream, s string) {
	o.logger.V(1).Info("dnsmasq", "stream", stream, "line", s)
	if o.refusal != nil && o.refusal(s) {
		select {
		case o.refused <- s:
		default:
		}
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.tail) == tailLines {
		o.tail = append(o.tail[:0], o.tail[1:]...)
	}
	o.tail = append(o.tail, s)
}

// flush logs unterminated last lines; called once the writers are done.
func (o *output) flush() {
	for _, w := range o.open {
		if w.buf.Len() > 0 {
			o.line(w.name, w.buf.String())
			w.buf.Reset()
		}
	}
}

// last returns the last lines written, oldest first.
func (o *output) last() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.tail...)
}

// said returns whether one of the last lines written holds s.
func (o *output) said(s string) bool {
	for _, l := range o.last() {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

// lineWriter splits one stream into lines. os/exec calls Write from a
// single goroutine per stream.
type lineWriter struct {
	o    *output
	name string
	buf  bytes.Buffer
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	for {
		data := w.buf.Bytes()
		i := bytes.IndexByte(data, '\n')
		if i < 0 || i > maxLine {
			if len(data) >= maxLine {
				w.o.line(w.name, string(data[:maxLine]))
				w.buf.Next(maxLine)
				continue
			}
			return len(b), nil
		}
		w.o.line(w.name, strings.TrimSuffix(string(data[:i]), "\r"))
		w.buf.Next(i + 1)
	}
}
