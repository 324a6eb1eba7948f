package main

import (
	"context"
	"time"
)

// Start to first answer varies by tens of percent from one start to the
// next on 2 shared CPUs, and with what ran just before (the API server's
// caches, the garbage of the last contender's load). So the starts are timed
// in a phase of their own, before any contender is measured further: round
// by round, each contender is started, polled until it answers, and stopped,
// so that every contender's k-th start meets the machine and the API server
// as the others' do. Each contender's median is reported.

// startPhase times cfg.startRuns starts of each contender in cs, round
// robin, and returns them by contender name. A contender that fails to
// answer is not started again; its error is returned under its name.
func startPhase(ctx context.Context, envs map[string]*benchEnv, cs []contender, probe svcInfo) (map[string][]time.Duration, map[string]error) {
	starts := map[string][]time.Duration{}
	errs := map[string]error{}
	for range envs[cs[0].name].cfg.startRuns {
		for _, c := range cs {
			if errs[c.name] != nil || ctx.Err() != nil {
				continue
			}
			d, err := timeStart(ctx, envs[c.name], c, probe)
			if err != nil {
				errs[c.name] = err
				continue
			}
			starts[c.name] = append(starts[c.name], d)
		}
	}
	return starts, errs
}

// timeStart starts c, waits for its first correct answer and stops it.
func timeStart(ctx context.Context, e *benchEnv, c contender, probe svcInfo) (time.Duration, error) {
	want, name := probeAnswer(c, probe)
	t := time.Now()
	s, err := c.start(ctx, e)
	if err == nil {
		err = waitAnswer(ctx, s, e.dir, name, want, 3*time.Minute)
	}
	d := time.Since(t)
	s.stop()
	return d, err
}

// probeAnswer is the name polled and the address it must answer: the
// probe Service's cluster IP, or the static servers' fixed address.
func probeAnswer(c contender, probe svcInfo) (want, name string) {
	want, name = probe.ip, fqdn(probe.name, probe.ns)
	if !c.readsAPI && !c.zone {
		want = staticIP.String()
	}
	return want, name
}
