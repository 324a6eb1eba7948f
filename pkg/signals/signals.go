// Package signals turns SIGTERM and SIGINT into context cancellation.
package signals

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"k8s.io/klog/v2"
)

// Context returns a context cancelled by the first SIGTERM or SIGINT. A second
// signal exits the process at once with status 1.
func Context() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		sig := <-ch
		klog.InfoS("Received signal, shutting down", "signal", sig.String())
		cancel()
		sig = <-ch
		klog.InfoS("Received second signal, exiting now", "signal", sig.String())
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	}()
	return ctx
}
