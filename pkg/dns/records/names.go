package records

import (
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// DashedIP returns the label that names an address in pod and endpoint names:
// 10.1.2.3 is "10-1-2-3" and fd00::1 is "fd00--1". A label may not start or end
// with '-', so "::1" becomes "0--1" and "fd00::" becomes "fd00--0".
func DashedIP(a netip.Addr) string {
	a = a.Unmap()
	if a.Is4() {
		return strings.ReplaceAll(a.String(), ".", "-")
	}
	s := strings.ReplaceAll(a.String(), ":", "-")
	if s[0] == '-' {
		s = "0" + s
	}
	if s[len(s)-1] == '-' {
		s += "0"
	}
	return s
}

// ParseDashedIP reads a label written by DashedIP (any case) back into an address.
func ParseDashedIP(label string) (netip.Addr, bool) {
	if label == "" || len(label) > 63 {
		return netip.Addr{}, false
	}
	var s string
	if strings.Count(label, "-") == 3 && !strings.Contains(label, "--") {
		s = strings.ReplaceAll(label, "-", ".")
	} else {
		s = strings.ReplaceAll(label, "-", ":")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// ReverseName returns the in-addr.arpa. or ip6.arpa. name of an address.
func ReverseName(a netip.Addr) string {
	name, _ := dns.ReverseAddr(a.Unmap().String())
	return name
}
