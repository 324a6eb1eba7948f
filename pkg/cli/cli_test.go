package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/version"
)

type ctxKey struct{}

// fake is a Command whose steps record their calls in order.
type fake struct {
	version             string
	parse, valid, runEr error
	calls               []string
}

func (f *fake) command() Command {
	return Command{
		Name:     "prog",
		Parse:    func() error { f.calls = append(f.calls, "parse"); return f.parse },
		Version:  func() string { f.calls = append(f.calls, "version"); return f.version },
		Validate: func() error { f.calls = append(f.calls, "validate"); return f.valid },
		LogFlags: func() { f.calls = append(f.calls, "logflags") },
		Run: func(ctx context.Context) error {
			f.calls = append(f.calls, "run")
			if ctx.Value(ctxKey{}) != "signals" {
				return errors.New("Run did not get the signal context")
			}
			return f.runEr
		},
	}
}

func TestCommandMain(t *testing.T) {
	old := version.Version
	t.Cleanup(func() { version.Version = old })
	version.Version = "v1.2.3"

	tests := []struct {
		name           string
		f              fake
		code           int
		stdout, stderr string
		calls          string
		log            string
	}{
		{name: "bad command line", f: fake{parse: errors.New("bad flag")},
			code: 2, stderr: "bad flag\n", calls: "parse"},
		{name: "version", f: fake{version: "true"},
			code: 0, stdout: version.String("prog") + "\n", calls: "parse version"},
		{name: "version raw", f: fake{version: "raw"},
			code: 0, stdout: "v1.2.3\n", calls: "parse version"},
		{name: "invalid", f: fake{version: "false", valid: errors.New("--x: bad")},
			code: 2, stderr: "--x: bad\n", calls: "parse version validate"},
		{name: "run fails", f: fake{version: "false", runEr: errors.New("boom")},
			code: 1, calls: "parse version validate logflags signals run", log: `"prog failed" err="boom"`},
		{name: "run ends", f: fake{version: "false"},
			code: 0, calls: "parse version validate logflags signals run", log: `"Starting" version="prog v1.2.3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			klog.LogToStderr(false)
			klog.SetOutput(&log)
			t.Cleanup(func() {
				klog.SetOutput(os.Stderr)
				klog.LogToStderr(true)
			})
			var stdout, stderr bytes.Buffer
			signalContext := func() context.Context {
				tt.f.calls = append(tt.f.calls, "signals")
				return context.WithValue(context.Background(), ctxKey{}, "signals")
			}
			code := tt.f.command().main(&stdout, &stderr, signalContext)
			klog.Flush()
			if code != tt.code {
				t.Errorf("exit status %d, want %d", code, tt.code)
			}
			if stdout.String() != tt.stdout || stderr.String() != tt.stderr {
				t.Errorf("stdout %q, stderr %q; want %q, %q", stdout.String(), stderr.String(), tt.stdout, tt.stderr)
			}
			if calls := strings.Join(tt.f.calls, " "); calls != tt.calls {
				t.Errorf("calls %q, want %q", calls, tt.calls)
			}
			if !strings.Contains(log.String(), tt.log) {
				t.Errorf("log lacks %s:\n%s", tt.log, log.String())
			}
		})
	}
}
