package sidecar

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
)

// Probe is one --probe: a DNS question asked of a server at a fixed interval.
type Probe struct {
	// Label names the probe in /healthcheck/<label> and in metrics; it
	// matches [A-Za-z0-9_]+.
	Label string
	// Server is the "host:port" the question is sent to; IPv6 hosts are
	// bracketed.
	Server string
	// Name is the fully qualified name asked for.
	Name string
	// Interval is the time between the starts of two probes.
	Interval time.Duration
	// Type is the question type: dns.TypeA, TypeAAAA, TypeANY or TypeSRV.
	Type uint16
}

const (
	// DefaultProbeInterval is the interval of a --probe that gives none.
	DefaultProbeInterval = 5 * time.Second
	// DefaultProbeType is the type of a --probe that gives none. kube-dns
	// refused ANY; our kubedns answers it.
	DefaultProbeType = dns.TypeANY
	// maxProbeTimeout caps the timeout of one probe.
	maxProbeTimeout = 2 * time.Second
	// maxProbeIntervalSeconds bounds the interval field (one day).
	maxProbeIntervalSeconds = 86400
)

var (
	labelRE    = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	probeTypes = map[string]uint16{"A": dns.TypeA, "AAAA": dns.TypeAAAA, "ANY": dns.TypeANY, "SRV": dns.TypeSRV}
)

// ParseProbe parses the --probe syntax
// label,server[:port],name[,interval_seconds][,type]: port 53 when omitted
// (IPv6 hosts in brackets, "[::1]:53"), the name made fully qualified, the
// interval a whole number of seconds (default 5), and the type one of A,
// AAAA, ANY or SRV, in any case (default ANY). Empty optional fields take
// their defaults, and spaces around fields are ignored.
func ParseProbe(s string) (Probe, error) {
	fields := strings.Split(s, ",")
	if len(fields) < 3 || len(fields) > 5 {
		return Probe{}, fmt.Errorf("probe %q: want label,server[:port],name[,interval_seconds][,type], got %d fields", s, len(fields))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	p := Probe{Label: fields[0], Name: fields[2], Interval: DefaultProbeInterval, Type: DefaultProbeType}
	server, err := parseServer(fields[1])
	if err != nil {
		return Probe{}, fmt.Errorf("probe %q: %w", s, err)
	}
	p.Server = server
	if p.Name != "" {
		p.Name = dns.Fqdn(p.Name)
	}
	if len(fields) > 3 && fields[3] != "" {
		n, err := strconv.Atoi(fields[3])
		if err != nil || n < 1 || n > maxProbeIntervalSeconds {
			return Probe{}, fmt.Errorf("probe %q: interval %q is not a whole number of seconds from 1 to %d", s, fields[3], maxProbeIntervalSeconds)
		}
		p.Interval = time.Duration(n) * time.Second
	}
	if len(fields) > 4 && fields[4] != "" {
		t, ok := probeTypes[strings.ToUpper(fields[4])]
		if !ok {
			return Probe{}, fmt.Errorf("probe %q: type %q is not one of A, AAAA, ANY, SRV", s, fields[4])
		}
		p.Type = t
	}
	if err := p.Validate(); err != nil {
		return Probe{}, fmt.Errorf("probe %q: %w", s, err)
	}
	return p, nil
}

// parseServer turns server[:port] into host:port, port 53 by default.
func parseServer(s string) (string, error) {
	if s == "" {
		return "", errors.New("the server is empty")
	}
	host, port := s, "53"
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", fmt.Errorf("server %q: missing ]", s)
		}
		host = s[1:end]
		switch rest := s[end+1:]; {
		case rest == "":
		case strings.HasPrefix(rest, ":"):
			port = rest[1:]
		default:
			return "", fmt.Errorf("server %q: unexpected %q after ]", s, rest)
		}
		if net.ParseIP(host) == nil {
			return "", fmt.Errorf("server %q: %q in brackets is not an IP address", s, host)
		}
	case strings.Count(s, ":") > 1:
		return "", fmt.Errorf("server %q: put IPv6 addresses in brackets, as in [%s]:53", s, s)
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
	}
	hp := net.JoinHostPort(host, port)
	if err := checkServer(hp); err != nil {
		return "", fmt.Errorf("server %q: %w", s, err)
	}
	return hp, nil
}

// checkServer checks a host:port whose host is an IP address or a DNS name.
func checkServer(hp string) error {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return fmt.Errorf("%q is not host:port", hp)
	}
	if net.ParseIP(host) == nil {
		if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
			return fmt.Errorf("host %q is neither an IP address nor a DNS name", host)
		}
	}
	if n, err := strconv.Atoi(port); err != nil || !cliflags.ValidPort(n) {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// Validate checks every field of p.
func (p Probe) Validate() error {
	if !labelRE.MatchString(p.Label) {
		return fmt.Errorf("label %q does not match [A-Za-z0-9_]+", p.Label)
	}
	if err := checkServer(p.Server); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	if p.Name == "" {
		return errors.New("the name is empty")
	}
	if _, ok := dns.IsDomainName(p.Name); !ok || !dns.IsFqdn(p.Name) {
		return fmt.Errorf("name %q is not a fully qualified domain name", p.Name)
	}
	if p.Interval <= 0 {
		return fmt.Errorf("interval %v is not positive", p.Interval)
	}
	switch p.Type {
	case dns.TypeA, dns.TypeAAAA, dns.TypeANY, dns.TypeSRV:
	default:
		return fmt.Errorf("type %s is not one of A, AAAA, ANY, SRV", dns.Type(p.Type))
	}
	return nil
}

// String gives p back in the --probe syntax; whole seconds are written as a
// number, other intervals (set in code) as a Go duration.
func (p Probe) String() string {
	interval := p.Interval.String()
	if p.Interval%time.Second == 0 {
		interval = strconv.Itoa(int(p.Interval / time.Second))
	}
	return strings.Join([]string{p.Label, p.Server, p.Name, interval, dns.Type(p.Type).String()}, ",")
}

// Timeout bounds one probe: half the interval, at most 2s.
func (p Probe) Timeout() time.Duration {
	return min(p.Interval/2, maxProbeTimeout)
}

// maxAge is how old a successful result may be and still count as healthy:
// two intervals plus the timeout, so one late or lost probe does not flap.
func (p Probe) maxAge() time.Duration {
	return 2*p.Interval + p.Timeout()
}
