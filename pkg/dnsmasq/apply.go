package dnsmasq

import (
	"net/netip"
	"slices"
	"syscall"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
)

// resolvMode says who reads the resolv file (/etc/resolv.conf, or those of
// --resolv-file) when the configuration has no upstream nameservers.
type resolvMode int

const (
	// resolvByNanny: dnsmasq always gets --no-resolv, and the nanny writes
	// the resolv file's nameservers into the servers file when there are
	// no upstreams, reading it again at every sync. Upstreams coming and
	// going then need no restart.
	resolvByNanny resolvMode = iota
	// resolvOff: dnsmasq's arguments turn resolv files off themselves.
	resolvOff
	// resolvByDnsmasq: dnsmasq may read configuration files, which could
	// name resolv files or turn them off, so dnsmasq reads them itself and
	// gets --no-resolv only with upstreams: adding or removing the
	// upstreams restarts it. Also how the servers-as-arguments mode works.
	resolvByDnsmasq
)

func (m resolvMode) String() string {
	return [...]string{"nanny", "off", "dnsmasq"}[m]
}

// rendered is what dnsmasq is given: its arguments, and the lines of its
// servers file (none when the servers are arguments); version is that of
// the configuration it comes from, for the logs.
type rendered struct {
	args    []string
	servers []string
	version string
}

func (a rendered) equal(b rendered) bool {
	return slices.Equal(a.args, b.args) && slices.Equal(a.servers, b.servers)
}

// setUp chooses how configuration reaches dnsmasq: through a servers file
// when one can be written, else as arguments.
func (r *run) setUp() {
	opts := r.n.opts
	switch {
	case r.n.args.serversFile != "":
		r.logger.Info("dnsmasq's arguments name a --servers-file: the configuration goes into --server arguments, and every change restarts dnsmasq",
			"serversFile", r.n.args.serversFile)
	default:
		s, err := openServersFile(r.logger, opts.ServersDir, r.n.args.user)
		if err == nil {
			if err = s.write(nil); err != nil {
				s.close()
			}
		}
		if err != nil {
			r.logger.Error(err, "Cannot write dnsmasq's servers file: the configuration goes into --server arguments, and every change restarts dnsmasq",
				"dir", opts.ServersDir)
			break
		}
		r.servers = s
	}
	switch {
	case r.servers == nil || r.n.args.readsConfFiles(opts.DefaultConfFile):
		r.resolv = resolvByDnsmasq
	case r.n.args.noResolv:
		r.resolv = resolvOff
	default:
		r.resolv = resolvByNanny
	}
	if r.servers != nil {
		r.logger.V(2).Info("dnsmasq's servers file", "path", r.servers.path, "resolvFile", r.resolv.String())
	}
}

// render computes what dnsmasq is to be given for the current
// configuration, with the stub server names found so far (one not found
// yet is left out until it is), reading the resolv file as needed. It
// never waits for a lookup.
func (r *run) render() rendered {
	s, left := nameservers.Build(r.ctx, r.cfg, r.names.addrs)
	if !slices.Equal(left, r.leftOut) {
		if len(left) > 0 {
			r.logger.Info("Stub domains left out: none of their servers resolves yet", "domains", left)
		}
		r.leftOut = left
	}
	out := r.renderServers(s)
	if r.cfg != nil {
		out.version = r.cfg.Version
	}
	return out
}

// renderServers computes what dnsmasq is to be given for servers s.
func (r *run) renderServers(s nameservers.Servers) rendered {
	if r.servers == nil {
		return rendered{args: Render(r.n.base, s)}
	}
	out := rendered{args: slices.Clone(r.n.base), servers: ServerLines(s)}
	if r.resolv == resolvByNanny || (r.resolv == resolvByDnsmasq && len(s.Upstreams) > 0) {
		out.args = append(out.args, "--no-resolv")
	}
	out.args = append(out.args, "--servers-file="+r.servers.path)
	if r.resolv == resolvByNanny && len(s.Upstreams) == 0 {
		for _, ap := range r.readResolv() {
			out.servers = append(out.servers, "server="+serverAddr(ap))
		}
	}
	return out
}

