// Package procnet reads the counters a network namespace keeps in
// /proc/net/netstat and /proc/net/snmp: the sidecar its TCP accept-queue
// drops, kubedns and the nanny the UDP datagrams that tell a stopping pod
// whether it is still being sent queries.
package procnet

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// Counter reads the field name of section in the file at path, e.g.
// Counter("/proc/net/snmp", "Udp", "InDatagrams"); "/proc/net" is the
// reading process's namespace (the pod's, for a container).
func Counter(path, section, name string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v, err := ParseCounter(f, section, name)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ParseCounter returns the value of field name in section of a
// /proc/net/netstat (or /proc/net/snmp), whose sections are pairs of lines:
//
//	TcpExt: SyncookiesSent SyncookiesRecv ... ListenOverflows ...
//	TcpExt: 0 0 ... 1523 ...
//
// Every section up to the one asked for must be such a pair of lines.
func ParseCounter(r io.Reader, section, name string) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n += 2 {
		head := sc.Text()
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return 0, err
			}
			return 0, fmt.Errorf("line %d: header without a line of values", n)
		}
		hs, names, ok1 := strings.Cut(head, ":")
		vs, values, ok2 := strings.Cut(sc.Text(), ":")
		if !ok1 || !ok2 || hs != vs || strings.ContainsAny(hs, " \t") || hs == "" {
			return 0, fmt.Errorf("lines %d-%d are not a section's names and values", n, n+1)
		}
		if hs != section {
			continue
		}
		nf, vf := strings.Fields(names), strings.Fields(values)
		if len(nf) != len(vf) {
			return 0, fmt.Errorf("%s: %d names but %d values", section, len(nf), len(vf))
		}
		for i, f := range nf {
			if f == name {
				v, err := strconv.ParseUint(vf[i], 10, 64)
				if err != nil {
					return 0, fmt.Errorf("%s %s: %.30q is not a count", section, name, vf[i])
				}
				return v, nil
			}
		}
		return 0, fmt.Errorf("%s has no %s", section, name)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s section", section)
}
