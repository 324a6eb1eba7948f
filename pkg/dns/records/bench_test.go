package records

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
)

// clusterOf returns n Services shaped like make bench's cluster:
// 80% ClusterIP with two named ports, 10% headless with three endpoints, 10%
// ExternalName, spread over 10 namespaces.
func clusterOf(n int) ([]Service, [][]EndpointSet) {
	svcs := make([]Service, n)
	sets := make([][]EndpointSet, n)
	for i := range n {
		s := Service{Namespace: fmt.Sprintf("ns%d", i%10), Name: fmt.Sprintf("svc-%d", i)}
		switch i % 10 {
		case 8:
			s.Kind = Headless
			var eps []Endpoint
			for j := range 3 {
				eps = append(eps, Endpoint{Ready: true, Addresses: []netip.Addr{netip.AddrFrom4([4]byte{10, 100 + byte(j), byte(i >> 8), byte(i)})}})
			}
			sets[i] = []EndpointSet{{Ports: []Port{{Name: "http", Protocol: "tcp", Port: 8080}}, Endpoints: eps}}
		case 9:
			s.Kind = ExternalName
			s.ExternalName = fmt.Sprintf("svc-%d.example.com", i)
		default:
			s.ClusterIPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})}
			s.Ports = []Port{{Name: "http", Protocol: "tcp", Port: 80}, {Name: "https", Protocol: "tcp", Port: 443}}
		}
		svcs[i] = s
	}
	return svcs, sets
}

func benchConfig() *Config {
	return &Config{Domain: "cluster.local.", TTL: 30, DNSService: "kube-system/kube-dns"}
}

func buildCluster(c *Config, n int) *Snapshot {
	svcs, sets := clusterOf(n)
	b := NewBuilder(c)
	for i := range svcs {
		b.AddService(c.ServiceRecords(&svcs[i], sets[i]))
	}
	for i := range 10 {
		b.AddNamespace(fmt.Sprintf("ns%d", i))
	}
	return b.Finish(1)
}

func BenchmarkSnapshotLookup(b *testing.B) {
	s := buildCluster(benchConfig(), 10000)
	names := [][]byte{
		[]byte("svc-1234.ns4.svc.cluster.local."),
		[]byte("_http._tcp.svc-1234.ns4.svc.cluster.local."),
		[]byte("missing.ns4.svc.cluster.local."),
		[]byte("210.4.0.10.in-addr.arpa."),
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = s.LookupBytes(names[i%len(names)])
		i++
	}
}

func BenchmarkSnapshotBuild(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("%d-services", n), func(b *testing.B) {
			c := benchConfig()
			svcs, sets := clusterOf(n)
			frags := make([]*Fragment, n)
			for i := range svcs {
				frags[i] = c.ServiceRecords(&svcs[i], sets[i])
			}
			b.ReportAllocs()
			for b.Loop() {
				bld := NewBuilder(c)
				for _, f := range frags {
					bld.AddService(f)
				}
				bld.Finish(1)
			}
		})
	}
}

func BenchmarkServiceRecords(b *testing.B) {
	c := benchConfig()
	svcs, sets := clusterOf(10)
	b.ReportAllocs()
	for b.Loop() {
		for i := range svcs {
			c.ServiceRecords(&svcs[i], sets[i])
		}
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	s := buildCluster(benchConfig(), 100)
	name := []byte("svc-12.ns2.svc.cluster.local.")
	if n := testing.AllocsPerRun(100, func() { _ = s.LookupBytes(name) }); n != 0 {
		t.Errorf("LookupBytes allocates %v times", n)
	}
	if s.LookupBytes(name) == nil {
		t.Error("svc-12 not found")
	}
}

// BenchmarkIndexUpdate is the cost of one changed Service: recompute its
// records, apply them to the index and publish a snapshot. It should not grow
// with the size of the cluster.
func BenchmarkIndexUpdate(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		for _, kind := range []string{"clusterip", "headless"} {
			b.Run(fmt.Sprintf("%d-services/%s", n, kind), func(b *testing.B) {
				c := benchConfig()
				svcs, sets := clusterOf(n)
				x := NewIndex(c)
				for i := range svcs {
					f := c.ServiceRecords(&svcs[i], sets[i])
					x.SetService(f.Key(), f)
				}
				x.Publish(1)
				i := 1234 // a ClusterIP Service
				if kind == "headless" {
					i = 1238
				}
				svc, eps := svcs[i], sets[i]
				key := svc.Namespace + "/" + svc.Name
				b.ReportAllocs()
				serial := uint32(1)
				for b.Loop() {
					serial++
					if svc.Kind == ClusterIP {
						svc.ClusterIPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 1, byte(serial >> 8), byte(serial)})}
					} else {
						eps[0].Endpoints[0].Addresses = []netip.Addr{netip.AddrFrom4([4]byte{10, 1, byte(serial >> 8), byte(serial)})}
					}
					if !x.SetService(key, c.ServiceRecords(&svc, eps)) {
						b.Fatal("no change")
					}
					x.Publish(serial)
				}
			})
		}
	}
}

// BenchmarkIndexMemory reports the heap an Index holding 10,000 Services
// keeps (bytes per Service): live bytes, which are not all of the RSS
// (hack/bench/history.md, "Memory at 50,000 Services").
func BenchmarkIndexMemory(b *testing.B) {
	c := benchConfig()
	svcs, sets := clusterOf(10000)
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		x := NewIndex(c)
		for i := range svcs {
			f := c.ServiceRecords(&svcs[i], sets[i])
			x.SetService(f.Key(), f)
		}
		s := x.Publish(1)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(len(svcs)), "heap-B/service")
		b.ReportMetric(float64(s.Len())/float64(len(svcs)), "names/service")
		runtime.KeepAlive(x)
	}
}

// BenchmarkWildcardView is the walk over every Service that builds the
// wildcard view, which kubedns paces (watch.WildcardEvery).
func BenchmarkWildcardView(b *testing.B) {
	for _, n := range []int{10000, 50000} {
		svcs, sets := clusterOf(n)
		c := benchConfig()
		x := NewIndex(c)
		for i := range svcs {
			x.SetService(svcs[i].Namespace+"/"+svcs[i].Name, c.ServiceRecords(&svcs[i], sets[i]))
		}
		b.Run(fmt.Sprintf("%d-services", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x.Wildcards()
			}
		})
	}
}
