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
)

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
