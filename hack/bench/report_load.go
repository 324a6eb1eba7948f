package main

import (
	"fmt"
	"math"
	"runtime"
	"strings"
)

// renderMethodMore writes the method of the authoritative contenders, the
// dnsperf settings and the CPU measures.
func renderMethodMore(b *strings.Builder, cfg *config) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("- **knot, nsd**: Knot DNS and NSD serve zone files written, once per N, from every Service and EndpointSlice the API server holds, with the records kube-dns serves for them (`zonefile.go`, checked against `pkg/dns/records`): `cluster.local.`, `in-addr.arpa.` and `ip6.arpa.`, each with kube-dns's SOA (TTL and minimum 30, `ns.dns.cluster.local.`, `hostmaster.cluster.local.`, 7200 1800 86400) and NS; A/AAAA, SRV (bare and per named port, weight an equal share of 100) and PTR of cluster IPs; for headless Services the ready endpoints' A, their own names, PTR and SRV; CNAME for ExternalName; TTL 30. Knot runs %[1]d UDP and %[1]d TCP workers; NSD %[1]d servers with `reuseport: yes`, minimal responses and no rate limiting (their configurations are under *Commands*).\n", runtime.NumCPU())
	p("- **static-mmsg**: the static answer from %d SO_REUSEPORT UDP sockets, one goroutine each, reading and writing in batches (recvmmsg/sendmmsg via golang.org/x/net/ipv4), replies packed by miekg/dns as `static` does.\n", runtime.NumCPU())
	p("- **dnsperf settings**: the saturating hits and misses runs are made for each of %s, in %d round(s) (rounds outermost), each run %s; a table per N gives every setting's best round.\n",
		settingList(cfg.perfSettings), cfg.rounds, cfg.perfDuration)
	p("- **CPU s / M answers**: hits at a fixed %d qps for %s; the CPU time (utime + stime, all threads, in ticks of 10 ms) the server's processes used during the run, divided by the answers dnsperf received, per million.\n", cfg.cpuRate, cfg.duration)
	p("- **CPU split** of a saturating hits run: the server's processes, dnsperf and idle time as shares of all the machine's CPUs; the rest is interrupt time (the loopback traffic), the control plane and the harness.\n")
}

func settingList(ss []perfSetting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, "`"+s.String()+"`")
	}
	return strings.Join(parts, ", ")
}

// cpuPerM is the server's CPU seconds per million answers of a run, NaN
// without one.
func cpuPerM(r *perfResult) float64 {
	if r == nil || r.completed == 0 || r.cpu.serverSec == 0 {
		return math.NaN()
	}
	return r.cpu.serverSec / float64(r.completed) * 1e6
}

func cpuPerMCell(r *perfResult) string {
	v := cpuPerM(r)
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

// cpuNotes flags a CPU run that did not get the rate asked for: its CPU per
// answer is then that of a saturated server.
func cpuNotes(cfg *config, r *result) []string {
	if r.cpu == nil || r.cpu.runTime == 0 {
		return nil
	}
	got := float64(r.cpu.completed) / r.cpu.runTime
	if got < 0.95*float64(cfg.cpuRate) {
		return []string{fmt.Sprintf("%s: answered %s qps of the %d asked for in the CPU run (%d lost)",
			r.c.name, thousands(got), cfg.cpuRate, r.cpu.lost)}
	}
	return nil
}

func splitCell(r *perfResult) string {
	if r == nil || r.cpu == (cpuSplit{}) {
		return "–"
	}
	return fmt.Sprintf("%.0f%% / %.0f%% / %.0f%%", 100*r.cpu.server, 100*r.cpu.dnsperf, 100*r.cpu.idle)
}

// satCell is a setting's best QPS and, with several rounds, how far below
// it the worst round was.
func satCell(runs []*perfResult) string {
	b, w := best(runs), worst(runs)
	if b == nil {
		return "–"
	}
	s := thousands(b.qps)
	if len(runs) > 1 && b.qps > 0 {
		s += fmt.Sprintf(" (−%.0f%%)", 100*(b.qps-w.qps)/b.qps)
	}
	return s
}

// renderSettings writes, for one N, every contender's saturating QPS at
// each dnsperf setting and the CPU split of its hits runs.
func renderSettings(b *strings.Builder, cfg *config, sr *sizeResult) {
	var rows []*result
	for _, r := range sr.results {
		if r.skip == "" && len(r.sat) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### dnsperf settings, N = %d\n\n", sr.n)
	p("Saturating runs of %s each; a cell is the best of %d round(s)", cfg.perfDuration, cfg.rounds)
	if cfg.rounds > 1 {
		p(", and in parentheses how far below it the worst round was")
	}
	p(". The first setting is the table's above.\n\n")
	head := func() {
		p("| contender |")
		for _, s := range rows[0].sat {
			p(" `%s` |", s.setting)
		}
		p("\n|---|")
		for range rows[0].sat {
			p("--:|")
		}
		p("\n")
	}
	p("hits QPS / misses QPS:\n\n")
	head()
	for _, r := range rows {
		p("| %s |", r.c.name)
		for _, s := range r.sat {
			p(" %s / %s |", satCell(s.hits), satCell(s.misses))
		}
		p("\n")
	}
	p("\nCPU during the best hits run, as shares of all %d CPUs: server / dnsperf / idle:\n\n", runtime.NumCPU())
	head()
	for _, r := range rows {
		p("| %s |", r.c.name)
		for _, s := range r.sat {
			p(" %s |", splitCell(best(s.hits)))
		}
		p("\n")
	}
	p("\n")
}
