// Command dnsload looks names up at a steady rate for a while, as a pod's
// program would (Go's resolver: the pod's resolv.conf, its search list and
// ndots), and says how many lookups failed: the node test runs it in a
// client pod while kube-dns rolls. It exits 1 when any lookup failed.
//
// With -libc the lookups go through glibc's getaddrinfo instead (the
// binary is built with cgo; it re-executes itself with GODEBUG=netdns=cgo),
// which sends A and AAAA from one socket, as most programs in pods do.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	rate := flag.Int("rate", 200, "lookups per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to look up")
	timeout := flag.Duration("timeout", 5*time.Second, "how long one lookup may take")
	libc := flag.Bool("libc", false, "look up through glibc's getaddrinfo, not Go's resolver")
	flag.Parse()
	if *libc {
		useLibc()
	}
	names := flag.Args()
	if len(names) == 0 || *rate <= 0 || *rate > 10000 || *duration <= 0 || *duration > 10*time.Minute {
		fmt.Fprintln(os.Stderr, "usage: dnsload [-rate N (1-10000)] [-duration D (at most 10m)] [-timeout D] NAME...")
		os.Exit(2)
	}
	r := &net.Resolver{PreferGo: !*libc}
	var (
		ok, failed atomic.Int64
		mu         sync.Mutex
		errs       = map[string]int{}
		bySecond   = map[int]int{} // failed lookups by the second they began in
		firsts     []string        // the first failures, when they began
		slowest    time.Duration
		wg         sync.WaitGroup
	)
	tick := time.NewTicker(time.Second / time.Duration(*rate))
	defer tick.Stop()
	end := time.After(*duration)
	start := time.Now()
	for i := 0; ; i++ {
		select {
		case <-end:
			wg.Wait()
			elapsed := time.Since(start)
			keys := make([]string, 0, len(errs))
			for k := range errs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			fmt.Printf("lookups %d ok %d failed %d in %.1fs (%.0f/s), slowest %v\n", ok.Load()+failed.Load(), ok.Load(), failed.Load(),
				elapsed.Seconds(), float64(ok.Load()+failed.Load())/elapsed.Seconds(), slowest.Round(time.Millisecond))
			for _, k := range keys {
				fmt.Printf("  %d× %s\n", errs[k], k)
			}
			if len(bySecond) > 0 {
				secs := make([]int, 0, len(bySecond))
				for s := range bySecond {
					secs = append(secs, s)
				}
				sort.Ints(secs)
				fmt.Print("  failed lookups by the second they began in:")
				for _, s := range secs {
					fmt.Printf(" %ds:%d", s, bySecond[s])
				}
				fmt.Printf(" (started %s)\n", start.UTC().Format(time.RFC3339))
				for _, f := range firsts {
					fmt.Println("  " + f)
				}
			}
			if failed.Load() > 0 {
				os.Exit(1)
			}
			return
		case <-tick.C:
		}
		name := names[i%len(names)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			defer cancel()
			t := time.Now()
			_, err := r.LookupHost(ctx, name)
			d := time.Since(t)
			mu.Lock()
			slowest = max(slowest, d)
			if err != nil {
				errs[err.Error()]++
				bySecond[int(t.Sub(start).Seconds())]++
				if len(firsts) < 20 {
					firsts = append(firsts, fmt.Sprintf("%s began %s (%d.%06d): %v", name, t.UTC().Format("15:04:05.000000"), t.Unix(), t.Nanosecond()/1000, err))
				}
			}
			mu.Unlock()
			if err != nil {
				failed.Add(1)
				return
			}
			ok.Add(1)
		}()
	}
}
