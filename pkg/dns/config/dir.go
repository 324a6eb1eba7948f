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
// volume at dir, every period. Each non-hidden regular file (symlinks
// followed) is a key holding its content; directories and names starting with
// "." are skipped. A missing or empty directory means Default().
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
	t := &tracker{m: s.m, source: "dir:" + s.dir}
	tick := time.NewTicker(s.period)
	defer tick.Stop()
	lastErr := ""
	for {
		var c *Config
		data, version, err := readConfigDir(s.dir)
		switch {
		case err != nil:
			// An I/O error is no verdict on the data: log it once, retry at
			// the next tick, and start with the defaults meanwhile.
			if err.Error() != lastErr {
				klog.ErrorS(err, "Cannot read the kube-dns configuration directory; retrying", "dir", s.dir, "period", s.period)
				lastErr = err.Error()
			}
			if t.current == nil {
				t.current = Default()
				c = t.current
			}
		default:
			if lastErr != "" {
				klog.InfoS("The kube-dns configuration directory is readable again", "dir", s.dir)
				lastErr = ""
			}
			c = t.update(data, version)
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

// readConfigDir reads the configuration files of dir and returns them by name,
// with their version ("" when there are none).
func readConfigDir(dir string) (map[string]string, string, error) {
	var err error
	for range 3 { // the kubelet swaps the data at most every few seconds
		var data map[string]string
		if data, err = readConfigOnce(dir); !errors.Is(err, errSwapped) {
			if err != nil {
				return nil, "", err
			}
			return data, dataVersion(data), nil
		}
	}
	return nil, "", err
}

func readConfigOnce(dir string) (map[string]string, error) {
	base, atomic := dir, false
	if target, err := filepath.EvalSymlinks(filepath.Join(dir, "..data")); err == nil {
		base, atomic = target, true
	}
	// A file missing under the "..data" target means the kubelet removed the
	// old version: read again. Elsewhere it is a dangling symlink: skip it.
	missing := func(err error) error {
		if atomic {
			return fmt.Errorf("%w: %v", errSwapped, err)
		}
		return nil
	}
	entries, err := os.ReadDir(base)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, missing(err) // a missing directory means the defaults
	case err != nil:
		return nil, err
	}
	data := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(base, name)
		fi, err := os.Stat(path)
		if err == nil && !fi.Mode().IsRegular() {
			continue
		}
		var b []byte
		if err == nil {
			b, err = os.ReadFile(path)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := missing(err); err != nil {
				return nil, err
			}
			continue
		case err != nil:
			return nil, err
		}
		data[name] = string(b)
	}
	return data, nil
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
