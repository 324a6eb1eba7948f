package config

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/klog/v2"
)

// DefaultPeriod is the polling period of a DirSource created with a period
// that is not positive (the original's --config-period default).
const DefaultPeriod = 10 * time.Second

// NewDirSource returns a Source reading the kube-dns ConfigMap mounted as a
// volume at dir, every period. Each name not starting with "." is a key, and
// its file (symlinks followed) holds the value: a regular file of at most
// 1 MiB, which it is in a ConfigMap volume. Anything else under a key's name
// (a directory, a FIFO, a larger file, one that cannot be read) rejects the
// key as an invalid value would, and is never read whole; a dangling symlink
// is an absent key. A missing or empty directory means Default().
//
// When dir holds the kubelet's "..data" symlink, the files are read from its
// target, so that one read sees a single version of the ConfigMap even if the
// kubelet swaps the link meanwhile.
func NewDirSource(dir string, period time.Duration, m *Metrics) Source {
	if period <= 0 {
		period = DefaultPeriod
	}
	return &dirSource{dir: dir, period: period, m: m}
}

type dirSource struct {
	dir    string
	period time.Duration
	m      *Metrics
}

func (s *dirSource) Run(ctx context.Context, ch chan<- *Config) error {
	logger := klog.FromContext(ctx)
	t := &tracker{m: s.m, source: "dir:" + s.dir, logger: logger}
	tick := time.NewTicker(s.period)
	defer tick.Stop()
	lastErr := ""
	for {
		var c *Config
		data, unreadable, version, err := readConfigDir(s.dir)
		switch {
		case err != nil:
			// An I/O error is no verdict on the data: log it once, retry at
			// the next tick, and start with the defaults meanwhile.
			if err.Error() != lastErr {
				logger.Error(err, "Cannot read the kube-dns configuration directory; retrying", "dir", s.dir, "period", s.period)
				lastErr = err.Error()
			}
			if t.current == nil {
				t.current = Default()
				c = t.current
			}
		default:
			if lastErr != "" {
				logger.Info("The kube-dns configuration directory is readable again", "dir", s.dir)
				lastErr = ""
			}
			c = t.update(data, unreadable, version)
		}
		if c != nil && !send(ctx, ch, c) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// errSwapped means the kubelet replaced the data while they were being read.
var errSwapped = errors.New("the configuration changed while being read")

// readConfigDir reads the configuration files of dir and returns them by
// name, the reasons why those of some names could not be read, and their
// version ("" when there are none). err is an error of the directory itself.
func readConfigDir(dir string) (data map[string]string, unreadable map[string]error, version string, err error) {
	for range 3 { // the kubelet swaps the data at most every few seconds
		if data, unreadable, err = readConfigOnce(dir); !errors.Is(err, errSwapped) {
			if err != nil {
				return nil, nil, "", err
			}
			return data, unreadable, dirVersion(data, unreadable), nil
		}
	}
	return nil, nil, "", err
}

func readConfigOnce(dir string) (map[string]string, map[string]error, error) {
	base, atomic := dir, false
	if target, err := filepath.EvalSymlinks(filepath.Join(dir, "..data")); err == nil {
		base, atomic = target, true
	}
	// A file missing under the "..data" target means the kubelet removed the
	// old version: read again. Elsewhere it is a dangling symlink, which is
	// what the kubelet's atomic writer leaves of a removed key (it swaps
	// "..data" first, then deletes the key's symlink into it): the key is
	// absent, which is no error.
	missing := func(err error) error {
		if atomic {
			return fmt.Errorf("%w: %v", errSwapped, err)
		}
		return nil
	}
	entries, err := os.ReadDir(base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, missing(err) // a missing directory means the defaults
	case err != nil:
		return nil, nil, err
	}
	data, unreadable := map[string]string{}, map[string]error{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		val, err := readKeyFile(filepath.Join(base, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := missing(err); err != nil {
				return nil, nil, err
			}
		case err != nil:
			unreadable[name] = err
		default:
			data[name] = val
		}
	}
	return data, unreadable, nil
}

// dirVersion is dataVersion over the data and the reasons why keys could
// not be read: a key's file becoming a directory, or a file again, makes a
// new version.
func dirVersion(data map[string]string, unreadable map[string]error) string {
	if len(unreadable) == 0 {
		return dataVersion(data)
	}
	all := make(map[string]string, len(data)+len(unreadable))
	maps.Copy(all, data)
	for k, err := range unreadable {
		all["\x00"+k] = err.Error() // no file name has a NUL
	}
	return dataVersion(all)
}

// dataVersion is a sha256 over the sorted names and contents, or "" for no data.
func dataVersion(data map[string]string) string {
	if len(data) == 0 {
		return ""
	}
	h := sha256.New()
	for _, k := range slices.Sorted(maps.Keys(data)) {
		v := data[k]
		fmt.Fprintf(h, "%d:%s%d:%s", len(k), k, len(v), v)
	}
	return hex.EncodeToString(h.Sum(nil))
}
