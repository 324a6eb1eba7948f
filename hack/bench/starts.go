package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Start to first answer varies by tens of percent from one start to the
// next on 2 shared CPUs, and with what ran just before (the API server's
// caches, the garbage of the last contender's load). So the starts are timed
// in a phase of their own, before any contender is measured further: round
// by round, each contender is started, polled until it answers, and stopped,
// so that every contender's k-th start meets the machine and the API server
// as the others' do. Each contender's median is reported.

// startCost is what one start cost until the first answer: CPU time of
// the contender's processes, and for kube-dns what its Go runtime
// allocated (go_memstats_alloc_bytes_total and _mallocs_total, read from
// its metrics right after the answer; -1 when it has no metrics).
type startCost struct {
	cpu           time.Duration
	bytes, allocs int64
}

// startPhase times cfg.startRuns starts of each contender in cs, round
// robin, and returns them and their costs by contender name. A contender
// that fails to answer is not started again; its error is returned under
// its name.
func startPhase(ctx context.Context, envs map[string]*benchEnv, cs []contender, probe svcInfo) (map[string][]time.Duration, map[string][]startCost, map[string]error) {
	starts := map[string][]time.Duration{}
	costs := map[string][]startCost{}
	errs := map[string]error{}
	for range envs[cs[0].name].cfg.startRuns {
		for _, c := range cs {
			if errs[c.name] != nil || ctx.Err() != nil {
				continue
			}
			d, cost, err := timeStart(ctx, envs[c.name], c, probe)
			if err != nil {
				errs[c.name] = err
				continue
			}
			starts[c.name] = append(starts[c.name], d)
			costs[c.name] = append(costs[c.name], cost)
		}
	}
	return starts, costs, errs
}

// timeStart starts c, waits for its first correct answer and stops it.
func timeStart(ctx context.Context, e *benchEnv, c contender, probe svcInfo) (time.Duration, startCost, error) {
	want, name := probeAnswer(c, probe)
	t := time.Now()
	s, err := c.start(ctx, e)
	if err == nil {
		err = waitAnswer(ctx, s, e.dir, name, want, 3*time.Minute)
	}
	d := time.Since(t)
	cost := startCost{bytes: -1, allocs: -1}
	if err == nil {
		var ticks int64
		for _, pid := range s.pids() {
			ticks += procTicks(pid)
		}
		cost.cpu = time.Duration(ticks) * time.Second / clockTicks
		if s.metrics != "" {
			cost.bytes, cost.allocs = goAllocs(ctx, s.metrics)
		}
	}
	s.stop()
	return d, cost, err
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times.
const clockTicks = 100

// goAllocs reads a Go program's allocation counters from its Prometheus
// metrics at addr; -1 for what it cannot read.
func goAllocs(ctx context.Context, addr string) (bytes, allocs int64) {
	bytes, allocs = -1, -1
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return
	}
	value := func(name string) int64 {
		if f := families[name]; f != nil && len(f.GetMetric()) == 1 {
			m := f.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return int64(c.GetValue())
			}
			if u := m.GetUntyped(); u != nil {
				return int64(u.GetValue())
			}
		}
		return -1
	}
	return value("go_memstats_alloc_bytes_total"), value("go_memstats_mallocs_total")
}

// renderStarts writes what the starts cost, by contender and N.
func renderStarts(b *strings.Builder, sizes []*sizeResult) {
	var rows []string
	for _, sr := range sizes {
		for _, r := range sr.results {
			if len(r.startCosts) == 0 {
				continue
			}
			var cpus []time.Duration
			var bytes, allocs []int64
			for _, c := range r.startCosts {
				cpus = append(cpus, c.cpu)
				if c.bytes >= 0 {
					bytes, allocs = append(bytes, c.bytes), append(allocs, c.allocs)
				}
			}
			alloc := "–"
			if len(bytes) > 0 {
				alloc = fmt.Sprintf("%.1f MiB / %.2f M", float64(medianInt(bytes))/(1<<20), float64(medianInt(allocs))/1e6)
			}
			all := make([]string, len(r.starts))
			for i, d := range r.starts {
				all[i] = strconv.FormatInt(d.Milliseconds(), 10)
			}
			rows = append(rows, fmt.Sprintf("| %d | %s | %s | %s | %s | %s |", sr.n, r.c.name, dur(r.startToAnswer),
				strings.Join(all, ", "), dur(median(cpus)), alloc))
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Starts\n\nEach start from nothing to the first right answer (medians of the round-robin starts): *CPU* is the user and system time of the contender's processes until then, *allocated* what kube-dns's Go runtime allocated until then (bytes / objects, from its metrics).\n\n")
	b.WriteString("| N | contender | start | every start (ms) | CPU to first answer | allocated to first answer |\n|--:|---|--:|---|--:|--:|\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\n")
}

func medianInt(v []int64) int64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
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
