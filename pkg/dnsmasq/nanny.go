package dnsmasq

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
	"github.com/kubedns-go/kube-dns/pkg/lameduck"
)

// DefaultGracePeriod is how long dnsmasq gets to exit after SIGTERM before
// it is killed.
const DefaultGracePeriod = 5 * time.Second

// Options configure a Nanny. Exec, Source and Resolver are required.
type Options struct {
	// Exec is the dnsmasq binary.
	Exec string
	// Args are dnsmasq's base arguments; --keep-in-foreground is added
	// unless they keep it in the foreground already.
	Args []string
	// Source delivers the kube-dns configuration.
	Source config.Source
	// Resolver looks up stub domain servers given by name, in the
	// background (nameservers.DefaultWorkers at once, each within 5 s): it
	// must return when its context ends. dnsmasq never waits for it; a
	// name not found yet is left out until it is.
	Resolver nameservers.Resolver
	// RestartOnChange applies configuration changes to the running
	// dnsmasq: through its servers file and SIGHUP, or by restarting it
	// when its arguments change. Without it a change applies at dnsmasq's
	// next (re)start.
	RestartOnChange bool
	// ServersDir is where the nanny keeps the file dnsmasq reads its
	// servers from (--servers-file), in a directory of its own that Run
	// removes; "" means os.TempDir(). When no file can be written there, or
	// Args name a --servers-file of their own, the servers are --server
	// arguments and every change restarts dnsmasq.
	ServersDir string
	// DefaultConfFile is the configuration file dnsmasq reads when Args
	// name none; "" means DefaultConfFile. If dnsmasq may read one, the
	// nanny leaves resolv.conf to dnsmasq.
	DefaultConfFile string
	// SyncInterval is how often the names in the configuration are
	// resolved again (default 10s).
	SyncInterval time.Duration
	// LogInterval, when positive, is how often dnsmasq is sent SIGUSR1 so
	// that it logs its statistics.
	LogInterval time.Duration
	// Lameduck is how long dnsmasq keeps running after Run's context ends,
	// before it is stopped: a pod that is stopping leaves the Service's
	// endpoints meanwhile, and the queries kube-proxy still sends it are
	// answered.
	Lameduck time.Duration
	// LameduckMax, when above Lameduck, lets dnsmasq answer past Lameduck
	// while queries still come (Received moves), until a quiet second or
	// LameduckMax (pkg/lameduck).
	LameduckMax time.Duration
	// Received counts what the pod receives (lameduck.UDPReceived); nil:
	// the lameduck is Lameduck.
	Received func() (uint64, error)
	// GracePeriod is how long dnsmasq gets between SIGTERM and SIGKILL
	// (default DefaultGracePeriod).
	GracePeriod time.Duration
	// Restart says how a dnsmasq that died on its own is restarted; zero
	// fields take DefaultRestartPolicy's values.
	Restart RestartPolicy
	// AcceptAfter is how long dnsmasq has to refuse a configuration it is
	// given, by exiting with status 1 when started with it or by logging an
	// error about its servers file, before the nanny takes it as accepted
	// and gives it the next change (default DefaultAcceptAfter). A refused
	// configuration is replaced by the last one accepted.
	AcceptAfter time.Duration
	// Clock is the time source (default the real clock).
	Clock clock.WithTicker
}

// Nanny runs dnsmasq and keeps it running with the current configuration.
type Nanny struct {
	opts Options
	base []string
	args dnsmasqArgs // what base says
	pid  atomic.Int64
}

