package measure

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
