package dnsmasq

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/klog/v2"
)

func TestServersFile(t *testing.T) {
	parent := sharedDir(t)
	s, err := openServersFile(klog.Background(), parent, "")
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(s.dir) != parent || !strings.HasPrefix(filepath.Base(s.dir), serversDirPrefix) {
		t.Errorf("directory %s", s.dir)
	}
	for _, lines := range [][]string{{"server=/a/1.2.3.4#53", "server=8.8.8.8#53"}, nil} {
		if err := s.write(lines); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(s.path)
		if err != nil {
			t.Fatal(err)
		}
		want := ""
		for _, l := range lines {
			want += l + "\n"
		}
		if string(b) != want {
			t.Errorf("file %q, want %q", b, want)
		}
		st, _ := os.Stat(s.path)
		dst, _ := os.Stat(s.dir)
		if st.Mode().Perm() != 0o644 || dst.Mode().Perm() != 0o755 {
			t.Errorf("modes %v, %v: dnsmasq may read the file as another user", st.Mode().Perm(), dst.Mode().Perm())
		}
		if entries, _ := os.ReadDir(s.dir); len(entries) != 1 {
			t.Errorf("%s holds %v: a temporary file was left", s.dir, entries)
		}
	}

	// Another nanny sharing parent leaves this one's directory alone while
	// it runs, and removes it once it is gone (as if killed: unlocked).
	other, err := openServersFile(klog.Background(), parent, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path); err != nil {
		t.Errorf("a running nanny's file went: %v", err)
	}
	s.lock.Close() // the nanny dies
	third, err := openServersFile(klog.Background(), parent, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("a dead nanny's directory is still there: %v", err)
	}
	if _, err := os.Stat(other.dir); err != nil {
		t.Errorf("a running nanny's directory went: %v", err)
	}
	other.close()
	third.close()
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("%s holds %v after close", parent, entries)
	}
}

// TestServersFileNotSearchable: a nanny running as root starts dnsmasq as
// root, and dnsmasq then reads the file as "nobody": a directory that not
// every user can search is refused (so the nanny falls back to restarts),
// unless dnsmasq stays root. Not root, the nanny and dnsmasq are one user.
func TestServersFileNotSearchable(t *testing.T) {
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := searchableByOthers(private); err == nil || !strings.Contains(err.Error(), "not searchable") {
		t.Errorf("searchableByOthers(a 0700 directory) = %v", err)
	}
	if err := searchableByOthers(sharedDir(t)); err != nil {
		t.Errorf("searchableByOthers(a 0755 directory) = %v", err)
	}
	s, err := openServersFile(klog.Background(), private, "")
	switch {
	case os.Geteuid() == 0 && (err == nil || !strings.Contains(err.Error(), "not searchable")):
		t.Errorf("openServersFile in a 0700 directory as root: %v, want an error", err)
	case os.Geteuid() != 0 && err != nil:
		t.Errorf("openServersFile in a 0700 directory of our own: %v", err)
	case err == nil:
		s.close()
	}
	if entries, _ := os.ReadDir(private); len(entries) != 0 {
		t.Errorf("%s holds %v", private, entries)
	}
	s, err = openServersFile(klog.Background(), private, "root")
	if err != nil {
		t.Errorf("with dnsmasq staying root: %v", err)
	} else {
		s.close()
	}
}
