package report

import (
	"fmt"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"math"
	"strconv"
	"strings"
)

// targetsN is the size issue 16's targets are stated for.
const TargetsN = 10000

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
func renderTargets16(b *strings.Builder, cfg *measure.Config, sizes []*measure.Size) {
	sr := sizes[len(sizes)-1]
	for _, s := range sizes {
		if s.N == TargetsN {
			sr = s
		}
	}
	n := strconv.Itoa(sr.N)
	if sr.N != TargetsN {
		n += fmt.Sprintf(" (stated for %d)", TargetsN)
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
		if kd.Fixed != nil && knot.Fixed != nil && len(kd.Fixed.Latencies) > 0 && len(knot.Fixed.Latencies) > 0 {
			a, k := measure.Percentile(kd.Fixed.Latencies, 99), measure.Percentile(knot.Fixed.Latencies, 99)
			add(fmt.Sprintf("%sp99 at %d qps vs Knot", who, cfg.Rate), measure.Ms(a), measure.Ms(k), ratio(a, k), "≤ 1×",
				verdictOf(a <= k, !math.IsInf(a, 1) || !math.IsInf(k, 1)))
		}
		if a, k := measure.CPUPerM(kd.CPU), measure.CPUPerM(knot.CPU); !math.IsNaN(a) && !math.IsNaN(k) {
			add(fmt.Sprintf("%sCPU s per million answers at %d qps vs Knot", who, cfg.CPURate), fmt.Sprintf("%.2f s", a), fmt.Sprintf("%.2f s", k),
				ratio(a, k), "≤ 1×", verdictOf(a <= k, true))
		}
	}
	kd := find(sr, "kubedns")
	coredns := []string{"coredns", "coredns-cache"}
	if kd != nil && kd.RSSLoad > 0 {
		cd := bestBy(sr, coredns, func(r *measure.Result) float64 { return float64(r.RSSLoad) }, false, func(r *measure.Result) bool { return r.RSSLoad > 0 })
		if cd != nil {
			x := float64(kd.RSSLoad) / float64(cd.RSSLoad)
			add("RSS after load vs the smaller CoreDNS", measure.MiB(kd.RSSLoad), measure.MiB(cd.RSSLoad)+" ("+cd.C.Name+")",
				fmt.Sprintf("%.2f×", x), "≤ 0.35×", verdictOf(x <= 0.35, true))
		}
	}
	if kd != nil && kd.StartToAnswer > 0 {
		cd := bestBy(sr, coredns, func(r *measure.Result) float64 { return r.StartToAnswer.Seconds() }, false, func(r *measure.Result) bool { return r.StartToAnswer > 0 })
		if cd != nil {
			x := kd.StartToAnswer.Seconds() / cd.StartToAnswer.Seconds()
			add("start to first answer vs the faster CoreDNS", measure.Dur(kd.StartToAnswer), measure.Dur(cd.StartToAnswer)+" ("+cd.C.Name+")",
				fmt.Sprintf("%.2f×", x), "≤ 0.33×", verdictOf(x <= 0.33, true))
		}
	}
	if kd != nil && kd.Relist != nil {
		x := kd.Relist.Ratio()
		add("peak RSS through a full relist vs steady RSS", measure.MiB(kd.Relist.Peak), measure.MiB(kd.Relist.Steady)+" (steady)",
			fmt.Sprintf("%.2f×", x), "≤ 1.3×", verdictOf(x <= measure.RelistGoal, x > 0))
	}
	if pod := find(sr, "pod"); pod != nil && pod.Hits != nil {
		p99 := "–"
		if pod.Fixed != nil && len(pod.Fixed.Latencies) > 0 {
			p99 = measure.Ms(measure.Percentile(pod.Fixed.Latencies, 99))
		}
		add(fmt.Sprintf("pod (dnsmasq in front): hits QPS, p99 at %d qps", cfg.Rate), measure.Thousands(pod.Hits.QPS)+", "+p99, "", "", "reported", "–")
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
func rateRows(add func(what, ours, ref, ratio, goal, verdict string), sr *measure.Size, kd *measure.Result, who string, auth []string) {
	for i := range kd.Sat {
		st := kd.Sat[i].Setting
		for _, q := range []struct {
			kind string
			runs func(*measure.SatRuns) []*measure.Perf
		}{{"hits", func(s *measure.SatRuns) []*measure.Perf { return s.Hits }}, {"misses", func(s *measure.SatRuns) []*measure.Perf { return s.Misses }}} {
			at := func(r *measure.Result) *measure.Perf {
				if i >= len(r.Sat) || r.Sat[i].Setting != st {
					return nil
				}
				return measure.Best(q.runs(&r.Sat[i]))
			}
			ours := at(kd)
			ref := bestBy(sr, auth, func(r *measure.Result) float64 { return at(r).QPS }, true, func(r *measure.Result) bool { return at(r) != nil })
			if ours == nil || ref == nil {
				continue
			}
			x := ours.QPS / at(ref).QPS
			add(fmt.Sprintf("%s%s QPS vs the better of Knot and NSD, `%s`", who, q.kind, st), measure.Thousands(ours.QPS),
				measure.Thousands(at(ref).QPS)+" ("+ref.C.Name+")", fmt.Sprintf("%.2f×", x), "≥ 1.0×", verdictOf(x >= 1, true))
		}
	}
}
