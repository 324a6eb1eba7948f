package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
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

func TestStaticClusterIP(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
		ok   bool
	}{
		{i: 0, want: "10.254.4.0", ok: true},
		{i: 300, want: "10.254.5.44", ok: true},
		{i: 49999, want: "10.254.199.79", ok: true},
		{i: 1<<16 - 2 - staticFirst, want: "10.254.255.254", ok: true},
		{i: 1<<16 - 1 - staticFirst, ok: false}, // the broadcast address
	} {
		got, ok := staticClusterIP(tc.i)
		if got != tc.want || ok != tc.ok {
			t.Errorf("staticClusterIP(%d) = %q, %v; want %q, %v", tc.i, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newUID(), newUID()
	if !re.MatchString(string(a)) || a == b {
		t.Errorf("newUID = %q, %q: want two different version 4 UUIDs", a, b)
	}
}

func TestParseOnly(t *testing.T) {
	got, err := parseOnly(" relist,dnsperf,relist")
	if err != nil || strings.Join(got, ",") != "relist,dnsperf" {
		t.Errorf("parseOnly = %v, %v", got, err)
	}
	for _, bad := range []string{"", "relist,qps"} {
		if _, err := parseOnly(bad); err == nil {
			t.Errorf("parseOnly(%q): no error", bad)
		}
	}
}

func TestRelistReport(t *testing.T) {
	kd := contender{name: "kubedns", relist: true}
	cd := contender{name: "coredns", relist: true}
	sizes := []*sizeResult{{n: 10000, results: []*result{
		{c: kd, relist: &relistResult{steady: 40 << 10, peak: 48 << 10, after: 47 << 10, hwm: true,
			down: 5 * time.Second, listed: 5200 * time.Millisecond, relist: 40 * time.Millisecond,
			lists: map[string]int{"services": 1, "endpointslices": 1, "namespaces": 2}}},
		{c: cd, relist: &relistResult{steady: 90 << 10, peak: 180 << 10, hwm: true, lists: map[string]int{}}},
	}}}
	var b strings.Builder
	renderRelist(&b, sizes)
	row := "| 10000 | kubedns | 40.0 MiB | 48.0 MiB | 1.20× | 47.0 MiB | 5000.0 ms | 5200.0 ms | 40.0 ms | 1 / 1 / 2 |"
	if !strings.Contains(b.String(), row) {
		t.Errorf("relist table lacks\n%s\nin\n%s", row, b.String())
	}
	verdict := func(ok, known bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	rows := relistTargets(sizes[0], verdict)
	if len(rows) != 1 || rows[0].verdict != "PASS" || rows[0].ratio != "1.20×" || !strings.Contains(rows[0].ref, "coredns 90.0 MiB → 180.0 MiB, 2.00×") {
		t.Errorf("targets = %+v", rows)
	}
	sizes[0].results[0].relist.peak = 53 << 10
	if rows := relistTargets(sizes[0], verdict); rows[0].verdict != "FAIL" {
		t.Errorf("peak 1.33× steady: %+v, want FAIL", rows[0])
	}
}
