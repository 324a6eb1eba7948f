package config

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/klog/v2"
)

// loggedContext returns a context whose logger writes into the buffer.
func loggedContext() (context.Context, *syncBuffer) {
	buf := &syncBuffer{}
	h := slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.Level(-10)}) // every V level
	return klog.NewContext(context.Background(), logr.FromSlogHandler(h)), buf
}

// secret is the content of a file outside the configuration directory; its
// part after the first 40 bytes must never be logged.
const secret = "root:$y$j9T$0123456789abcdefghijkl:19000:0:99999:7:::\n" +
	"daemon:TOPSECRET-HASH-MUST-NOT-BE-LOGGED:19000:0:99999:7:::\n" +
	"a=b,c=d,e=f,g=h,TOPSECRET-TAIL\n"

// TestDirSourceKeyFiles puts under a key's name what a ConfigMap volume
// never holds, at the source's start and, to a running source, by a swap of
// the key's symlink (as the kubelet swaps "..data"). Each is a rejection of
// that key: the defaults at the start, else the last good configuration
// stays; one line naming the key and the reason is logged, quoting no more
// than 40 bytes of any file; the key's counter goes up. A dangling symlink
// instead is an absent key.
func TestDirSourceKeyFiles(t *testing.T) {
	tests := []struct {
		name   string
		key    string
		setup  func(t *testing.T, path string) // creates it at path
		reason string                          // in the log line; "": not a rejection
		skip   func() string                   // why the case cannot run here, or ""
	}{
		{
			name:   "a directory",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.Mkdir(path, 0o755)) },
			reason: "a directory, not a file",
		},
		{
			name:   "a 2 MiB file",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.WriteFile(path, make([]byte, 2<<20), 0o644)) },
			reason: "2097152 bytes, more than the 1048576 a ConfigMap holds",
		},
		{
			name:   "a symlink to a sparse 64 GiB file",
			key:    KeyUpstreamNameservers,
			setup:  func(t *testing.T, path string) { must(t, os.Symlink(sparseFile(t, 64<<30), path)) },
			reason: "68719476736 bytes, more than",
		},
		{
			name: "a symlink to a file outside the directory",
			key:  KeyFederations,
			setup: func(t *testing.T, path string) {
				shadow := filepath.Join(t.TempDir(), "shadow")
				must(t, os.WriteFile(shadow, []byte(secret), 0o600))
				must(t, os.Symlink(shadow, path))
			},
			reason: `"root:$y$j9T$0123456789abcdefghijkl:19000"...`,
		},
		{
			name:   "a FIFO",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, syscall.Mkfifo(path, 0o644)) },
			reason: "a named pipe, not a regular file",
		},
		{
			name:   "a symlink loop",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.Symlink(filepath.Base(path), path)) },
			reason: "too many levels of symbolic links",
		},
		{
			name:   "an unreadable file",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.WriteFile(path, []byte("{}"), 0o000)) },
			reason: "permission denied",
			skip: func() string {
				if os.Geteuid() == 0 {
					return "root reads a file of mode 000; the read error is the /proc/self/mem case"
				}
				return ""
			},
		},
		{
			name:   "a file whose read fails",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.Symlink("/proc/self/mem", path)) },
			reason: "input/output error", // offset 0 of the reader's memory is not mapped
			skip: func() string {
				if _, err := os.Stat("/proc/self/mem"); err != nil {
					return err.Error()
				}
				return ""
			},
		},
		{
			name:   "a file larger than its size says",
			key:    KeyStubDomains,
			setup:  func(t *testing.T, path string) { must(t, os.Symlink("/proc/kallsyms", path)) },
			reason: "more than 1048576 bytes", // stat says 0
			skip:   func() string { return needFile("/proc/kallsyms", 2*maxKeySize) },
		},
		{
			name:  "a dangling symlink: the key is absent",
			key:   KeyStubDomains,
			setup: func(t *testing.T, path string) { must(t, os.Symlink("..data/"+KeyStubDomains, path)) },
		},
	}
	// The good values, and others to apply after a rejection.
	good := map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4"]}`, KeyUpstreamNameservers: `["8.8.8.8"]`, KeyFederations: "f=example.com"}
	fixed := map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.5"]}`, KeyUpstreamNameservers: `["9.9.9.9"]`, KeyFederations: "f=example.org"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != nil {
				if why := tt.skip(); why != "" {
					t.Skip(why)
				}
			}
			// without returns the good values without the key's.
			without := func(data map[string]string) *Config {
				data = maps.Clone(data)
				delete(data, tt.key)
				c, err := Parse(data)
				must(t, err)
				return c
			}
			t.Run("at the start", func(t *testing.T) {
				dir := t.TempDir()
				for k, v := range good {
					if k != tt.key {
						must(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
					}
				}
				tt.setup(t, filepath.Join(dir, tt.key))
				m, reg := newTestMetrics()
				ctx, log := loggedContext()
				ch := runContext(t, ctx, NewDirSource(dir, period, m))
				if tt.reason == "" {
					expect(t, ch, without(good))
					checkRejections(t, reg, log, tt.key, "", 0)
					return
				}
				expect(t, ch, Default())
				checkRejections(t, reg, log, tt.key, tt.reason, 1)
			})
			t.Run("swapped in", func(t *testing.T) {
				dir := t.TempDir()
				for k, v := range good {
					must(t, os.WriteFile(filepath.Join(dir, k), []byte(v), 0o644))
				}
				must(t, os.Rename(filepath.Join(dir, tt.key), filepath.Join(dir, ".good")))
				must(t, os.Symlink(".good", filepath.Join(dir, tt.key)))
				swap := func(target string) {
					must(t, os.Symlink(target, filepath.Join(dir, ".swap")))
					must(t, os.Rename(filepath.Join(dir, ".swap"), filepath.Join(dir, tt.key)))
				}
				m, reg := newTestMetrics()
				ctx, log := loggedContext()
				ch := runContext(t, ctx, NewDirSource(dir, period, m))
				lastGood, err := Parse(good)
				must(t, err)
				expect(t, ch, lastGood)

				tt.setup(t, filepath.Join(dir, ".bad"))
				swap(".bad")
				if tt.reason == "" {
					expect(t, ch, without(good))
					checkRejections(t, reg, log, tt.key, "", 0)
					return
				}
				waitFor(t, "the rejection", func() bool { return rejected(t, reg, tt.key) == 1 })
				expectNothing(t, ch)
				checkRejections(t, reg, log, tt.key, tt.reason, 1)

				// The key's file fixed: applied.
				must(t, os.WriteFile(filepath.Join(dir, ".fixed"), []byte(fixed[tt.key]), 0o644))
				swap(".fixed")
				now := maps.Clone(good)
				now[tt.key] = fixed[tt.key]
				want, err := Parse(now)
				must(t, err)
				expect(t, ch, want)
			})
		})
	}
}