// New checks opts and returns a Nanny.
func New(opts Options) (*Nanny, error) {
	switch {
	case opts.Exec == "":
		return nil, errors.New("nanny: no dnsmasq executable")
	case opts.Source == nil:
		return nil, errors.New("nanny: no configuration source")
	case opts.Resolver == nil:
		return nil, errors.New("nanny: no resolver")
	}
	if opts.SyncInterval <= 0 {
		opts.SyncInterval = 10 * time.Second
	}
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = DefaultGracePeriod
	}
	if opts.AcceptAfter <= 0 {
		opts.AcceptAfter = DefaultAcceptAfter
	}
	opts.Restart = opts.Restart.withDefaults()
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.ServersDir == "" {
		opts.ServersDir = os.TempDir()
	}
	if opts.DefaultConfFile == "" {
		opts.DefaultConfFile = DefaultConfFile
	}
	base := withForeground(opts.Args)
	return &Nanny{opts: opts, base: base, args: parseDnsmasqArgs(base)}, nil
}

// PID returns the process ID of the running dnsmasq, or 0 when none runs.
func (n *Nanny) PID() int { return int(n.pid.Load()) }

// Run starts dnsmasq once the source has delivered the first configuration
// and keeps it running until ctx ends; it then stops dnsmasq (SIGTERM,
// SIGKILL after the grace period) and returns nil. It returns an error when
// dnsmasq fails MaxFailures times within the restart window, or when the
// configuration source fails; dnsmasq is stopped first. A configuration
// dnsmasq refuses is no failure: dnsmasq gets the last one it accepted
// again (see Options.AcceptAfter), and only a dnsmasq that fails with that
// one, or with its base arguments alone, counts. dnsmasq's servers
// file lives in a directory of Run's own, removed when it returns. Call Run
// once.
func (n *Nanny) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	srcCtx, stopSource := context.WithCancel(ctx)
	configs := make(chan *config.Config)
	srcDone := make(chan error, 1)
	go func() { srcDone <- n.opts.Source.Run(srcCtx, configs) }()

	raiseNoFile(logger, fdsNeeded(n.args))
	r := &run{n: n, ctx: ctx, logger: logger, restarts: newRestarts(n.opts.Restart), names: newNames(ctx, n.opts.Resolver, 0)}
	r.setUp()
	err := r.loop(configs, srcDone)
	r.names.close()
	if r.servers != nil {
		r.servers.close()
	}

	stopSource()
	if r.srcDone != nil {
		for done := false; !done; {
			select {
			case <-configs: // a source blocked on a send
			case <-srcDone:
				done = true
			}
		}
	}
	return err
}

// run is the state of one Run, owned by its goroutine.
type run struct {
	n        *Nanny
	ctx      context.Context
	logger   klog.Logger
	restarts *restarts

	servers *serversFile // nil: the servers are arguments
	resolv  resolvMode
	names   *names // stub server names, looked up in the background

	cfg        *config.Config
	want       rendered         // from cfg
	have       rendered         // what the running dnsmasq was given
	good       *rendered        // the last configuration dnsmasq accepted, nil before the first
	before     *rendered        // the one it accepted before good
	refused    *rendered        // the last one it refused: not given again while wanted
	trial      *trial           // what dnsmasq was given last, until it has accepted it
	leftOut    []string         // stub domains without a usable server, last render
	resolvConf []netip.AddrPort // the resolv file's servers, last read
	resolvErr  string           // why the resolv file could not be read, last time

	cur       *process     // running dnsmasq, or nil
	pending   clock.Timer  // restart after a failure, or nil
	waitNames clock.Timer  // a change waits for its new names until then, or nil
	srcDone   <-chan error // nil once the source has returned
}

// lameduck lets a running dnsmasq answer for Options.Lameduck more, or
// until it exits (exited), before Run stops it.
func (r *run) lameduck(exited <-chan struct{}) {
	o := r.n.opts
	if o.Lameduck <= 0 || r.cur == nil {
		return
	}
	r.logger.Info("Lameduck: dnsmasq keeps answering before it is stopped", "pid", r.cur.pid,
		"min", o.Lameduck.String(), "max", max(o.Lameduck, o.LameduckMax).String())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	w := lameduck.Wait{Min: o.Lameduck, Max: max(o.Lameduck, o.LameduckMax), Quiet: lameduck.DnsmasqQuiet, Received: o.Received, Clock: o.Clock}
	d, why := w.Run(ctx)
	r.logger.Info("Lameduck over", "after", d.Round(time.Millisecond).String(), "reason", why)
}

