package contender

import (
	"errors"
	"fmt"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// authConf is what the authoritative servers' configurations are made of.
type authConf struct {
	dir      string   // run directory: PID file, sockets, databases, logs
	zonesDir string   // the zone files, <apex without its dot>.zone
	zones    []string // the apexes
	port     string   // on 127.0.0.1, UDP and TCP
	workers  int      // threads (Knot) or processes (NSD) answering queries
	user     string   // Knot's user:group; NSD gets none and stays who it is
}

// knotConfig renders knot.conf: one worker per CPU for UDP (each its own
// SO_REUSEPORT socket, as Knot does) and for TCP, one background worker to
// load the zones, the zone files loaded whole and never written back, no
// journal, logs on stderr.
func knotConfig(c authConf) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# written by hack/bench\nserver:\n    rundir: %q\n    pidfile: %q\n", c.dir, filepath.Join(c.dir, "knot.pid"))
	if c.user != "" {
		p("    user: %s\n", c.user)
	}
	p("    listen: 127.0.0.1@%s\n", c.port)
	p("    udp-workers: %d\n    tcp-workers: %d\n    background-workers: 1\n", c.workers, c.workers)
	p("\ndatabase:\n    storage: %q\n", c.dir)
	p("\ncontrol:\n    listen: %q\n", filepath.Join(c.dir, "knot.sock"))
	p("\nlog:\n  - target: stderr\n    any: info\n")
	p("\ntemplate:\n  - id: default\n    storage: %q\n    file: \"%%s.zone\"\n", c.zonesDir)
	p("    zonefile-load: whole\n    zonefile-sync: -1\n    journal-content: none\n    semantic-checks: off\n")
	p("\nzone:\n")
	for _, z := range c.zones {
		p("  - domain: %s\n", z)
	}
	return b.String()
}

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
	p("    ip-address: 127.0.0.1@%s\n", c.port)
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

// startKnot starts knotd in the foreground on the zone files.
func startKnot(e *Env) (*Server, error) { return startAuth(e, "knotd", "knot.conf", knotConfig, "-c") }

// startNSD starts nsd in the foreground (-d) on the zone files.
func startNSD(e *Env) (*Server, error) { return startAuth(e, "nsd", "nsd.conf", nsdConfig, "-d", "-c") }

// startAuth writes an authoritative server's configuration (render) to
// file in the contender's directory and starts bin with args and the
// file's path.
func startAuth(e *Env, bin, file string, render func(authConf) string, args ...string) (*Server, error) {
	return startServer(1, func(s *Server, _ []int) error {
		path, err := proc.LookBin(bin)
		if err != nil {
			return err
		}
		if e.Zones == nil {
			return errors.New("no zone files were written")
		}
		_, port, _ := strings.Cut(s.Addr, ":")
		conf := filepath.Join(e.Dir, file)
		if err := s.writeConf(conf, render(authConf{dir: e.Dir, zonesDir: e.Zones.Dir, zones: e.Zones.Apexes, port: port,
			workers: runtime.NumCPU(), user: currentUser()})); err != nil {
			return err
		}
		return s.start(e.Dir, bin, nil, path, append(args, conf)...)
	})
}

// currentUser is "user:group" of this process, which Knot is to keep (its
// default is root:root).
func currentUser() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	if g, err := user.LookupGroupId(u.Gid); err == nil {
		return u.Username + ":" + g.Name
	}
	return u.Username
}
