package dnsmasq

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"k8s.io/klog/v2"
)

// The servers file lives in a directory of its own inside the directory the
// nanny is given (several nannies may share /tmp), named serversDirPrefix
// and a random suffix, and locked (flock) for as long as the nanny runs. A
// nanny that was killed leaves its directory behind, unlocked; the next one
// removes it, so that a crash-looping container does not fill its emptyDir.
const (
	serversDirPrefix = "dnsmasq-nanny-"
	serversFileName  = "servers.conf"
)

// serversFile is the file dnsmasq reads with --servers-file.
type serversFile struct {
	dir  string
	path string
	lock *os.File // the directory, locked
}

// openServersFile makes the servers file's directory inside parent and
// checks that dnsmasq can read what is written there.
func openServersFile(logger klog.Logger, parent, user string) (*serversFile, error) {
	parent, err := filepath.Abs(parent)
	if err != nil {
		return nil, err
	}
	removeStaleServersDirs(logger, parent)
	// Made under a name the stale-directory sweep ignores, locked, then
	// renamed: another nanny never sees it unlocked.
	tmp, err := os.MkdirTemp(parent, "."+serversDirPrefix)
	if err != nil {
		return nil, err
	}
	lock, err := lockDir(tmp)
	if err != nil {
		_ = os.Remove(tmp)
		return nil, err
	}
	dir := filepath.Join(parent, strings.TrimPrefix(filepath.Base(tmp), "."))
	if err := os.Rename(tmp, dir); err != nil {
		lock.Close()
		_ = os.Remove(tmp)
		return nil, err
	}
	s := &serversFile{dir: dir, path: filepath.Join(dir, serversFileName), lock: lock}
	// dnsmasq started as root reads the file after changing to its user
	// ("nobody" by default), also at its start.
	if err := os.Chmod(dir, 0o755); err != nil {
		s.close()
		return nil, err
	}
	if os.Geteuid() == 0 && user != "root" {
		if err := searchableByOthers(dir); err != nil {
			s.close()
			return nil, fmt.Errorf("dnsmasq, started as root, reads its servers file as an unprivileged user: %w", err)
		}
	}
	return s, nil
}

// write replaces the file's content with lines, atomically: a reader sees
// the old file or the new one, never a part.
func (s *serversFile) write(lines []string) error {
	f, err := os.CreateTemp(s.dir, ".servers-")
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	_, err = f.WriteString(b.String())
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), s.path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", s.path, err)
	}
	return nil
}

// close removes the directory and releases its lock.
func (s *serversFile) close() {
	_ = os.RemoveAll(s.dir)
	s.lock.Close()
}

func lockDir(dir string) (*os.File, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return f, nil
}

// removeStaleServersDirs removes the directories in parent that nannies no
// longer running left behind: those nobody holds the lock of.
func removeStaleServersDirs(logger klog.Logger, parent string) {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return // MkdirTemp will say what is wrong with parent
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), serversDirPrefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		lock, err := lockDir(dir)
		if err != nil {
			continue // a running nanny's, or not ours to touch
		}
		if err := os.RemoveAll(dir); err == nil {
			logger.V(2).Info("Removed the servers file directory of a nanny no longer running", "dir", dir)
		}
		lock.Close()
	}
}

// searchableByOthers checks that every directory from dir up to the root
// lets any user through (the x bit for others).
func searchableByOthers(dir string) error {
	for d := dir; ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users (mode %v)", d, st.Mode().Perm())
		}
		if parent := filepath.Dir(d); parent == d {
			return nil
		}
	}
}
