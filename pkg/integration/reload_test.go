package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// podConfig is one state of the ConfigMap in TestPodReloadUnderLoad: which
// of the two stub servers serves corp.example and which of the two
// upstreams the other names go to.
type podConfig struct {
	stub, up       int
	write, confirm time.Time // when written, and when first seen answered
	removed        *fakeDNS  // the server this change took away (nil for the first)
}

// TestPodReloadUnderLoad sends ~1,000 queries/s through the nanny's dnsmasq
// in front of the real kubedns, a third each for cluster names, names in a
// stub domain and names for the upstreams, across 10 ConfigMap changes
// (the kubelet's "..data" swap) that alternately move the stub domain and
// the upstreams to another server. dnsmasq's PID never changes; no query
// finds the port closed, none goes unanswered, and each answer is the one of
// a configuration in force while the query was out. The stub domain and
// upstream servers answer with TTL 0, so each of their queries is forwarded
// to the server of the moment; the cluster names are cached, and the cache
// is cleared at every reload.
//
// A forward in flight to a server that a change replaces is lost: dnsmasq
// 2.90 keeps the server entry of a domain across a reload and gives it the
// new address (add_update_server matches on the domain), so the old
// server's reply no longer matches the address it was sent to and is
// dropped. The client's second try, the same message from the same socket
// as glibc sends it, is a retry to dnsmasq, which forwards it again to the
// server now in force; the test counts those, and allows a first-try
// timeout only for a query the replaced server got during its change. The
// second try follows attemptTimeout later, so the changes are spaced by
// changeSpacing: a retry then never meets the next change of its kind.
// (Real resolvers wait longer before a retry: glibc 5 s by default, the
// pod's options timeout.)
func TestPodReloadUnderLoad(t *testing.T) {
	const changeSpacing = attemptTimeout + 500*time.Millisecond
	requireCluster(t)
	dnsmasqtest.Require(t)
	k := startKubeDNS(t)
	k.waitReady(t)
	stubs := [2]*fakeDNS{
		startFakeDNS(t, freeport.LoopbackIP(2), "192.0.2.10", 0),
		startFakeDNS(t, freeport.LoopbackIP(3), "192.0.2.11", 0),
	}
	ups := [2]*fakeDNS{
		startFakeDNS(t, freeport.LoopbackIP(4), "198.51.100.10", 0),
		startFakeDNS(t, freeport.LoopbackIP(5), "198.51.100.11", 0),
	}
	data := func(c podConfig) map[string]string {
		return map[string]string{
			"stubDomains":         fmt.Sprintf(`{"corp.example": [%q]}`, stubs[c.stub].hostPort()),
			"upstreamNameservers": fmt.Sprintf(`[%q]`, ups[c.up].hostPort()),
		}
	}
	configs := []podConfig{{}}
	configDir := t.TempDir()
	writeConfigDir(t, configDir, data(configs[0]))
	p := startPodNanny(t, k, configDir)
	through := &kubeDNS{dns: p.front}
	through.waitAnswer(t, "my-nginx.default.svc.cluster.local.", dns.TypeA, "A 10.254.32.162")
	through.waitAnswer(t, "first.corp.example.", dns.TypeA, "A 192.0.2.10")
	through.waitAnswer(t, "first.example.test.", dns.TypeA, "A 198.51.100.10")
	pid := onlyChild(t, p.cmd.Process.Pid, "dnsmasq")
	firstPID := pid

	const perSecond = 1000
	clusterNames := []struct{ name, answer string }{
		{"my-nginx.default.svc.cluster.local.", "10.254.32.162"},
		{"kube-dns.kube-system.svc.cluster.local.", "10.254.0.2"},
	}
	l := startLoad(p.front, perSecond, func(i int) (string, string) {
		switch i % 3 {
		case 0:
			return "cluster", clusterNames[i/3%len(clusterNames)].name
		case 1:
			return "stub", fmt.Sprintf("q%d.corp.example.", i)
		default:
			return "upstream", fmt.Sprintf("q%d.example.test.", i)
		}
	})
	stopped := false
	defer func() {
		if !stopped {
			l.stopAndWait()
		}
	}()
	began := time.Now()
	if err := l.waitSent(300); err != nil {
		t.Fatal(err)
	}
	for j := 1; j <= 10; j++ {
		c := configs[j-1]
		c.removed = stubs[c.stub]
		probe, want := "corp.example.", &stubs[1-c.stub].answer
		if j%2 == 0 {
			c.removed, probe, want = ups[c.up], "example.test.", &ups[1-c.up].answer
			c.up = 1 - c.up
		} else {
			c.stub = 1 - c.stub
		}
		if j > 1 {
			<-time.After(time.Until(configs[j-1].write.Add(changeSpacing)))
		}
		c.write = time.Now()
		writeConfigDir(t, configDir, data(c))
		n := 0
		if _, err := eventually(10*time.Second, func() error {
			n++
			name := fmt.Sprintf("probe-%d-%d.%s", j, n, probe)
			if got, err := exchangeA(p.front, name, 200*time.Millisecond); err != nil || got != *want {
				return fmt.Errorf("change %d: %s = %q, %v; want %s", j, name, got, err, *want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		c.confirm = time.Now()
		configs = append(configs, c)
		t.Logf("change %d (%s): applied after %v", j, map[bool]string{true: "upstreams", false: "stub domain"}[j%2 == 0], c.confirm.Sub(c.write).Round(time.Millisecond))
		if now := onlyChild(t, p.cmd.Process.Pid, "dnsmasq"); now != pid {
			t.Errorf("change %d: dnsmasq is %d, was %d: it was restarted", j, now, pid)
			pid = now
		}
		if err := l.waitSent(300); err != nil { // some load in the new configuration
			t.Fatal(err)
		}
	}
	queries := l.stopAndWait()
	stopped = true
	elapsed := time.Since(began)

	// The answers a configuration gives for each kind of name.
	answerOf := func(c podConfig, q *query) string {
		switch q.kind {
		case "stub":
			return stubs[c.stub].answer
		case "upstream":
			return ups[c.up].answer
		}
		for _, cn := range clusterNames {
			if cn.name == q.name {
				return cn.answer
			}
		}
		return "?"
	}
	// Configuration j is in force from its write to the confirmation of the
	// next one; a query may get the answer of any configuration in force at
	// some moment while it was out.
	acceptable := func(q *query) []string {
		var out []string
		for j, c := range configs {
			from, to := c.write, time.Now()
			if j+1 < len(configs) {
				to = configs[j+1].confirm
			}
			if !q.done.Before(from) && !q.sent.After(to) {
				out = append(out, answerOf(c, q))
			}
		}
		return out
	}
	// A first-try timeout is dnsmasq dropping the reply of the server a
	// change replaced, when that server got the query during that change.
	droppedByRemoval := func(q *query) bool {
		for _, c := range configs[1:] {
			if at, ok := c.removed.seenAt(q.name); ok && !at.Before(c.write) && !at.After(c.confirm) {
				return true
			}
		}
		return false
	}
	var retried, dropped int
	var problems []string
	for _, q := range queries {
		switch {
		case q.err != nil:
			var seen []string // which servers were asked, and when
			for _, f := range []*fakeDNS{stubs[0], stubs[1], ups[0], ups[1]} {
				if at, ok := f.seenAt(q.name); ok {
					seen = append(seen, fmt.Sprintf("%s at +%v", f.hostPort(), at.Sub(began).Round(time.Millisecond)))
				}
			}
			problems = append(problems, fmt.Sprintf("%s %s sent at +%v: no answer: %v (first try: %v); asked of %v", q.kind, q.name, q.sent.Sub(began).Round(time.Millisecond), q.err, q.first, seen))
			continue
		case q.first != nil && !isTimeout(q.first):
			problems = append(problems, fmt.Sprintf("%s %s: %v (port 53 closed?)", q.kind, q.name, q.first))
		case q.first != nil && !droppedByRemoval(q):
			problems = append(problems, fmt.Sprintf("%s %s: no answer to the first try (%v), and its server stayed", q.kind, q.name, q.first))
		case q.first != nil:
			dropped++
		}
		if q.first != nil {
			retried++
		}
		if ok := acceptable(q); !slices.Contains(ok, q.answer) {
			problems = append(problems, fmt.Sprintf("%s %s sent at +%v: %s, want one of %v", q.kind, q.name, q.sent.Sub(began).Round(time.Millisecond), q.answer, ok))
		}
	}
	t.Logf("%d queries in %v (%.0f/s) across %d changes: %d answered at the first try, %d on the second (%d of them in flight to a replaced server), %d problems; dnsmasq PID %d, then %d",
		len(queries), elapsed.Round(time.Millisecond), float64(len(queries))/elapsed.Seconds(), len(configs)-1,
		len(queries)-retried, retried, dropped, len(problems), firstPID, pid)
	if len(problems) > 0 {
		t.Errorf("%d of %d queries went wrong; the first ones:\n%s", len(problems), len(queries), strings.Join(problems[:min(len(problems), 20)], "\n"))
	}
	if len(queries) < 10*300 {
		t.Errorf("only %d queries sent", len(queries))
	}
}
