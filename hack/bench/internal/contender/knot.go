package contender

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// authConf is what the authoritative servers' configurations are made of.
type authConf struct {
	dir      string   // run directory: PID file, sockets, databases, logs
	zonesDir string   // the zone files, <apex without its dot>.zone
	zones    []string // the apexes
	port     int      // on 127.0.0.1, UDP and TCP
	workers  int      // threads (Knot) or processes (NSD) answering queries
	user     string   // Knot's user:group; NSD gets none and stays who it is
}

// newAuthConf is the configuration of a server started in e.dir.
func newAuthConf(e *Env) (authConf, error) {
	if e.Zones == nil {
		return authConf{}, errors.New("no zone files were written")
	}
	ports, err := proc.FreePorts(1)
	if err != nil {
		return authConf{}, err
	}
	dir, err := filepath.Abs(e.Dir)
	if err != nil {
		return authConf{}, err
	}
	return authConf{dir: dir, zonesDir: e.Zones.Dir, zones: e.Zones.Apexes, port: ports[0],
		workers: runtime.NumCPU(), user: currentUser()}, nil
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

// knotConfig renders knot.conf: one worker per CPU for UDP (each its own
// SO_REUSEPORT socket, as Knot does) and for TCP, one background worker to
// load the zones, the zone files loaded whole and never written back, no
// journal, logs on stderr.
func knotConfig(c authConf) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# written by hack/bench\nserver:\n")
	p("    rundir: %q\n", c.dir)
	p("    pidfile: %q\n", filepath.Join(c.dir, "knot.pid"))
	if c.user != "" {
		p("    user: %s\n", c.user)
	}
	p("    listen: 127.0.0.1@%d\n", c.port)
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

// startKnot starts knotd in the foreground on the zone files.
func startKnot(_ context.Context, e *Env) (*Server, error) {
	return startAuth(e, "knotd", "knot.conf", knotConfig, "-c")
}

// startAuth writes an authoritative server's configuration (render) to
// file in the contender's directory and starts bin with args and the
// file's path.
func startAuth(e *Env, bin, file string, render func(authConf) string, args ...string) (*Server, error) {
	s := &Server{}
	path, err := proc.LookBin(bin)
	if err != nil {
		return s, err
	}
	c, err := newAuthConf(e)
	if err != nil {
		return s, err
	}
	conf := render(c)
	confPath := filepath.Join(c.dir, file)
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		return s, err
	}
	p, err := proc.Start(e.Dir, bin, nil, path, append(args, confPath)...)
	if err != nil {
		return s, err
	}
	s.add(p)
	s.Commands = append(s.Commands, "# "+confPath+":\n"+conf)
	s.Addr = fmt.Sprintf("127.0.0.1:%d", c.port)
	return s, nil
}
