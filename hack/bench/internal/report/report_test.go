package report

import (
	"encoding/xml"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
)

// TestRenderReport renders a report of made-up results: the new rows,
// columns and tables, and the targets of targets.txt.
func TestRenderReport(t *testing.T) {
	cfg := &measure.Config{Root: t.TempDir(), Rate: 5000, CPURate: 20000, Rounds: 2, Duration: 10 * time.Second, PerfDuration: 4 * time.Second,
		PerfSettings: []measure.PerfSetting{{Clients: 4, Threads: 2, Outstanding: 100}, {Clients: 1, Threads: 1, Outstanding: 64}, {Clients: 8, Threads: 2, Outstanding: 200}},
		Only:         measure.Measurements}
	byName := map[string]contender.Contender{}
	for _, c := range contender.All() {
		byName[c.Name] = c
	}
	perf := func(qps float64) *measure.Perf {
		return &measure.Perf{QPS: qps, Completed: 200000, RunTime: 10, Rcodes: map[string]int64{"NOERROR": 200000},
			Latencies: []float64{0.0001, 0.0002}, CPU: measure.CPUSplit{Server: 0.5, Dnsperf: 0.4, Idle: 0.05, ServerSec: 2}}
	}
	res := func(name string, hits, misses float64, cpuSec float64) *measure.Result {
		r := &measure.Result{C: byName[name], RSSSync: 40 << 10, RSSLoad: 50 << 10, StartToAnswer: 200 * time.Millisecond}
		for _, st := range cfg.PerfSettings {
			r.Sat = append(r.Sat, measure.SatRuns{Setting: st, Hits: []*measure.Perf{perf(hits), perf(hits * 0.9)}, Misses: []*measure.Perf{perf(misses)}})
		}
		r.Hits, r.Misses = measure.Best(r.Sat[0].Hits, false), measure.Best(r.Sat[0].Misses, false)
		r.Fixed, r.CPU = perf(5000), perf(20000)
		r.CPU.CPU.ServerSec = cpuSec
		return r
	}
	kd := res("kubedns", 120000, 110000, 1.0)
	kd.Relist = &measure.RelistResult{Steady: 40 << 10, Peak: 48 << 10, After: 47 << 10, Hwm: true, Down: 5 * time.Second,
		Listed: 5200 * time.Millisecond, Relist: 40 * time.Millisecond, Lists: map[string]int{"services": 1, "endpointslices": 1, "namespaces": 2}}
	cd := res("coredns", 50000, 50000, 4)
	cd.RSSLoad, cd.StartToAnswer = 200<<10, 700*time.Millisecond
	sr := &measure.Size{N: 10000, Results: []*measure.Result{
		kd, res("pod", 20000, 25000, 3), cd, res("knot", 100000, 115000, 1.2),
		{C: byName["nsd"], Skip: "nsd is missing (Debian package nsd: apt-get install -y nsd)"},
		res("static-mmsg", 150000, 150000, 0.5),
	}}
	text, err := os.ReadFile("../../targets.txt")
	if err != nil {
		t.Fatal(err)
	}
	targets, err := ParseTargets(string(text))
	if err != nil {
		t.Fatal(err)
	}
	report := Markdown(cfg, nil, targets, []*measure.Size{sr}, time.Minute, nil)
	for _, want := range []string{
		"| CPU s / M answers at 20000 qps |",
		"| kubedns | 120,000 | 110,000 |",
		"| nsd | skipped |",
		"nsd: skipped: nsd is missing",
		"### dnsperf settings, N = 10000",
		"| contender | `-c 4 -T 2 -q 100` | `-c 1 -T 1 -q 64` | `-c 8 -T 2 -q 200` |",
		"| kubedns | 120,000 (−10%) / 110,000 |",
		"| kubedns | 50% / 40% / 5% |",
		"## Targets",
		"| hits QPS, `-c 4 -T 2 -q 100` vs knot/nsd | 10000 | 120,000 | 100,000 (knot) | 1.20× | ≥ 1× | met |",
		"| misses QPS, `-c 1 -T 1 -q 64` vs knot/nsd | 10000 | 110,000 | 115,000 (knot) | 0.96× | ≥ 1× | **missed** |",
		"| CPU s per million answers at 20000 qps vs knot | 10000 | 5.00 s | 6.00 s (knot) | 0.83× | ≤ 1× | met |",
		"| RSS after load vs coredns/coredns-cache | 10000 | 50.0 MiB | 200.0 MiB (coredns) | 0.25× | ≤ 0.35× | met |",
		"| start to first answer vs coredns/coredns-cache | 10000 | 200.0 ms | 700.0 ms (coredns) | 0.29× | ≤ 0.33× | met |",
		"| peak RSS through a relist / steady RSS | 10000 | 1.20× |  |  | ≤ 1.3× | met |",
		"| 10000 | kubedns | 40.0 MiB | 48.0 MiB | 1.20× | 47.0 MiB | 5000.0 ms | 5200.0 ms | 40.0 ms | 1 / 1 / 2 |",
		"relist-peak of kubedns at 50000 <=150MiB",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(report)
	}
}

// TestChart checks that the chart is well-formed XML with every panel.
func TestChart(t *testing.T) {
	kd := contender.Contender{Name: "kubedns", User: "admin"}
	var sizes []*measure.Size
	for i, n := range []int{1000, 10000, 50000} {
		r := &measure.Result{C: kd, RSSSync: int64(20+10*i) << 10, RSSLoad: int64(25+10*i) << 10,
			Hits: &measure.Perf{QPS: 100000}, Fixed: &measure.Perf{Latencies: []float64{0.0002, 0.0003}},
			Relist: &measure.RelistResult{Steady: int64(20+10*i) << 10, Peak: int64(30+20*i) << 10}}
		sizes = append(sizes, &measure.Size{N: n, Results: []*measure.Result{r}})
	}
	svg := Chart(sizes)
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("%v\n%s", err, svg)
		}
	}
	for _, want := range []string{"hits QPS, N=10000", "p99 (ms)", "RSS after load (MiB)", "RSS (MiB) against Services", "kubedns relist peak", "<polyline"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}
