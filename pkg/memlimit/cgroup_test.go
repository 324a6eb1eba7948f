package memlimit

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// TestMain runs the child of TestSetInCgroup when asked to.
func TestMain(m *testing.M) {
	if os.Getenv("MEMLIMIT_CHILD") == "1" {
		cg, goLimit, err := Set()
		fmt.Printf("%d %d %d %v\n", cg, goLimit, debug.SetMemoryLimit(-1), err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// ownCgroup returns the directory of this process's memory cgroup: cgroup
// v1's memory hierarchy or the unified one.
func ownCgroup(t *testing.T) (dir string, v1 bool) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	p, v1, ok := memoryCgroup(string(b))
	switch {
	case !ok:
		t.Fatalf("no memory cgroup in /proc/self/cgroup:\n%s", b)
	case v1:
		return filepath.Join("/sys/fs/cgroup/memory", p), true
	}
	return filepath.Join("/sys/fs/cgroup", p), false
}

// TestSetInCgroup runs a process in a real cgroup with a memory limit of
// 170 MiB, the add-on's, and checks the Go limit it sets itself.
func TestSetInCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("creating a cgroup needs root")
	}
	parent, v1 := ownCgroup(t)
	dir := filepath.Join(parent, fmt.Sprintf("memlimit-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatalf("creating a cgroup: %v", err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("removing the cgroup: %v", err)
		}
	})
	const limit = 170 << 20
	file := "memory.max"
	if v1 {
		file = "memory.limit_in_bytes"
	}
	if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.Itoa(limit)), 0o644); err != nil {
		t.Fatalf("setting the limit: %v", err)
	}
	run := func(env ...string) string {
		// The shell moves itself into the cgroup, then becomes the child.
		cmd := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec "$2" -test.run=none`, "sh", dir, os.Args[0])
		cmd.Env = append(os.Environ(), append([]string{"MEMLIMIT_CHILD=1"}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	want := fmt.Sprintf("%d %d %d <nil>", limit, int64(limit*Ratio), int64(limit*Ratio))
	if got := run(); got != want {
		t.Errorf("in the cgroup: got %q, want %q (cgroup limit, Go limit set, Go limit read back, error)", got, want)
	}
	if got, want := run("GOMEMLIMIT=100MiB"), fmt.Sprintf("0 0 %d <nil>", 100<<20); got != want {
		t.Errorf("with GOMEMLIMIT: got %q, want %q", got, want)
	}
}
