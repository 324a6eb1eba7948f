package measure

import (
	"context"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

const kubeDNSUser = "system:serviceaccount:kube-system:kube-dns"

func TestAuditedLists(t *testing.T) {
	event := func(stage, verb, user, resource, at string) string {
		return `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","stage":"` + stage +
			`","requestURI":"/api/v1/` + resource + `?resourceVersion=5","verb":"` + verb +
			`","user":{"username":"` + user + `"},"objectRef":{"resource":"` + resource +
			`","apiVersion":"v1"},"stageTimestamp":"` + at + `"}`
	}
	before := event("ResponseComplete", "list", kubeDNSUser, "services", "2026-12-01T10:00:00.000000Z") + "\n"
	after := strings.Join([]string{
		event("ResponseComplete", "list", kubeDNSUser, "services", "2026-12-01T10:00:05.100000Z"),
		event("ResponseComplete", "list", kubeDNSUser, "endpointslices", "2026-12-01T10:00:05.300000Z"),
		event("ResponseStarted", "list", kubeDNSUser, "namespaces", "2026-12-01T10:00:09.000000Z"),
		event("ResponseComplete", "list", "system:apiserver", "namespaces", "2026-12-01T10:00:09.000000Z"),
		event("ResponseComplete", "watch", kubeDNSUser, "namespaces", "2026-12-01T10:00:09.000000Z"),
		strings.Replace(event("ResponseStarted", "watch", "admin", "namespaces", "2026-12-01T10:00:06.000000Z"),
			"?resourceVersion=5", "?allowWatchBookmarks=true\\u0026resourceVersionMatch=NotOlderThan\\u0026sendInitialEvents=true\\u0026watch=true", 1),
		`{"truncated`,
		"",
	}, "\n")
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(before+after), 0o644); err != nil {
		t.Fatal(err)
	}
	lists, last, err := auditedLists(path, int64(len(before)), kubeDNSUser)
	if err != nil {
		t.Fatal(err)
	}
	if lists["services"] != 1 || lists["endpointslices"] != 1 || len(lists) != 2 {
		t.Errorf("lists = %v, want services and endpointslices once", lists)
	}
	if want := time.Date(2026, 12, 1, 10, 0, 5, 300e6, time.UTC); !last.Equal(want) {
		t.Errorf("last list at %v, want %v", last, want)
	}
	if got := notListed(lists); len(got) != 1 || got[0] != "namespaces" {
		t.Errorf("notListed = %v, want [namespaces]", got)
	}
	if lists, last, err := auditedLists(path, 0, "admin"); err != nil || lists["namespaces"] != 1 || len(lists) != 1 ||
		!last.Equal(time.Date(2026, 12, 1, 10, 0, 6, 0, time.UTC)) {
		t.Errorf("streamed lists = %v at %v, %v; want namespaces once at 10:00:06", lists, last, err)
	}
	if _, _, err := auditedLists(filepath.Join(t.TempDir(), "none"), 0, kubeDNSUser); err == nil {
		t.Error("no error for a missing audit log")
	}
}

func TestParsePerfSettings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []PerfSetting
	}{
		{in: "4:2:100,1:1:64,8:2:200", want: []PerfSetting{{4, 2, 100}, {1, 1, 64}, {8, 2, 200}}},
		{in: " 4:2:100 , 4:2:100 ", want: []PerfSetting{{4, 2, 100}}}, // repeats dropped
		{in: ""}, {in: "4:2"}, {in: "4:0:100"}, {in: "a:b:c"}, {in: "4:2:100,"},
	} {
		got, err := ParsePerfSettings(tc.in)
		if !slices.Equal(got, tc.want) || (err == nil) != (tc.want != nil) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (PerfSetting{4, 2, 100}); s.String() != "-c 4 -T 2 -q 100" {
		t.Errorf("String %q", s.String())
	}
	runs := []*Perf{{QPS: 90}, {QPS: 100}, nil, {QPS: 80}}
	if Best(runs, false).QPS != 100 || Best(runs, true).QPS != 80 || Best(nil, false) != nil {
		t.Errorf("best %v worst %v", Best(runs, false), Best(runs, true))
	}
}

func TestCPU(t *testing.T) {
	busy, idle, total := proc.ParseStatLine("cpu  100 5 50 800 20 10 15 5 0 0")
	if busy != 160 || idle != 820 || total != 1005 {
		t.Errorf("parseStatLine: busy %d idle %d total %d", busy, idle, total)
	}
	a := cpuMark{total: 1000, idle: 500, server: 10, busy: 1000, own: 500}
	b := cpuMark{at: a.at.Add(2 * tick * 100), total: 3000, idle: 700, server: 1010, busy: 1300, own: 650} // 2000 ticks: 10 s of 2 CPUs
	if s := split(a, b, 5*time.Second); s.Server != 0.5 || s.Dnsperf != 0.25 || s.Idle != 0.1 || s.ServerSec != 10 {
		t.Errorf("split = %+v", s)
	}
	// 300 ticks busy, 150 by our processes, 50 by dnsperf: 100 ticks (1 s) in 2 s.
	if got := foreignShare(a, b, 50); got != 0.5 {
		t.Errorf("foreignShare = %v, want 0.5", got)
	}
	if got := foreignShare(a, b, 400); got != 0 {
		t.Errorf("foreignShare with more own time than busy = %v, want 0", got)
	}
	if got := CPUPerM(&Perf{Completed: 200000, CPU: CPUSplit{ServerSec: 1.5}}); math.Abs(got-7.5) > 1e-9 || !math.IsNaN(CPUPerM(nil)) {
		t.Errorf("CPUPerM = %v", got)
	}
}