// readResolv returns the resolv file's nameservers. When it cannot be read,
// it logs why (once for each new reason) and returns the last ones read, as
// dnsmasq keeps its servers when the file goes missing.
func (r *run) readResolv() []netip.AddrPort {
	servers, err := readResolvFiles(r.n.args.resolvFiles)
	if err != nil {
		if err.Error() != r.resolvErr {
			r.logger.Error(err, "Cannot read the resolv file; keeping its last nameservers", "nameservers", r.resolvConf)
			r.resolvErr = err.Error()
		}
		return r.resolvConf
	}
	if r.resolvErr != "" {
		r.logger.Info("The resolv file is readable again")
		r.resolvErr = ""
	}
	r.resolvConf = servers
	return servers
}

// namesWait bounds how long a configuration change waits for the first
// lookup of the stub server names it brings before it is applied without
// those not found yet: a domain whose servers become names is not left out
// in between when they resolve within it (kubedns answers in
// milliseconds). dnsmasq's starts never wait.
const namesWait = 2 * time.Second

// waitForNames has the change just received wait up to namesWait for its
// new names, when dnsmasq runs and some are not looked up yet.
func (r *run) waitForNames() {
	if r.waitNames != nil {
		r.waitNames.Stop()
		r.waitNames = nil
	}
	if r.cur != nil && r.names.pending() {
		r.waitNames = r.n.opts.Clock.NewTimer(namesWait)
	}
}

// update renders the configuration again and applies it to the running
// dnsmasq when it changed.
func (r *run) update() error {
	if r.waitNames != nil && !r.names.pending() {
		r.waitNames.Stop()
		r.waitNames = nil
	}
	want := r.render()
	if r.ctx.Err() != nil {
		return nil
	}
	changed := !want.equal(r.want)
	r.want = want
	return r.apply(changed)
}

// apply gives the running dnsmasq the wanted configuration, once it has
// accepted what it was given last, unless it refused this one; changed
// says whether the wanted configuration is new.
func (r *run) apply(changed bool) error {
	want := r.want
	switch {
	case r.cur == nil:
		// Waiting to restart after a failure: that start applies it.
		return nil
	case r.trial != nil:
		// Applied once dnsmasq has accepted or refused what it was given
		// last: a refusal must be told from the change that caused it.
		return nil
	case r.waitNames != nil && r.names.pending():
		// Applied once the change's new names are looked up, or the wait
		// ends.
		return nil
	case want.equal(r.have):
		return nil
	case r.refused != nil && want.equal(*r.refused):
		return nil
	case !r.n.opts.RestartOnChange:
		if changed {
			r.logger.Info("Not applying the new configuration: it applies at dnsmasq's next start", "pid", r.cur.pid)
		}
		return nil
	case r.servers != nil && slices.Equal(want.args, r.have.args):
		r.reload(want)
		return nil
	}
	return r.restart(want)
}

// reload writes g into the servers file and has dnsmasq read it again
// (SIGHUP). When the file cannot be written, the running dnsmasq keeps its
// servers and the next sync tries again.
func (r *run) reload(g rendered) {
	added, removed := diffLines(r.have.servers, g.servers)
	if err := r.servers.write(g.servers); err != nil {
		r.logger.Error(err, "Cannot write dnsmasq's servers file; trying again at the next sync", "pid", r.cur.pid)
		return
	}
	r.given(g, false)
	// dnsmasq installs its signal handlers first of all, and reads the
	// servers file later: until it catches SIGHUP (which would kill it),
	// the file just written is the one it will read.
	if !r.cur.catches(syscall.SIGHUP) {
		r.logger.V(2).Info("dnsmasq is starting: it reads the new servers file without SIGHUP", "pid", r.cur.pid, "added", added, "removed", removed)
		return
	}
	r.cur.signal(syscall.SIGHUP)
	r.logger.V(2).Info("Reloaded dnsmasq's servers (SIGHUP)", "pid", r.cur.pid, "added", added, "removed", removed)
}

// restart stops dnsmasq and starts it with g.
func (r *run) restart(g rendered) error {
	kv := []any{"pid", r.cur.pid, "args", g.args}
	if r.servers != nil {
		kv = append(kv, "previousArgs", r.have.args)
	}
	r.logger.Info("Restarting dnsmasq: its arguments changed", kv...)
	r.stop()
	if r.ctx.Err() != nil {
		return nil
	}
	return r.startWith(g)
}

// diffLines returns the lines of b not in a, and those of a not in b.
func diffLines(a, b []string) (added, removed []string) {
	added, removed = []string{}, []string{} // logged as [], not null
	for _, l := range b {
		if !slices.Contains(a, l) {
			added = append(added, l)
		}
	}
	for _, l := range a {
		if !slices.Contains(b, l) {
			removed = append(removed, l)
		}
	}
	return added, removed
}
