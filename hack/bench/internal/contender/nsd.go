package contender

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
)

// nsdConfig renders nsd.conf: one server process per CPU, each with its own
// SO_REUSEPORT socket; every file NSD writes in the run directory and no
// compiled database (the zone files are read at start); no user to switch
// to, no chroot, no remote control. Response rate limiting, compiled into
// Debian's NSD at 200 qps per source, is turned off: dnsperf is one
// source. Minimal responses leave out the NS records NSD otherwise adds to
// the authority section of every answer, which kube-dns does not send (and
// the address records it adds for SRV targets, which kube-dns does).
func nsdConfig(c authConf) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	file := func(name string) string { return fmt.Sprintf("%q", filepath.Join(c.dir, name)) }
	p("# written by hack/bench\nserver:\n")
	p("    ip-address: 127.0.0.1@%d\n", c.port)
	p("    server-count: %d\n    reuseport: yes\n", c.workers)
	p("    username: \"\"\n    chroot: \"\"\n")
	p("    zonesdir: %q\n", c.dir)
	p("    pidfile: %s\n    database: \"\"\n", file("nsd.pid"))
	p("    xfrdfile: %s\n    xfrdir: %q\n    zonelistfile: %s\n", file("xfrd.state"), c.dir, file("zone.list"))
	p("    cookie-secret-file: %s\n", file("cookiesecrets.txt"))
	p("    rrl-ratelimit: 0\n    rrl-whitelist-ratelimit: 0\n")
	p("    minimal-responses: yes\n    verbosity: 1\n")
	p("\nremote-control:\n    control-enable: no\n")
	for _, z := range c.zones {
		p("\nzone:\n    name: %s\n    zonefile: %q\n", z, filepath.Join(c.zonesDir, cluster.ZoneFile(z)))
	}
	return b.String()
}

// startNSD starts nsd in the foreground (-d) on the zone files.
func startNSD(_ context.Context, e *Env) (*Server, error) {
	return startAuth(e, "nsd", "nsd.conf", nsdConfig, "-d", "-c")
}
