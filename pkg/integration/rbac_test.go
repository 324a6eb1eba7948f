package integration

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMissingPermission runs kubedns in verified pod mode without the pods
// ClusterRole: it must say so in one clear line, not crash-loop with stack
// traces, and exit non-zero once --initial-sync-timeout passes.
func TestMissingPermission(t *testing.T) {
	requireCluster(t)
	k := startKubeDNS(t, "--pod-records=verified", "--initial-sync-timeout=4s")
	var err error
	select {
	case err = <-k.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("kube-dns did not give up after --initial-sync-timeout")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	log := k.log()
	var forbidden []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "forbidden") {
			forbidden = append(forbidden, line)
		}
	}
	if len(forbidden) != 1 {
		t.Errorf("want one line naming the missing permission, got %d:\n%s", len(forbidden), strings.Join(forbidden, "\n"))
	}
	if !strings.Contains(log, "not synced within 4s: pods") {
		t.Errorf("the final error does not name the informer that did not sync")
	}
	if len(forbidden) == 0 || !strings.Contains(forbidden[0], "check the ClusterRole") || !strings.Contains(forbidden[0], `resource="pods"`) {
		t.Errorf("the first line does not name the resource and the fix: %q", forbidden)
	}
	if strings.Contains(log, "goroutine ") || strings.Contains(log, "panic") {
		t.Errorf("stack trace in the log:\n%s", log)
	}
}
