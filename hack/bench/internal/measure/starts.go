package measure

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
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
	CPU           time.Duration
	Bytes, Allocs int64
}

// startPhase times cfg.StartRuns starts of each contender in cs, round
// robin, and returns them and their costs by contender name. A contender
// that fails to answer is not started again; its error is returned under
// its name.
func startPhase(ctx context.Context, cfg *Config, envs map[string]*contender.Env, cs []contender.Contender, probe cluster.Service) (map[string][]time.Duration, map[string][]startCost, map[string]error) {
	starts, costs, errs := map[string][]time.Duration{}, map[string][]startCost{}, map[string]error{}
	for range cfg.StartRuns {
		for _, c := range cs {
			if errs[c.Name] != nil || ctx.Err() != nil {
				continue
			}
			e := envs[c.Name]
			want, name := contender.ProbeAnswer(c, probe)
			t := time.Now()
			s, err := c.Start(e)
			if err == nil {
				err = contender.WaitAnswer(ctx, s, e.Dir, name, want, 3*time.Minute)
			}
			d := time.Since(t)
			if err != nil {
				s.Stop()
				errs[c.Name] = err
				continue
			}
			cost := startCost{Bytes: -1, Allocs: -1}
			for _, pid := range s.PIDs() {
				cost.CPU += time.Duration(proc.ProcTicks(pid)) * tick
			}
			if s.Metrics != "" {
				cost.Bytes, cost.Allocs = goAllocs(ctx, s.Metrics)
			}
			s.Stop()
			starts[c.Name], costs[c.Name] = append(starts[c.Name], d), append(costs[c.Name], cost)
		}
	}
	return starts, costs, errs
}

// goAllocs reads a Go program's allocation counters from its Prometheus
// metrics at addr; -1 for what it cannot read.
func goAllocs(ctx context.Context, addr string) (bytes, allocs int64) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1, -1
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	value := func(name string) int64 {
		if f := families[name]; err == nil && f != nil && len(f.GetMetric()) == 1 {
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
