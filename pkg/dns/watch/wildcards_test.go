package watch

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// matches reports whether the wildcard view answers *.<ns>.svc.<domain> A
// with a record of the Service name.
func matches(w *records.Wildcards, ns, name string) bool {
	found := false
	if w == nil {
		return false
	}
	w.Match([]string{"*", ns}, dns.TypeA, 1000, func(n string, _ []records.RRSet) bool {
		found = found || n == name+"."+ns+".svc."+domain
		return true
	})
	return found
}

// The wildcard view is there with the first snapshot, follows changes
// within WildcardEvery, and is never built without Options.Wildcards.
func TestWildcardView(t *testing.T) {
	h := startHarness(t, Options{Wildcards: true}, namespace("ns"), clusterIPService("ns", "a", "10.0.0.1"))
	if !matches(h.c.Wildcards(), "ns", "a") {
		t.Fatal("the first snapshot's wildcard view does not hold ns/a")
	}
	h.put(clusterIPService("ns", "b", "10.0.0.2"))
	h.put(clusterIPService("ns", "c", "10.0.0.3"))
	h.poll("the wildcard view to hold ns/b and ns/c", func() bool {
		w := h.c.Wildcards()
		return matches(w, "ns", "b") && matches(w, "ns", "c")
	})

	off := startHarness(t, Options{}, namespace("ns"), clusterIPService("ns", "a", "10.0.0.1"))
	if off.c.Wildcards() != nil {
		t.Error("a wildcard view was built without Options.Wildcards")
	}
}
