// Package cli holds the sequence the three commands' main functions share:
// parse the command line, print the version when asked, validate, log the
// start and the flags, set the Go memory limit from the container's
// (pkg/memlimit), run until SIGTERM or SIGINT, and exit.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/memlimit"
	"github.com/kubedns-go/kube-dns/pkg/signals"
	"github.com/kubedns-go/kube-dns/pkg/version"
)

// Command is one program, for Main. Every field must be set.
type Command struct {
	// Name is the program's name in the version and the logs.
	Name string
	// Parse parses the command line. Its error is printed on stderr and
	// the program exits with status 2.
	Parse func() error
	// Version, called after Parse, returns "true" to print the version and
	// exit 0, "raw" to print the bare version and exit 0; anything else
	// goes on.
	Version func() string
	// Validate checks the configuration. Its error is printed on stderr
	// and the program exits with status 2.
	Validate func() error
	// LogFlags logs the flags, after the "Starting" line.
	LogFlags func()
	// Run runs the program until ctx, cancelled by SIGTERM or SIGINT, is
	// done. Its error is logged and the program exits with status 1.
	Run func(ctx context.Context) error
}

// Main runs c and exits with status 0 (after flushing the logs, unless it
// only printed the version), 1 (Run failed; the logs are flushed) or 2
// (bad command line or configuration).
func Main(c Command) {
	switch code := c.main(os.Stdout, os.Stderr, signals.Context); code {
	case 0:
	case 1:
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	default:
		os.Exit(code)
	}
}

// main is Main up to the exit, returning the exit status. signalContext is
// called just before Run, so that the signals are caught only from then on.
func (c Command) main(stdout, stderr io.Writer, signalContext func() context.Context) int {
	if err := c.Parse(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	switch c.Version() {
	case "raw":
		fmt.Fprintln(stdout, version.Version)
		return 0
	case "true":
		fmt.Fprintln(stdout, version.String(c.Name))
		return 0
	}
	if err := c.Validate(); err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	klog.InfoS("Starting", "version", version.String(c.Name))
	c.LogFlags()
	switch cgroup, goLimit, err := memlimit.Set(); {
	case err != nil:
		klog.ErrorS(err, "Reading the container's memory limit; the Go runtime has none")
	case goLimit > 0:
		klog.InfoS("Go memory limit set below the container's", "containerLimit", cgroup, "goMemoryLimit", goLimit)
	}
	if err := c.Run(signalContext()); err != nil {
		klog.ErrorS(err, c.Name+" failed")
		return 1
	}
	klog.Flush()
	return 0
}