func (r *run) loop(configs <-chan *config.Config, srcDone <-chan error) error {
	r.srcDone = srcDone
	defer r.stop()
	opts := r.n.opts

	// dnsmasq starts with the first configuration.
	select {
	case <-r.ctx.Done():
		return nil
	case err := <-srcDone:
		r.srcDone = nil
		return r.sourceEnded(err)
	case r.cfg = <-configs:
	}
	r.names.set(r.cfg)
	r.want = r.render()
	if err := r.start(); err != nil {
		return err
	}

	resync := opts.Clock.NewTicker(opts.SyncInterval)
	defer resync.Stop()
	var logStats <-chan time.Time
	if opts.LogInterval > 0 {
		t := opts.Clock.NewTicker(opts.LogInterval)
		defer t.Stop()
		logStats = t.C()
	}

	for {
		var exited <-chan struct{}
		if r.cur != nil {
			exited = r.cur.done
		}
		var acceptDue <-chan time.Time
		if r.trial != nil {
			acceptDue = r.trial.timer.C()
		}
		var refusals <-chan string
		if r.cur != nil {
			refusals = r.cur.out.refused
		}
		select {
		case <-r.ctx.Done():
			r.lameduck(exited)
			return nil
		case err := <-r.srcDone:
			r.srcDone = nil
			if r.ctx.Err() != nil {
				// The source ended because Run's context did (its own
				// derives from it), and this case was taken before the
				// one above: dnsmasq gets its lameduck all the same.
				r.lameduck(exited)
				return nil
			}
			return r.sourceEnded(err)
		case cfg := <-configs:
			r.cfg = cfg
			r.logger.V(2).Info("New configuration", "version", cfg.Version)
			r.names.set(cfg)
			r.waitForNames()
			if err := r.update(); err != nil {
				return err
			}
		case <-timerC(r.waitNames):
			r.waitNames = nil
			if err := r.update(); err != nil {
				return err
			}
		case <-resync.C():
			r.names.lookup()
			if err := r.update(); err != nil {
				return err
			}
		case <-r.names.ready:
			if r.names.take() {
				if err := r.update(); err != nil {
					return err
				}
			}
		case <-acceptDue:
			if err := r.accepted(); err != nil {
				return err
			}
		case line := <-refusals:
			if err := r.refusedLine(line); err != nil {
				return err
			}
		case <-exited:
			if err := r.exited(); err != nil {
				return err
			}
		case <-timerC(r.pending):
			r.pending = nil
			if err := r.start(); err != nil {
				return err
			}
		case now := <-logStats:
			// Only to a dnsmasq that catches SIGUSR1: one still starting
			// up has no handler yet and would die. How long it has run
			// does not tell (on a busy node a stub had none 84 ms after
			// its start); not before a full interval either, the only
			// guard where catches cannot read /proc.
			if r.cur != nil && now.Sub(r.cur.started) >= opts.LogInterval && r.cur.catches(syscall.SIGUSR1) {
				r.cur.signal(syscall.SIGUSR1)
			}
		}
	}
}