const verboseOutput = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 15353 -d q -v -n 2 -Q 100
[Status] Sending queries (to 127.0.0.1:15353)
[Status] Started at: Fri Nov 27 04:39:59 2026
[Status] Stopping after 2 runs through file
> NOERROR x.a.test A 0.000986
> NXDOMAIN nope.b.test A 0.000165
> T slow.a.test A
> NOERROR x.a.test A 0.000096
[Status] Testing complete (end of file)

Statistics:

  Queries sent:         4
  Queries completed:    3 (75.00%)
  Queries lost:         1 (25.00%)

  Response codes:       NOERROR 2 (66.67%), NXDOMAIN 1 (33.33%)
  Average packet size:  request 27, response 35
  Run time (s):         0.040182
  Queries per second:   74.660544

  Average Latency (s):  0.000416 (min 0.000096, max 0.000986)
  Latency StdDev (s):   0.000423

`

func TestReadDNSPerf(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(path, []byte(verboseOutput), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := readDNSPerf(path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Completed != 3 || r.Lost != 1 || r.QPS != 74.660544 || r.RunTime != 0.040182 {
		t.Errorf("completed/lost = %d/%d, qps %v, run time %v", r.Completed, r.Lost, r.QPS, r.RunTime)
	}
	if r.Rcodes["NOERROR"] != 2 || r.Rcodes["NXDOMAIN"] != 1 || len(r.Rcodes) != 2 {
		t.Errorf("rcodes = %v", r.Rcodes)
	}
	if want := []float64{0.000986, 0.000165, math.Inf(1), 0.000096}; !slices.Equal(r.Latencies, want) {
		t.Errorf("latencies = %v, want %v", r.Latencies, want)
	}
	if got := r.OkShare("NOERROR"); math.Abs(got-2.0/3) > 1e-9 {
		t.Errorf("okShare(NOERROR) = %v", got)
	}
	if err := os.WriteFile(path, []byte("[Fatal] unable to open data file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readDNSPerf(path); err == nil {
		t.Error("no error for output without statistics")
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]float64, 100)
	for i := range hundred {
		hundred[i] = float64(100 - i) // 100..1, unsorted
	}
	for _, tc := range []struct {
		xs      []float64
		p, want float64
	}{
		{hundred, 50, 50}, {hundred, 99, 99}, {hundred, 100, 100}, {[]float64{7}, 99, 7}, {[]float64{4, 1, 3, 2}, 50, 2},
		{[]float64{1, math.Inf(1)}, 99, math.Inf(1)}, // a lost query counts as the slowest
		{[]float64{3, 1, 2}, 0.1, 1},
	} {
		if got := Percentile(slices.Clone(tc.xs), tc.p); got != tc.want {
			t.Errorf("Percentile(%v of %d) = %v, want %v", tc.p, len(tc.xs), got, tc.want)
		}
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("percentile of nothing is not NaN")
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Thousands(0), "0"}, {Thousands(999), "999"}, {Thousands(1000), "1,000"}, {Thousands(45123.6), "45,124"}, {Thousands(1234567), "1,234,567"},
		{Ms(0.000123), "0.123 ms"}, {Ms(0.25), "250.0 ms"}, {Ms(math.Inf(1)), "lost"}, {Ms(math.NaN()), "–"},
		{MiB(0), "–"}, {MiB(1536), "1.5 MiB"}, {Dur(0), "–"}, {Dur(40 * time.Millisecond), "40.0 ms"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

const perfBySym = `# Total Lost Samples: 0
#
# Samples: 12K of event 'cpu-clock'
# Event count (approx.): 379792716
#
# Overhead  Shared Object         Symbol
# ........  ....................  ......
#
     5.71%  [kernel.kallsyms]     [k] finish_task_switch.isra.0
     7.20%  kube-dns              [.] runtime.tryDeferToSpanScan
     2.37%  kube-dns              [.] github.com/kubedns-go/kube-dns/pkg/dns/records.(*Index).get
`

const perfByDSO = `# Samples: 12K of event 'cpu-clock'
#
    75.68%  kube-dns
    23.88%  [kernel.kallsyms]
     0.26%  ld-linux-x86-64.so.2
`

func TestPerfReportParsing(t *testing.T) {
	if got := perfSamples([]byte(perfBySym)); got != 12000 {
		t.Errorf("samples = %d, want 12000", got)
	}
	rows := perfRows([]byte(perfBySym))
	if len(rows) != 3 || rows[0].Where != "runtime.tryDeferToSpanScan" || rows[0].DSO != "kube-dns" || math.Abs(rows[0].Share-0.072) > 1e-9 {
		t.Fatalf("rows = %+v, want the largest first", rows)
	}
	if rows[1].DSO != "[kernel.kallsyms]" || rows[1].Where != "finish_task_switch.isra.0" {
		t.Errorf("kernel row = %+v", rows[1])
	}
	var kernel float64
	for _, r := range perfRows([]byte(perfByDSO)) {
		if strings.HasPrefix(r.DSO, "[kernel") {
			kernel += r.Share
		}
	}
	if kernel < 0.2387 || kernel > 0.2389 {
		t.Errorf("kernel share = %v, want 0.2388", kernel)
	}
}

// goAllocs reads a Go program's allocation counters from its metrics, as
// kube-dns exposes them (a registry with the Go collector).
func TestGoAllocs(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	bytes, allocs := goAllocs(context.Background(), strings.TrimPrefix(srv.URL, "http://"))
	if bytes <= 0 || allocs <= 0 {
		t.Errorf("goAllocs = %d bytes, %d objects; want both read", bytes, allocs)
	}
	if b, a := goAllocs(context.Background(), "127.0.0.1:1"); b != -1 || a != -1 {
		t.Errorf("goAllocs of nothing = %d, %d; want -1, -1", b, a)
	}
}
