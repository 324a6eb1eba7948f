package dnsmasq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
)

// DefaultResolvFile is where dnsmasq reads its upstream servers unless told
// otherwise.
const DefaultResolvFile = "/etc/resolv.conf"

// readResolvFiles returns the nameservers of the resolv file dnsmasq would
// use among files (none: DefaultResolvFile): the one modified last, as
// dnsmasq polls them. It fails when none can be read.
func readResolvFiles(files []string) ([]netip.AddrPort, error) {
	if len(files) == 0 {
		files = []string{DefaultResolvFile}
	}
	var (
		latest string
		mtime  int64
		errs   []error
	)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if latest == "" || st.ModTime().UnixNano() > mtime {
			latest, mtime = f, st.ModTime().UnixNano()
		}
	}
	if latest == "" {
		return nil, fmt.Errorf("no resolv file: %w", errors.Join(errs...))
	}
	b, err := os.ReadFile(latest)
	if err != nil {
		return nil, err
	}
	return parseResolvConf(b), nil
}

// parseResolvConf returns the servers of "nameserver" (and "server") lines,
// port 53, the way dnsmasq reads them: other lines and addresses it cannot
// parse are skipped, and each server is kept once. An IPv6 address may
// carry a zone (fe80::1%eth0).
func parseResolvConf(b []byte) []netip.AddrPort {
	var out []netip.AddrPort
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || (f[0] != "nameserver" && f[0] != "server") {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if ap := netip.AddrPortFrom(a, 53); !slices.Contains(out, ap) {
			out = append(out, ap)
		}
	}
	return out
}
