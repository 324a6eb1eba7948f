package dnsmasq

import (
	"slices"
	"strings"
	"syscall"
	"time"

	"k8s.io/utils/clock"

	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
)

// DefaultAcceptAfter is how long dnsmasq has to refuse a configuration
// before the nanny takes it as accepted. dnsmasq 2.90 exits at once on bad
// arguments, and logs its servers file's errors within milliseconds of its
// start or of SIGHUP.
const DefaultAcceptAfter = time.Second

// exitBadConfig is dnsmasq's exit status for a configuration it refuses
// (EC_BADCONF: "bad command line options", a bad line of a configuration
// file); network, file and memory failures at its start have others.
const exitBadConfig = 1

// badArguments begins what dnsmasq 2.90 prints when it refuses its
// arguments, just before it exits with exitBadConfig.
const badArguments = "bad command line options"

// trial is a configuration dnsmasq was given and has not yet accepted.
type trial struct {
	r     rendered
	start bool        // given at a start, else by a reload
	timer clock.Timer // AcceptAfter from then
}

// refusalMatcher returns whether a line of dnsmasq's output says that it
// could not read the servers file at path, or refused a line of it.
// dnsmasq 2.90 reads the file at its start and at each SIGHUP; it skips a
// line it refuses and logs "<reason> at line <n> of <path>" ("error at
// line 1 of …" for a domain it cannot parse, such as one with a 64-octet
// label; "bad option at line 2 of …"; "Name or service not known at line 2
// of …"), and "cannot read <path>: <reason>" when it cannot open it. Only
// lines on its stderr (--log-facility=-, as the manifests give it) reach
// the nanny; with its log elsewhere a refused line goes unnoticed.
func refusalMatcher(path string) func(string) bool {
	return func(line string) bool {
		return strings.Contains(line, "cannot read "+path+": ") ||
			(strings.HasSuffix(line, " of "+path) && strings.Contains(line, " at line "))
	}
}

// given records that dnsmasq was just given g, at its start or by a
// reload: on trial until AcceptAfter passes without a refusal.
func (r *run) given(g rendered, start bool) {
	r.endTrial()
	r.have = g
	r.trial = &trial{r: g, start: start, timer: r.n.opts.Clock.NewTimer(r.n.opts.AcceptAfter)}
}

func (r *run) endTrial() {
	if r.trial != nil {
		r.trial.timer.Stop()
		r.trial = nil
	}
}

// accepted ends a trial that ran its time: dnsmasq accepted the
// configuration, and gets the changes that waited meanwhile.
func (r *run) accepted() error {
	g := r.trial.r
	r.trial = nil
	if r.good == nil || !r.good.equal(g) {
		r.before = r.good
	}
	r.good = &g
	return r.apply(false)
}

// fallback is what dnsmasq goes back to when it refuses a configuration:
// the last one it accepted, or before any, its base arguments without the
// ConfigMap's servers.
func (r *run) fallback() rendered {
	if r.good != nil {
		return *r.good
	}
	return r.renderServers(nameservers.Servers{})
}

// next is what dnsmasq is to start with: the wanted configuration, unless
// dnsmasq refused it.
func (r *run) next() rendered {
	if r.refused != nil && r.want.equal(*r.refused) {
		return r.fallback()
	}
	return r.want
}

// refusedLine handles a line of dnsmasq's output saying it refused its
// servers file (see refusalMatcher): what it was given last is replaced by
// the fallback, by a reload when the arguments stay. A refusal that comes
// after AcceptAfter (dnsmasq slow to log it) takes back the acceptance:
// the fallback is then the configuration accepted before. A line about the
// fallback itself (more lines about a configuration already refused)
// changes nothing.
func (r *run) refusedLine(line string) error {
	bad := r.have
	if r.trial == nil && r.good != nil && r.good.equal(bad) {
		r.good, r.before = r.before, nil
	}
	back := r.fallback()
	if bad.equal(back) {
		return nil
	}
	r.refuse(bad, back, "pid", r.cur.pid, "dnsmasq", line)
	if r.servers != nil && slices.Equal(back.args, r.have.args) && r.cur.catches(syscall.SIGHUP) {
		r.reload(back)
		return nil
	}
	r.stop()
	return r.startWith(back)
}

// refuse records that dnsmasq refused bad, and logs it in one line that
// says what it goes back to; kv say how it refused.
func (r *run) refuse(bad, back rendered, kv ...any) {
	r.endTrial()
	r.refused = &bad
	msg := "dnsmasq refused its configuration; the last accepted one is back"
	if r.good == nil {
		msg = "dnsmasq refused its configuration; it runs without the ConfigMap's servers until it accepts one"
	}
	refused, _ := diffLines(back.servers, bad.servers)
	if r.servers == nil {
		refused, _ = diffLines(back.args, bad.args)
	}
	kv = append([]any{"version", bad.version, "refused", refused}, kv...)
	r.logger.Error(nil, msg, kv...)
}
