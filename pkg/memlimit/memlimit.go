// Package memlimit gives the Go runtime a soft memory limit below the memory
// limit of the container the program runs in (its cgroup, v1 or v2), so that
// the garbage collector works harder before the kernel's OOM killer acts: a
// start or a relist that would briefly pass the limit with garbage collects
// it instead. GOMEMLIMIT, when set, wins; without a cgroup limit nothing is
// set.
package memlimit

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Ratio is the share of the cgroup's limit the Go runtime may use. The rest
// is for what the runtime does not count: the binary's pages (about 16 MiB
// for kube-dns) and memory outside the Go heap.
const Ratio = 0.9

// unlimited is where cgroup v1 limits mean "no limit" (page-rounded
// math.MaxInt64).
const unlimited = 1 << 62

// Set sets the Go memory limit to Ratio of the cgroup's memory limit unless
// GOMEMLIMIT is set. It returns the cgroup's limit and the limit it set, 0
// and 0 when it set none.
func Set() (cgroup, goLimit int64, err error) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0, 0, nil
	}
	cgroup, err = Limit(os.DirFS("/"))
	if err != nil || cgroup == 0 {
		return 0, 0, err
	}
	goLimit = int64(float64(cgroup) * Ratio)
	debug.SetMemoryLimit(goLimit)
	return cgroup, goLimit, nil
}

// Limit returns the memory limit of the cgroup of this process, reading
// proc/self/cgroup and sys/fs/cgroup in root: the smallest limit of its
// cgroup and their parents, 0 when there is none.
func Limit(root fs.FS) (int64, error) {
	b, err := fs.ReadFile(root, "proc/self/cgroup")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	p, v1, ok := memoryCgroup(string(b))
	switch {
	case !ok:
		return 0, nil
	case v1:
		return v1Limit(root, p), nil
	}
	return v2Limit(root, p), nil
}

// memoryCgroup finds the memory cgroup's path in the text of
// /proc/self/cgroup (lines hierarchy-ID:controllers:path): cgroup v1's
// memory hierarchy when there is one (v1), else the unified hierarchy's.
func memoryCgroup(text string) (path string, v1, ok bool) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.SplitN(line, ":", 3)
		switch {
		case len(f) != 3:
		case slices.Contains(strings.Split(f[1], ","), "memory"):
			return f[2], true, true
		case f[0] == "0" && f[1] == "":
			path, ok = f[2], true
		}
	}
	return path, false, ok
}

// dir returns the directory of a cgroup's files under mount: mount/p on a
// host, or mount itself in a container, whose mount's root is its own
// cgroup (p then names a directory that is not under mount).
func dir(root fs.FS, mount, p string) string {
	full := path.Join(mount, strings.TrimPrefix(path.Clean("/"+p), "/"))
	if st, err := fs.Stat(root, full); err == nil && st.IsDir() {
		return full
	}
	return mount
}

// v1Limit reads hierarchical_memory_limit from memory.stat: the smallest
// limit of the cgroup and its parents.
func v1Limit(root fs.FS, p string) int64 {
	b, err := fs.ReadFile(root, path.Join(dir(root, "sys/fs/cgroup/memory", p), "memory.stat"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "hierarchical_memory_limit "); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || n <= 0 || n >= unlimited {
				return 0
			}
			return n
		}
	}
	return 0
}

// v2Limit reads memory.max of the cgroup and of each parent up to the
// mount's root, and returns the smallest; 0 when none holds a number (no
// limit, or no memory controller there).
func v2Limit(root fs.FS, p string) int64 {
	const mount = "sys/fs/cgroup"
	least := int64(0)
	for d := dir(root, mount, p); ; d = path.Dir(d) {
		if b, err := fs.ReadFile(root, path.Join(d, "memory.max")); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 && (least == 0 || n < least) {
				least = n
			}
		}
		if d == mount {
			return least
		}
	}
}
