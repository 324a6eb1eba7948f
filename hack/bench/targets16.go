package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// targetsN is the size issue 16's targets are stated for.
const targetsN = 10000

func verdictOf(ok, known bool) string {
	switch {
	case !known:
		return "n/a"
	case ok:
		return "PASS"
	default:
		return "FAIL"
	}
}

// renderTargets16 writes the targets of issue 16 ("as fast as the fastest
// authoritative servers"), as ratios of numbers from this run at 10,000
// Services, or at the largest N run when that is not among them.
func renderTargets16(b *strings.Builder, cfg *config, sizes []*sizeResult) {
	sr := sizes[len(sizes)-1]
	for _, s := range sizes {
		if s.n == targetsN {
			sr = s
		}
	}
	n := strconv.Itoa(sr.n)
	if sr.n != targetsN {
		n += fmt.Sprintf(" (stated for %d)", targetsN)
	}
	var rows []target
	add := func(what, ours, ref, ratio, goal, verdict string) {
		rows = append(rows, target{what, n, ours, ref, ratio, goal, verdict})
	}
	auth := []string{"knot", "nsd"}
	knot := find(sr, "knot")
	// The rates and the CPU per answer, of kubedns as the manifest runs it
	// and of kubedns with a UDP socket per CPU.
	for _, name := range []string{"kubedns", "kubedns-reuseport"} {
		kd := find(sr, name)
		if kd == nil {
			continue
		}
		who := ""
		if name != "kubedns" {
			who = name + ": "
		}
		rateRows(add, sr, kd, who, auth)
		if knot == nil {
			continue
		}
		if kd.fixed != nil && knot.fixed != nil && len(kd.fixed.latencies) > 0 && len(knot.fixed.latencies) > 0 {
			a, k := percentile(kd.fixed.latencies, 99), percentile(knot.fixed.latencies, 99)
			add(fmt.Sprintf("%sp99 at %d qps vs Knot", who, cfg.rate), ms(a), ms(k), ratio(a, k), "≤ 1×",
				verdictOf(a <= k, !math.IsInf(a, 1) || !math.IsInf(k, 1)))
		}
		if a, k := cpuPerM(kd.cpu), cpuPerM(knot.cpu); !math.IsNaN(a) && !math.IsNaN(k) {
			add(fmt.Sprintf("%sCPU s per million answers at %d qps vs Knot", who, cfg.cpuRate), fmt.Sprintf("%.2f s", a), fmt.Sprintf("%.2f s", k),
				ratio(a, k), "≤ 1×", verdictOf(a <= k, true))
		}
	}
	kd := find(sr, "kubedns")
	coredns := []string{"coredns", "coredns-cache"}
	if kd != nil && kd.rssLoad > 0 {
		cd := bestBy(sr, coredns, func(r *result) float64 { return float64(r.rssLoad) }, false, func(r *result) bool { return r.rssLoad > 0 })
		if cd != nil {
			x := float64(kd.rssLoad) / float64(cd.rssLoad)
			add("RSS after load vs the smaller CoreDNS", mib(kd.rssLoad), mib(cd.rssLoad)+" ("+cd.c.name+")",
				fmt.Sprintf("%.2f×", x), "≤ 0.35×", verdictOf(x <= 0.35, true))
		}
	}
	if kd != nil && kd.startToAnswer > 0 {
		cd := bestBy(sr, coredns, func(r *result) float64 { return r.startToAnswer.Seconds() }, false, func(r *result) bool { return r.startToAnswer > 0 })
		if cd != nil {
			x := kd.startToAnswer.Seconds() / cd.startToAnswer.Seconds()
			add("start to first answer vs the faster CoreDNS", dur(kd.startToAnswer), dur(cd.startToAnswer)+" ("+cd.c.name+")",
				fmt.Sprintf("%.2f×", x), "≤ 0.33×", verdictOf(x <= 0.33, true))
		}
	}
	if kd != nil && kd.relist != nil {
		x := kd.relist.ratio()
		add("peak RSS through a full relist vs steady RSS", mib(kd.relist.peak), mib(kd.relist.steady)+" (steady)",
			fmt.Sprintf("%.2f×", x), "≤ 1.3×", verdictOf(x <= relistGoal, x > 0))
	}
	if pod := find(sr, "pod"); pod != nil && pod.hits != nil {
		p99 := "–"
		if pod.fixed != nil && len(pod.fixed.latencies) > 0 {
			p99 = ms(percentile(pod.fixed.latencies, 99))
		}
		add(fmt.Sprintf("pod (dnsmasq in front): hits QPS, p99 at %d qps", cfg.rate), thousands(pod.hits.qps)+", "+p99, "", "", "reported", "–")
	}
	fmt.Fprintf(b, "## Targets (issue 16)\n\nkubedns unless the row says otherwise, against the authoritative servers serving the same records; ratios are of numbers measured in this run. QPS are each setting's best round.\n\n")
	if len(rows) == 0 {
		b.WriteString("Nothing to compare: kubedns, Knot or NSD did not run.\n\n")
		return
	}
	fmt.Fprintf(b, "| target | N | ours | reference | ratio | goal | result |\n|---|--:|--:|--:|--:|--:|---|\n")
	for _, r := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n", r.what, r.n, r.ours, r.ref, r.ratio, r.goal, r.verdict)
	}
	b.WriteString("\n")
}

// rateRows adds kd's hits and misses QPS against the better of the
// authoritative servers, at each dnsperf setting.
func rateRows(add func(what, ours, ref, ratio, goal, verdict string), sr *sizeResult, kd *result, who string, auth []string) {
	for i := range kd.sat {
		st := kd.sat[i].setting
		for _, q := range []struct {
			kind string
			runs func(*satRuns) []*perfResult
		}{{"hits", func(s *satRuns) []*perfResult { return s.hits }}, {"misses", func(s *satRuns) []*perfResult { return s.misses }}} {
			at := func(r *result) *perfResult {
				if i >= len(r.sat) || r.sat[i].setting != st {
					return nil
				}
				return best(q.runs(&r.sat[i]))
			}
			ours := at(kd)
			ref := bestBy(sr, auth, func(r *result) float64 { return at(r).qps }, true, func(r *result) bool { return at(r) != nil })
			if ours == nil || ref == nil {
				continue
			}
			x := ours.qps / at(ref).qps
			add(fmt.Sprintf("%s%s QPS vs the better of Knot and NSD, `%s`", who, q.kind, st), thousands(ours.qps),
				thousands(at(ref).qps)+" ("+ref.c.name+")", fmt.Sprintf("%.2f×", x), "≥ 1.0×", verdictOf(x >= 1, true))
		}
	}
}
