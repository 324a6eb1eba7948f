package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app/options"
)

func parse(t *testing.T, args ...string) *options.NannyOptions {
	t.Helper()
	o := options.NewNannyOptions()
	fs := flag.NewFlagSet("dnsmasq-nanny", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.AddFlags(fs)
	t.Cleanup(func() { _ = fs.Set("v", "0") })
	if err := o.Parse(fs, args); err != nil {
		t.Fatal(err)
	}
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestNannyOptions(t *testing.T) {
	o := parse(t, "-dnsmasqExec=/bin/dnsmasq", "-restartDnsmasq=true", "-syncInterval=2s", "-logInterval=1m",
		"-serversFileDir=/run/nanny", "--", "-k", "--cache-size=1000")
	got := NannyOptions(o)
	if got.Exec != "/bin/dnsmasq" || !got.RestartOnChange || got.SyncInterval != 2*time.Second || got.ServersDir != "/run/nanny" ||
		got.LogInterval != time.Minute || !slices.Equal(got.Args, []string{"-k", "--cache-size=1000"}) ||
		got.Source == nil || got.Resolver == nil {
		t.Errorf("NannyOptions = %+v", got)
	}
}

// TestRun runs a stub dnsmasq under the nanny, with and without a
// configuration directory, and stops it with the context.
func TestRun(t *testing.T) {
	for _, withDir := range []bool{true, false} {
		t.Run(fmt.Sprintf("configDir=%v", withDir), func(t *testing.T) {
			dir := t.TempDir()
			marker := filepath.Join(dir, "started")
			exe := filepath.Join(dir, "dnsmasq")
			script := fmt.Sprintf("#!/bin/sh\necho \"$*\" > %q\nexec sleep 1000\n", marker)
			if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			configDir := ""
			if withDir {
				configDir = filepath.Join(dir, "config")
			}
			// No lameduck: its wait for quiet (pkg/lameduck, tested there)
			// reads the host's UDP counters, which other traffic keeps
			// moving on a busy machine, up to -lameduckMax.
			o := parse(t, "-dnsmasqExec="+exe, "-configDir="+configDir, "-lameduck=0s", "-lameduckMax=0s", "--", "--cache-size=10", "-R")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Run(ctx, o) }()
			var (
				b   []byte
				err error
			)
			if wait.PollUntilContextTimeout(context.Background(), 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
				b, err = os.ReadFile(marker)
				return err == nil && strings.HasPrefix(string(b), "--keep-in-foreground --cache-size=10 -R --servers-file=/"), nil
			}) != nil {
				t.Fatalf("dnsmasq not started: %q, %v", b, err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run = %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return")
			}
		})
	}
}
