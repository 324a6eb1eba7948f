package measure

import (
	"os"
	"path/filepath"
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
