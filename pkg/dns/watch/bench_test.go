package watch

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// BenchmarkInitialSync is the work between the informer caches syncing and
// the first snapshot: every Service's records from the caches, into a new
// index, published. The cluster is shaped like make bench's.
func BenchmarkInitialSync(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("%d-services", n), func(b *testing.B) {
			o := newOffline(b, Options{})
			for i := range n {
				ns, name := fmt.Sprintf("ns%d", i%10), fmt.Sprintf("svc-%d", i)
				switch i % 10 {
				case 8:
					o.put(headlessService(ns, name))
					o.put(endpointSlice(ns, name, name+"-a", discoveryv1.AddressTypeIPv4,
						fmt.Sprintf("=10.100.%d.%d", i>>8&255, i&255), fmt.Sprintf("=10.101.%d.%d", i>>8&255, i&255),
						fmt.Sprintf("=10.102.%d.%d", i>>8&255, i&255)))
				case 9:
					o.put(externalService(ns, name, name+".example.com"))
				default:
					svc := clusterIPService(ns, name, fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255))
					svc.Spec.Ports = append(svc.Spec.Ports, svc.Spec.Ports[0])
					svc.Spec.Ports[1].Name, svc.Spec.Ports[1].Port = "https", 443
					o.put(svc)
				}
			}
			o.c.take()
			b.ReportAllocs()
			for b.Loop() {
				o.c.index = records.NewIndex(o.c.cfg)
				o.c.snap.Store(nil)
				o.c.sync(context.Background(), true)
			}
			if o.c.Snapshot() == nil || o.c.index.Len() != n {
				b.Fatalf("index holds %d services", o.c.index.Len())
			}
		})
	}
}

// BenchmarkSliceStoreMemory reports what the EndpointSlice store keeps per
// slice, its index by Service included, for 50,000 Services of one slice
// each (a cluster where every Service selects pods).
func BenchmarkSliceStoreMemory(b *testing.B) {
	const n = 50000
	list := make([]any, n)
	for i := range n {
		list[i] = slice(fmt.Sprintf("svc-%d-abcde", i), fmt.Sprintf("svc-%d", i), "1")
	}
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newStore(func(string, ...any) {}, versionChanged, sliceService)
		if err := s.Replace(list, "1"); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/slice")
		runtime.KeepAlive(s)
	}
}
