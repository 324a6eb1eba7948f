package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
)

// The tests run this test binary as the sidecar: with SIDECAR_TEST_MAIN
// set, TestMain calls main with the given arguments.
func TestMain(m *testing.M) {
	if os.Getenv("SIDECAR_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func sidecar(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SIDECAR_TEST_MAIN=1")
	return cmd
}

func TestBadFlagsExit2(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"--probe=kubedns,127.0.0.1:10053"}, want: `invalid argument "kubedns,127.0.0.1:10053" for "--probe" flag: probe "kubedns,127.0.0.1:10053": want label,server[:port],name[,interval_seconds][,type], got 2 fields`},
		{args: []string{"--probe=a,127.0.0.1,x", "--probe=a,127.0.0.1,y"}, want: `label "a" is already used`},
		{args: []string{"--probe=a,127.0.0.1,x,5,MX"}, want: `type "MX" is not one of A, AAAA, ANY, SRV`},
		{args: []string{"--prometheus-path=metrics"}, want: `--prometheus-path: "metrics" does not start with /`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			cmd := sidecar(tt.args...)
			cmd.Stderr = &stderr
			err := cmd.Run()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
				t.Fatalf("exit: %v, want status 2\n%s", err, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

// syncBuffer collects a child's output safely.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a sidecar process started by startSidecar.
type running struct {
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan error
}

// startSidecar runs the sidecar with args plus an HTTP port, and waits for
// /healthz. It returns nil if the sidecar exited because the port was
// taken meanwhile.
func startSidecar(t *testing.T, args ...string) *running {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	r := &running{cmd: sidecar(append(args, "--prometheus-addr=127.0.0.1", "--prometheus-port="+port)...), out: &syncBuffer{}, exited: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	url := "http://127.0.0.1:" + port + "/healthz"
	var (
		exited  bool
		exitErr error
	)
	err = wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		select {
		case exitErr = <-r.exited:
			exited = true
			return true, nil
		default:
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && string(body) == "ok\n", nil
	})
	switch {
	case exited && strings.Contains(r.out.String(), "address already in use"):
		return nil
	case exited:
		t.Fatalf("sidecar exited: %v\n%s", exitErr, r.out.String())
	case err == nil:
		return r
	}
	_ = r.cmd.Process.Kill()
	<-r.exited
	t.Fatalf("/healthz never answered\n%s", r.out.String())
	return nil
}

// TestSeedArgsAndSIGTERM starts the sidecar with the seed manifest's
// arguments (--logtostderr included), checks /healthz, sends SIGTERM and
// expects exit status 0.
func TestSeedArgsAndSIGTERM(t *testing.T) {
	var r *running
	for attempt := 0; r == nil && attempt < 3; attempt++ {
		r = startSidecar(t, "--v=2", "--logtostderr",
			"--probe=kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV",
			"--probe=dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local.,5,SRV")
	}
	if r == nil {
		t.Fatal("no free port in 3 attempts")
	}
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, r.out.String())
		}
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.exited
		t.Fatalf("no exit after SIGTERM\n%s", r.out.String())
	}
	for _, want := range []string{`FLAG: --logtostderr="true"`, "Starting probe", "Shutting down", "Stopped"} {
		if !strings.Contains(r.out.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, r.out.String())
		}
	}
}
