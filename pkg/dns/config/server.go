package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
)

// DefaultPort is the port of a server given without one.
const DefaultPort = 53

// StubServer splits one stub server "host[:port]" into host and port (53 default).
//
// The host is an IPv4 address, an IPv6 address (bare, or in brackets when a
// port follows), or a domain name (see domainProblem) without the trailing
// dot. An address must be one a server can have (see addrProblem). An IP is
// returned in its canonical form without brackets, a name in lower case.
func StubServer(s string) (host string, port int, err error) {
	h, port, ip, err := splitServer(s)
	if err != nil {
		return "", 0, err
	}
	if ip.IsValid() {
		return ip.String(), port, nil
	}
	name := strings.ToLower(h)
	if p := domainProblem(name); p != "" {
		return "", 0, fmt.Errorf("server %s: neither an IP address nor a valid name: %s", excerpt(s), p)
	}
	return name, port, nil
}

// upstreamAddr validates an upstream nameserver "ip[:port]" and returns it as
// "ip:port" or "[v6]:port".
func upstreamAddr(s string) (string, error) {
	_, port, ip, err := splitServer(s)
	if err != nil {
		return "", err
	}
	if !ip.IsValid() {
		return "", fmt.Errorf("server %s: not an IP address (names are not allowed here)", excerpt(s))
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(port)), nil
}

// splitServer splits "host[:port]". ip is the host when it is an IP address,
// and the zero Addr otherwise; an IPv6 host must be one. Every rule on the
// address and the port is here, for stub servers and upstreams alike.
func splitServer(s string) (host string, port int, ip netip.Addr, err error) {
	fail := func(format string, a ...any) (string, int, netip.Addr, error) {
		return "", 0, netip.Addr{}, fmt.Errorf("server %s: %s", excerpt(s), fmt.Sprintf(format, a...))
	}
	host, portStr, hasPort := s, "", false
	switch {
	case s == "":
		return fail("empty")
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return fail("missing ]")
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok {
				return fail("unexpected %s after ]", excerpt(rest))
			}
			portStr, hasPort = p, true
		}
		if ip, err = parseIPv6(host); err != nil {
			return fail("%v", err)
		}
	case strings.Count(s, ":") > 1: // a bare IPv6 address, no port
		if ip, err = parseIPv6(s); err != nil {
			return fail("%v", err)
		}
	default:
		host, portStr, hasPort = strings.Cut(s, ":")
		if host == "" {
			return fail("empty host")
		}
		if a, err := netip.ParseAddr(host); err == nil {
			ip = a
		}
	}
	if ip.IsValid() {
		if p := addrProblem(ip); p != "" {
			return fail("%s", p)
		}
	}
	port = DefaultPort
	if hasPort {
		n, err := strconv.ParseUint(portStr, 10, 16)
		if err != nil || !cliflags.ValidPort(int(n)) {
			return fail("port %s: want a number from 1 to 65535", excerpt(portStr))
		}
		port = int(n)
	}
	return host, port, ip, nil
}

func parseIPv6(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	switch {
	case err != nil || !ip.Is6():
		return netip.Addr{}, fmt.Errorf("%s is not an IPv6 address", excerpt(s))
	case ip.Zone() != "":
		return netip.Addr{}, errors.New("IPv6 zones are not supported")
	}
	return ip, nil
}
