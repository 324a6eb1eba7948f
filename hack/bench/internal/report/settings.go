package report

import (
	"fmt"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"math"
	"runtime"
	"strings"
)

// renderMethodMore writes the method of the authoritative contenders, the
// dnsperf settings and the CPU measures.
func renderMethodMore(b *strings.Builder, cfg *measure.Config) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("- **knot, nsd**: Knot DNS and NSD serve zone files written, once per N, from every Service and EndpointSlice the API server holds, with the records kube-dns serves for them (`zonefile.go`, checked against `pkg/dns/records`): `cluster.local.`, `in-addr.arpa.` and `ip6.arpa.`, each with kube-dns's SOA (TTL and minimum 30, `ns.dns.cluster.local.`, `hostmaster.cluster.local.`, 7200 1800 86400) and NS; A/AAAA, SRV (bare and per named port, weight an equal share of 100) and PTR of cluster IPs; for headless Services the ready endpoints' A, their own names, PTR and SRV; CNAME for ExternalName; TTL 30. Knot runs %[1]d UDP and %[1]d TCP workers; NSD %[1]d servers with `reuseport: yes`, minimal responses and no rate limiting (their configurations are under *Commands*).\n", runtime.NumCPU())
	p("- **static-mmsg**: the static answer from %d SO_REUSEPORT UDP sockets, one goroutine each, reading and writing in batches (recvmmsg/sendmmsg via golang.org/x/net/ipv4), replies packed by miekg/dns as `static` does.\n", runtime.NumCPU())
	p("- **dnsperf settings**: the saturating hits and misses runs are made for each of %s, in %d round(s) (rounds outermost), each run %s; a table per N gives every setting's best round.\n",
		settingList(cfg.PerfSettings), cfg.Rounds, cfg.PerfDuration)
	p("- **CPU s / M answers**: hits at a fixed %d qps for %s; the CPU time (utime + stime, all threads, in ticks of 10 ms) the server's processes used during the run, divided by the answers dnsperf received, per million.\n", cfg.CPURate, cfg.Duration)
	p("- **CPU split** of a saturating hits run: the server's processes, dnsperf and idle time as shares of all the machine's CPUs; the rest is interrupt time (the loopback traffic), the control plane and the harness.\n")
}

func settingList(ss []measure.PerfSetting) string {
	var parts []string
	for _, s := range ss {
		parts = append(parts, "`"+s.String()+"`")
	}
	return strings.Join(parts, ", ")
}

func CPUPerMCell(r *measure.Perf) string {
	v := measure.CPUPerM(r)
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

// cpuNotes flags a CPU run that did not get the rate asked for: its CPU per
// answer is then that of a saturated server.
func cpuNotes(cfg *measure.Config, r *measure.Result) []string {
	if r.CPU == nil || r.CPU.RunTime == 0 {
		return nil
	}
	got := float64(r.CPU.Completed) / r.CPU.RunTime
	if got < 0.95*float64(cfg.CPURate) {
		return []string{fmt.Sprintf("%s: answered %s qps of the %d asked for in the CPU run (%d lost)",
			r.C.Name, measure.Thousands(got), cfg.CPURate, r.CPU.Lost)}
	}
	return nil
}

func splitCell(r *measure.Perf) string {
	if r == nil || r.CPU == (measure.CPUSplit{}) {
		return "–"
	}
	return fmt.Sprintf("%.0f%% / %.0f%% / %.0f%%", 100*r.CPU.Server, 100*r.CPU.Dnsperf, 100*r.CPU.Idle)
}

// satCell is a setting's best QPS and, with several rounds, how far below
// it the worst round was.
func SatCell(runs []*measure.Perf) string {
	b, w := measure.Best(runs), measure.Worst(runs)
	if b == nil {
		return "–"
	}
	s := measure.Thousands(b.QPS)
	if len(runs) > 1 && b.QPS > 0 {
		s += fmt.Sprintf(" (−%.0f%%)", 100*(b.QPS-w.QPS)/b.QPS)
	}
	return s
}

// renderSettings writes, for one N, every contender's saturating QPS at
// each dnsperf setting and the CPU split of its hits runs.
func renderSettings(b *strings.Builder, cfg *measure.Config, sr *measure.Size) {
	var rows []*measure.Result
	for _, r := range sr.Results {
		if r.Skip == "" && len(r.Sat) > 0 {
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return
	}
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("### dnsperf settings, N = %d\n\n", sr.N)
	p("Saturating runs of %s each; a cell is the best of %d round(s)", cfg.PerfDuration, cfg.Rounds)
	if cfg.Rounds > 1 {
		p(", and in parentheses how far below it the worst round was")
	}
	p(". The first setting is the table's above.\n\n")
	head := func() {
		p("| contender |")
		for _, s := range rows[0].Sat {
			p(" `%s` |", s.Setting)
		}
		p("\n|---|")
		for range rows[0].Sat {
			p("--:|")
		}
		p("\n")
	}
	p("hits QPS / misses QPS:\n\n")
	head()
	for _, r := range rows {
		p("| %s |", r.C.Name)
		for _, s := range r.Sat {
			p(" %s / %s |", SatCell(s.Hits), SatCell(s.Misses))
		}
		p("\n")
	}
	p("\nCPU during the best hits run, as shares of all %d CPUs: server / dnsperf / idle:\n\n", runtime.NumCPU())
	head()
	for _, r := range rows {
		p("| %s |", r.C.Name)
		for _, s := range r.Sat {
			p(" %s |", splitCell(measure.Best(s.Hits)))
		}
		p("\n")
	}
	p("\n")
}
