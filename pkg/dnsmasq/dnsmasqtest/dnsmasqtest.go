// Package dnsmasqtest is for the tests that run the real dnsmasq.
package dnsmasqtest

import (
	"errors"
	"os"
	"testing"
)

// Path is where Debian's dnsmasq-base installs dnsmasq, as in the image.
const Path = "/usr/sbin/dnsmasq"

// Require returns Path, and skips t when dnsmasq is not installed there.
// Any other failure to stat it fails t: a dnsmasq that is there but
// unusable is no reason to skip.
func Require(t testing.TB) string {
	t.Helper()
	_, err := os.Stat(Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		t.Skipf("%s is not installed: skipping a test of the real dnsmasq (apt-get install dnsmasq-base; CI does)", Path)
	case err != nil:
		t.Fatalf("dnsmasq: %v", err)
	}
	return Path
}
