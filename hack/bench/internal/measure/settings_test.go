package measure

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

func TestParsePerfSettings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []PerfSetting
		bad  bool
	}{
		{in: "4:2:100,1:1:64,8:2:200", want: []PerfSetting{{4, 2, 100}, {1, 1, 64}, {8, 2, 200}}},
		{in: " 4:2:100 , 4:2:100 ", want: []PerfSetting{{4, 2, 100}}}, // repeats dropped
		{in: "-c 4 -T 2 -q 100; -q 64 -c 1 -T 1", want: []PerfSetting{{4, 2, 100}, {1, 1, 64}}},
		{in: "", bad: true},
		{in: "4:2", bad: true},
		{in: "4:0:100", bad: true},
		{in: "-c 4 -T 2", bad: true},
		{in: "-c 4 -T 2 -q 100 -Q 5", bad: true},
		{in: "a:b:c", bad: true},
	} {
		got, err := ParsePerfSettings(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error, got %v", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (PerfSetting{4, 2, 100}); s.String() != "-c 4 -T 2 -q 100" || s.tag() != "c4T2q100" {
		t.Errorf("String %q, tag %q", s.String(), s.tag())
	}
}

func TestBestAndWorst(t *testing.T) {
	runs := []*Perf{{QPS: 90}, {QPS: 100}, nil, {QPS: 80}}
	if Best(runs).QPS != 100 || Worst(runs).QPS != 80 || Best(nil) != nil {
		t.Errorf("best %v worst %v", Best(runs), Worst(runs))
	}
}

func TestCPUSplit(t *testing.T) {
	busy, idle, total := proc.ParseStatLine("cpu  100 5 50 800 20 10 15 5 0 0")
	if busy != 160 || idle != 820 || total != 1005 {
		t.Errorf("parseStatLine: busy %d idle %d total %d", busy, idle, total)
	}
	a := cpuMark{total: 1000, idle: 500, server: 10}
	b := cpuMark{total: 3000, idle: 700, server: 1010} // 2000 ticks: 10 s of 2 CPUs
	s := split(a, b, 5*time.Second)
	if s.Server != 0.5 || s.Dnsperf != 0.25 || s.Idle != 0.1 || s.ServerSec != 10 {
		t.Errorf("split = %+v", s)
	}
	r := &Perf{Completed: 200000, CPU: CPUSplit{ServerSec: 1.5}}
	if got := CPUPerM(r); math.Abs(got-7.5) > 1e-9 || false {
		t.Errorf("cpuPerM = %v", got)
	}
	if !math.IsNaN(CPUPerM(nil)) {
		t.Error("cpuPerM of no run")
	}
}
