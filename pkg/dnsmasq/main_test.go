package dnsmasq

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain catches SIGHUP in the test binary, so that the stub dnsmasq
// scripts it starts get the default disposition (an exec resets caught
// signals, but keeps ignored ones): a shell cannot trap a signal that was
// ignored when it started (POSIX), so under nohup every stub would ignore
// the nanny's SIGHUP. The real dnsmasq sets its own handlers either way.
func TestMain(m *testing.M) {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGHUP)
	os.Exit(m.Run())
}
