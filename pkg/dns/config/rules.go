package config

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The rules below are those of the DNS and of dnsmasq 2.90, which gets every
// stub domain and server as a line server=/<domain>/<ip>#<port> (see
// cmd/dnsmasq-nanny/README.md). A value dnsmasq would refuse must be refused
// here: dnsmasq refuses a bad --server argument by not starting at all, and
// skips a bad servers-file line with only "error at line N" in its log.
// TestDnsmasqAcceptsValidated (dnsmasq_test.go) checks this against the
// real dnsmasq.

// maxLabel is the longest label of a domain name, in octets (RFC 1035
// 2.3.4). IsDNS1123Subdomain does not check it; dnsmasq does (MAXLABEL):
// a 64-octet label fails its name check, so the line or argument is refused.
const maxLabel = 63

// domainProblem returns why name, lower case and without its trailing dot,
// is not a domain name a stub domain, a stub server or a federation may
// have, or "" when it is one: DNS-1123 (letters, digits, '-' and '.', each
// label starting and ending with a letter or digit, at most 253 octets in
// all, which with the root's dot is the DNS's 255 on the wire), and no label
// longer than 63 octets.
func domainProblem(name string) string {
	if name == "" {
		return "empty name"
	}
	if p := validation.IsDNS1123Subdomain(name); len(p) > 0 {
		return strings.Join(p, "; ")
	}
	for i, label := range strings.Split(name, ".") {
		if len(label) > maxLabel {
			return fmt.Sprintf("label %d is %d octets long, at most %d", i+1, len(label), maxLabel)
		}
	}
	return ""
}

// labelProblem returns why name (lower case) is not a single DNS-1123
// label, or "".
func labelProblem(name string) string {
	if name == "" {
		return "empty name"
	}
	return strings.Join(validation.IsDNS1123Label(name), "; ")
}

// broadcast is the IPv4 limited broadcast address.
var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// addrProblem returns why ip cannot be a DNS server, or "". Such addresses
// are valid syntax, and dnsmasq takes them: 0.0.0.0 it then drops without a
// word; the kernel sends what is sent to an unspecified address to the
// loopback, in a pod dnsmasq or kubedns itself; a multicast group or the
// broadcast address gives no unicast answer (and dnsmasq may not send to
// the broadcast address at all). IPv4-mapped IPv6 forms (::ffff:0.0.0.0)
// are the IPv4 address: the nanny and the kernel use them as such.
func addrProblem(ip netip.Addr) string {
	switch a := ip.Unmap(); {
	case a.IsUnspecified():
		return "an unspecified address (dnsmasq ignores it; sent to, it is the loopback)"
	case a.IsMulticast():
		return "a multicast address, not a server"
	case a == broadcast:
		return "the broadcast address, not a server"
	}
	return ""
}

// maxExcerpt is how many bytes of a rejected value a message quotes.
const maxExcerpt = 40

// excerpt quotes s for a rejection message: at most its first maxExcerpt
// bytes (cut at a character boundary, "..." after the quote when cut), with
// non-printable characters escaped. A message never holds more of a value:
// the value may be a file that was not meant to be read (a key linked to
// /etc/shadow).
func excerpt(s string) string {
	if len(s) <= maxExcerpt {
		return strconv.Quote(s)
	}
	cut := maxExcerpt
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// maxProblems is how many problems of one value a message tells.
const maxProblems = 1

// problems collects why a value is rejected. Its error tells the first
// maxProblems only, and counts the rest: a large value full of mistakes
// makes one short line, which quotes one short excerpt, not excerpts from
// all over the value (which may be a file not meant to be read).
type problems []string

func (p *problems) add(format string, a ...any) {
	*p = append(*p, fmt.Sprintf(format, a...))
}

// err returns the problems as one error, nil when there are none.
func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	msg := strings.Join(p[:min(len(p), maxProblems)], "; ")
	switch more := len(p) - maxProblems; {
	case more == 1:
		msg += " (and 1 more problem)"
	case more > 1:
		msg += fmt.Sprintf(" (and %d more problems)", more)
	}
	return errors.New(msg)
}
