package config

import (
	"context"
	"errors"

	"k8s.io/klog/v2"
)

// Source delivers configurations. Implementations: NewDirSource (a mounted ConfigMap
// directory, polled), NewConfigMapSource (one ConfigMap watched by name), NewStatic.
type Source interface {
	// Run delivers the current configuration and then every change on ch, until
	// ctx ends. An invalid update, or one with a key that cannot be read, is
	// rejected (one log line per key naming it and the reason, the
	// rejected-updates counter incremented) and nothing is sent: the last
	// good configuration stays in force. A missing directory/ConfigMap means
	// Default(). Run logs through klog.FromContext(ctx).
	Run(ctx context.Context, ch chan<- *Config) error
}

// NewStatic returns a Source that sends c (Default() if nil) once and then
// waits for its context to end.
func NewStatic(c *Config) Source {
	if c == nil {
		c = Default()
	}
	return staticSource{c}
}

type staticSource struct{ c *Config }

func (s staticSource) Run(ctx context.Context, ch chan<- *Config) error {
	if send(ctx, ch, s.c) {
		<-ctx.Done()
	}
	return nil
}

// send delivers c unless ctx ends first, and reports whether it did.
func send(ctx context.Context, ch chan<- *Config, c *Config) bool {
	select {
	case ch <- c:
		return true
	case <-ctx.Done():
		return false
	}
}

// tracker is what the polling and watching sources share: it turns versions
// of the ConfigMap data into the configurations to send. It is used by one
// goroutine.
type tracker struct {
	m       *Metrics
	logger  klog.Logger
	source  string  // for logs, e.g. "dir:/kube-dns-config"
	version string  // of the last data processed, valid or not
	current *Config // last sent; nil before the first send
}

// update processes the data of a version and returns the configuration to
// send, or nil when there is nothing new: the version was already processed,
// the data are invalid or a key could not be read (unreadable[key] says why;
// either way rejected, logged and counted), or they configure the same as
// the current configuration. The first call always returns a configuration:
// Default() when the data are rejected.
func (t *tracker) update(data map[string]string, unreadable map[string]error, version string) *Config {
	if t.current != nil && version == t.version {
		return nil
	}
	t.version = version
	c, err := parse(data, unreadable)
	if err != nil {
		for _, e := range joined(err) {
			key := "" // Parse returns only *KeyError; be safe anyway
			if ke := (*KeyError)(nil); errors.As(e, &ke) {
				key = ke.Key
			}
			t.logger.Error(e, "Rejected kube-dns configuration; keeping the last good one",
				"key", key, "source", t.source, "version", version, "startup", t.current == nil)
			t.m.reject(key)
		}
		if t.current != nil {
			return nil
		}
		t.current = Default() // at startup: the defaults, until valid data come
		return t.current
	}
	c.Version = version
	t.m.reloaded()
	if t.current != nil && sameEffect(c, t.current) {
		return nil
	}
	t.current = c
	t.m.applied()
	return c
}

// joined returns the errors joined in err, or err alone.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
