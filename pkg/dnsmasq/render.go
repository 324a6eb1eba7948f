package dnsmasq

import (
	"net/netip"
	"slices"
	"strconv"

	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
)

// Render returns dnsmasq's command line for a configuration given in
// arguments only: base unchanged, then --server=/<domain>/<ip>#<port> for
// each stub domain in domain order and each of its servers in order, then
// --server=<ip>#<port> for each upstream, then --no-resolv if there is any
// upstream. IPv6 addresses are written bare (no brackets), as dnsmasq
// expects. The result depends only on its inputs.
func Render(base []string, s nameservers.Servers) []string {
	out := slices.Clone(base)
	for _, l := range ServerLines(s) {
		out = append(out, "--"+l)
	}
	if len(s.Upstreams) > 0 {
		out = append(out, "--no-resolv")
	}
	return out
}

// ServerLines returns the servers as lines of a dnsmasq --servers-file, in
// Render's order: server=/<domain>/<ip>#<port>, then server=<ip>#<port>.
func ServerLines(s nameservers.Servers) []string {
	var out []string
	domains := make([]string, 0, len(s.Stubs))
	for d := range s.Stubs {
		domains = append(domains, d)
	}
	slices.Sort(domains)
	for _, d := range domains {
		for _, ap := range s.Stubs[d] {
			out = append(out, "server=/"+d+"/"+serverAddr(ap))
		}
	}
	for _, ap := range s.Upstreams {
		out = append(out, "server="+serverAddr(ap))
	}
	return out
}

// serverAddr writes ap in dnsmasq's server syntax, ip#port (an IPv6 zone
// kept: fe80::1%eth0#53).
func serverAddr(ap netip.AddrPort) string {
	return ap.Addr().String() + "#" + strconv.Itoa(int(ap.Port()))
}

// foregroundArgs are the dnsmasq options that keep it in the foreground.
var foregroundArgs = []string{"-k", "--keep-in-foreground", "-d", "--no-daemon"}

// withForeground returns args with --keep-in-foreground first unless args
// already keep dnsmasq in the foreground (-k, -d or their long forms, as
// separate arguments): the nanny must be dnsmasq's parent to reap it.
func withForeground(args []string) []string {
	for _, a := range args {
		if slices.Contains(foregroundArgs, a) {
			return slices.Clone(args)
		}
	}
	return append([]string{"--keep-in-foreground"}, args...)
}
