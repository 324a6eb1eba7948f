// Command fanin stands for many nodes' NodeLocal DNSCaches at once: each
// cache forwards the names it missed to the cluster DNS over TCP, with the
// connection behaviour of CoreDNS's forward plugin with force_tcp
// (transport.go), at a steady rate. It says how many queries failed and how
// long they took, and exits 1 when any failed or the 99th percentile is over
// -max-p99. Bounded: at most 1,000 caches, 1,000 queries/s each, 10 minutes.
//
//	fanin -server 10.254.0.2:53 -caches 64 -rate 20 -duration 30s NAME...
//
// A query for NAME must get NOERROR with an answer; -nxdomain of the queries
// ask for a name that does not exist under the first NAME's parent and must
// get NXDOMAIN.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

type stats struct {
	sent, answered, failed      atomic.Int64
	dialed, reconnects, retries atomic.Int64
	mu                          sync.Mutex
	latencies                   []time.Duration
	errs                        map[string]int
	failedBySecond              map[int]int
	start                       time.Time
}

func (s *stats) record(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latencies = append(s.latencies, d)
	if err != nil {
		s.errs[err.Error()]++
		s.failedBySecond[int(time.Since(s.start).Seconds())]++
	}
}

type config struct {
	server   string
	caches   int
	rate     int
	duration time.Duration
	expire   time.Duration
	ramp     time.Duration // caches start at random points within it
	nxdomain float64
	names    []string
}

func main() {
	var c config
	flag.StringVar(&c.server, "server", "10.254.0.2:53", "the cluster DNS, host:port")
	flag.IntVar(&c.caches, "caches", 64, "node caches (1-1000)")
	flag.IntVar(&c.rate, "rate", 20, "queries per second of each cache (1-1000)")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "how long (at most 10m)")
	flag.DurationVar(&c.expire, "expire", defaultExpire, "idle connections are closed after this")
	flag.DurationVar(&c.ramp, "ramp", 0, "caches start at random points within this (0: within their first period), as nodes' caches do not all start at once")
	flag.Float64Var(&c.nxdomain, "nxdomain", 0.1, "share of queries for names that do not exist (0-1)")
	maxP99 := flag.Duration("max-p99", 0, "exit 1 when the 99th percentile is over this (0: no bound, only reported)")
	flag.Parse()
	c.names = flag.Args()
	if len(c.names) == 0 || slices.ContainsFunc(c.names, func(n string) bool { return strings.HasPrefix(n, "-") }) || c.caches < 1 || c.caches > 1000 || c.rate < 1 || c.rate > 1000 ||
		c.duration <= 0 || c.duration > 10*time.Minute || c.nxdomain < 0 || c.nxdomain > 1 || c.ramp < 0 || c.ramp >= c.duration {
		// A name that starts with "-" is a flag given after the first name,
		// which the flag package does not read: say so rather than ask it.
		fmt.Fprintln(os.Stderr, "usage (flags before the names): fanin [-server host:port] [-caches 1-1000] [-rate 1-1000] [-duration ≤10m] [-nxdomain 0-1] [-ramp D] [-max-p99 D] NAME...")
		os.Exit(2)
	}
	s := run(context.Background(), c)
	p99 := report(os.Stdout, c, s)
	if s.failed.Load() > 0 || (*maxP99 > 0 && p99 > *maxP99) {
		os.Exit(1)
	}
}

// run sends the load and returns its statistics once every query has ended.
func run(ctx context.Context, c config) *stats {
	s := &stats{errs: map[string]int{}, failedBySecond: map[int]int{}, start: time.Now()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var queries, pools sync.WaitGroup
	end := s.start.Add(c.duration)
	for i := range c.caches {
		t := newTransport(c.server, c.expire, s)
		pools.Go(func() { t.run(ctx) })
		queries.Go(func() { cache(i, t, c, end, s, &queries) })
	}
	queries.Wait()
	cancel()
	pools.Wait()
	return s
}

// cache sends its queries at its rate, each on its own goroutine, as a
// cache's clients do, starting at a random point of the first period or of
// the ramp. Query k is due k periods after the first: one that comes late
// (the machine busy) is sent late, not dropped, so a cache sends its whole
// share of the load whatever the machine's load, as clients keep asking.
func cache(i int, t *transport, c config, end time.Time, s *stats, queries *sync.WaitGroup) {
	period := time.Second / time.Duration(c.rate)
	rng := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
	first := time.Now().Add(time.Duration(rng.Int64N(int64(max(period, c.ramp)))))
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 0; ; n++ {
		due := first.Add(time.Duration(n) * period)
		if !due.Before(end) {
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			<-timer.C
		}
		name, rcode := c.names[n%len(c.names)], dns.RcodeSuccess
		if rng.Float64() < c.nxdomain {
			name, rcode = fmt.Sprintf("fanin-nx-%d-%d.%s", i, n, parent(c.names[0])), dns.RcodeNameError
		}
		queries.Go(func() { ask(t, dns.Fqdn(name), rcode, s) })
	}
}

func parent(name string) string {
	if _, rest, ok := strings.Cut(dns.Fqdn(name), "."); ok && rest != "" {
		return rest
	}
	return dns.Fqdn(name)
}

func ask(t *transport, name string, want int, s *stats) {
	q := new(dns.Msg).SetQuestion(name, dns.TypeA)
	s.sent.Add(1)
	begin := time.Now()
	r, err := t.query(q)
	if err == nil && r.Rcode != want {
		err = fmt.Errorf("%s: rcode %s, want %s", name, dns.RcodeToString[r.Rcode], dns.RcodeToString[want])
	} else if err == nil && want == dns.RcodeSuccess && len(r.Answer) == 0 {
		err = fmt.Errorf("%s: no answer", name)
	}
	s.record(time.Since(begin), err)
	if err != nil {
		s.failed.Add(1)
		return
	}
	s.answered.Add(1)
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

// report prints the summary line first, then the errors; it returns the
// 99th percentile.
func report(w io.Writer, c config, s *stats) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.latencies)
	slices.Sort(lat)
	p50, p99 := percentile(lat, 0.50), percentile(lat, 0.99)
	var maxLat time.Duration
	if len(lat) > 0 {
		maxLat = lat[len(lat)-1]
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }
	fmt.Fprintf(w, "fanin: %d caches × %d/s for %v to %s: sent %d answered %d failed %d, p50 %s p99 %s max %s; connections dialed %d, closed by the server while idle %d, retried queries %d\n",
		c.caches, c.rate, c.duration, c.server, s.sent.Load(), s.answered.Load(), s.failed.Load(),
		ms(p50), ms(p99), ms(maxLat), s.dialed.Load(), s.reconnects.Load(), s.retries.Load())
	keys := make([]string, 0, len(s.errs))
	for k := range s.errs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %d× %s\n", s.errs[k], k)
	}
	if len(s.failedBySecond) > 0 {
		secs := make([]int, 0, len(s.failedBySecond))
		for sec := range s.failedBySecond {
			secs = append(secs, sec)
		}
		sort.Ints(secs)
		fmt.Fprint(w, "  failed queries by the second they ended in:")
		for _, sec := range secs {
			fmt.Fprintf(w, " %ds:%d", sec, s.failedBySecond[sec])
		}
		fmt.Fprintf(w, " (started %s)\n", s.start.UTC().Format(time.RFC3339))
	}
	return p99
}