// timerC is t's channel, nil (never ready) when t is nil.
func timerC(t clock.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

// sourceEnded is the error of a configuration source that returned, nil
// when it returned because Run is ending.
func (r *run) sourceEnded(err error) error {
	if r.ctx.Err() != nil {
		return nil
	}
	if err == nil {
		err = errors.New("stopped")
	}
	return fmt.Errorf("nanny: configuration source: %w", err)
}

// start starts dnsmasq with the wanted configuration, or, when dnsmasq
// refused that one, with the last it accepted.
func (r *run) start() error { return r.startWith(r.next()) }

// startWith starts dnsmasq with g, writing its servers file first. A
// failure to start counts as a dnsmasq failure.
func (r *run) startWith(g rendered) error {
	now := r.n.opts.Clock.Now()
	var (
		p       *process
		err     error
		refusal func(string) bool
	)
	if r.servers != nil {
		err = r.servers.write(g.servers)
		refusal = refusalMatcher(r.servers.path)
	}
	if err == nil {
		p, err = startProcess(r.logger, r.n.opts.Exec, g.args, now, refusal)
	}
	if err != nil {
		delay, giveUp := r.failed(now, 0, err)
		if giveUp != nil {
			return giveUp
		}
		r.logger.Error(err, "Cannot start dnsmasq", "retryIn", delay.String())
		return nil
	}
	r.cur = p
	r.given(g, true)
	r.n.pid.Store(int64(p.pid))
	kv := []any{"pid", p.pid, "args", g.args}
	if r.servers != nil {
		kv = append(kv, "servers", g.servers)
	}
	r.logger.Info("Started dnsmasq", kv...)
	return nil
}

// exited handles a dnsmasq that died on its own.
func (r *run) exited() error {
	p := r.cur
	r.cur = nil
	r.n.pid.Store(0)
	if p.exitCode() == exitBadConfig {
		t := r.trial
		if t == nil && r.good != nil && r.good.equal(r.have) && p.out.said(badArguments) {
			// A refusal of its arguments after AcceptAfter (dnsmasq slow
			// to start on a busy node) takes back the acceptance, as a
			// late refused line does.
			r.good, r.before = r.before, nil
			t = &trial{r: r.have, start: true}
		}
		if t != nil && t.start {
			if back := r.fallback(); !t.r.equal(back) {
				r.refuse(t.r, back, "pid", p.pid, "reason", p.exitReason(), "lastOutput", p.out.last())
				return r.startWith(back)
			}
		}
	}
	r.endTrial()
	now := r.n.opts.Clock.Now()
	ran := now.Sub(p.started)
	delay, giveUp := r.failed(now, ran, p.exitError())
	kv := []any{"pid", p.pid, "reason", p.exitReason(), "ranFor", ran.Round(time.Millisecond).String(), "lastOutput", p.out.last()}
	if giveUp == nil {
		kv = append(kv, "restartIn", delay.String())
	}
	r.logger.Info("dnsmasq exited", kv...)
	return giveUp
}

// failed records a failure at now of a dnsmasq that ran for ran, and
// schedules the next start after the returned delay, or returns the
// crash-loop error.
func (r *run) failed(now time.Time, ran time.Duration, cause error) (time.Duration, error) {
	delay, giveUp := r.restarts.failed(now, ran)
	if giveUp {
		pol := r.restarts.policy
		return 0, fmt.Errorf("nanny: dnsmasq failed %d times within %v, last: %w", pol.MaxFailures, pol.Window, cause)
	}
	r.pending = r.n.opts.Clock.NewTimer(delay)
	return delay, nil
}

// stop stops the running dnsmasq, if any, and cancels a pending restart
// and the waits for it.
func (r *run) stop() {
	r.endTrial()
	if r.waitNames != nil {
		r.waitNames.Stop()
		r.waitNames = nil
	}
	if r.pending != nil {
		r.pending.Stop()
		r.pending = nil
	}
	p := r.cur
	if p == nil {
		return
	}
	r.cur = nil
	if p.stop(r.n.opts.Clock, r.n.opts.GracePeriod) {
		r.logger.Info("dnsmasq did not exit after SIGTERM, killed it", "pid", p.pid, "gracePeriod", r.n.opts.GracePeriod.String())
	} else {
		r.logger.V(2).Info("dnsmasq stopped", "pid", p.pid, "reason", p.exitReason())
	}
	r.n.pid.Store(0)
}