// checkRejections checks that key's rejection counter is n, that as many
// rejections were logged, each naming key and holding reason, and that no
// line shows TOPSECRET.
func checkRejections(t *testing.T, reg *prometheus.Registry, log *syncBuffer, key, reason string, n int) {
	t.Helper()
	if got := rejected(t, reg, key); got != float64(n) {
		t.Errorf("rejected{key=%q} = %v, want %d", key, got, n)
	}
	var lines []string
	for l := range strings.Lines(log.String()) {
		if strings.Contains(l, "Rejected kube-dns configuration") {
			lines = append(lines, l)
		}
	}
	quoted := strings.ReplaceAll(reason, `"`, `\"`) // as slog's text quotes it
	if len(lines) != n || n > 0 && (!strings.Contains(lines[0], "key="+key) || !strings.Contains(lines[0], quoted)) {
		t.Errorf("rejections logged: %q; want %d with key=%s and %s", lines, n, key, quoted)
	}
	if strings.Contains(log.String(), "TOPSECRET") {
		t.Errorf("the log shows more than 40 bytes of a file:\n%s", log.String())
	}
}

// needFile returns why the test cannot use path, which must exist and
// hold more than size bytes, or "".
func needFile(path string, size int64) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if n, _ := io.Copy(io.Discard, io.LimitReader(f, size+1)); n <= size {
		return fmt.Sprintf("%s holds %d bytes or fewer here", path, size)
	}
	return ""
}

// sparseFile creates a file of size bytes that takes no room on disk.
func sparseFile(t *testing.T, size int64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "huge")
	must(t, os.WriteFile(path, nil, 0o644))
	if err := os.Truncate(path, size); err != nil {
		t.Skipf("no sparse file of %d bytes here: %v", size, err)
	}
	return path
}

// TestReadKeyFileHuge checks that a huge file is rejected without being
// read: it allocates next to nothing.
func TestReadKeyFileHuge(t *testing.T) {
	path := sparseFile(t, 64<<30)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := readKeyFile(path)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "68719476736 bytes") {
		t.Errorf("readKeyFile = %v, want the size rejected", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 64<<10 {
		t.Errorf("readKeyFile allocated %d bytes", n)
	}
}

// endless is a reader that never ends; it counts what was read.
type endless struct{ n int }

func (r *endless) Read(p []byte) (int, error) {
	r.n += len(p)
	return len(p), nil
}

// TestReadLimited checks that a file that grows after its size was checked
// is read no further than one byte past the limit.
func TestReadLimited(t *testing.T) {
	r := &endless{}
	if _, err := readLimited(r); err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Errorf("readLimited = %v, want the size rejected", err)
	}
	if r.n != maxKeySize+1 {
		t.Errorf("read %d bytes, want %d", r.n, maxKeySize+1)
	}
	for _, n := range []int{0, 1, maxKeySize} {
		got, err := readLimited(io.LimitReader(&endless{}, int64(n)))
		if err != nil || len(got) != n {
			t.Errorf("readLimited of %d bytes = %d bytes, %v", n, len(got), err)
		}
	}
}

// TestReadKeyFileErrors checks the errors that the directory source relies
// on: a missing file (a dangling symlink) is fs.ErrNotExist, the rest are
// not, and each names the file once.
func TestReadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	dangling := filepath.Join(dir, "dangling")
	must(t, os.Symlink("nowhere", dangling))
	if _, err := readKeyFile(dangling); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("readKeyFile(dangling symlink) = %v, want %v", err, os.ErrNotExist)
	}
	_, err := readKeyFile(dir)
	if err == nil || errors.Is(err, os.ErrNotExist) || strings.Count(err.Error(), dir) != 1 {
		t.Errorf("readKeyFile(directory) = %v", err)
	}
	file := filepath.Join(dir, "file")
	must(t, os.WriteFile(file, []byte("x"), 0o644))
	if got, err := readKeyFile(file); got != "x" || err != nil {
		t.Errorf("readKeyFile(file) = %q, %v", got, err)
	}
}
