package records

import (
	"runtime"
	"testing"
)

// BenchmarkNameTable compares the name table (table shards) with what a Go
// programmer would write: the same shards as maps from name to node. It
// reports the bytes each keeps per name, and the time of a lookup of a
// name held (hit) or not (miss), over the names of 50,000 Services.
func BenchmarkNameTable(b *testing.B) {
	var nodes []*Node
	buildCluster(benchConfig(), 50000).each(func(n *Node) { nodes = append(nodes, n) })
	misses := make([][]byte, len(nodes))
	for i, n := range nodes {
		misses[i] = []byte("x" + n.name)
	}
	type impl struct {
		name  string
		build func() any
		get   func(any, []byte) *Node
	}
	impls := []impl{
		{"table", func() any {
			var t [nShards]table
			for _, n := range nodes {
				h := hashOf(n.name)
				t[h&(nShards-1)].put(h, n)
			}
			return &t
		}, func(v any, name []byte) *Node {
			h := hashOfBytes(name)
			return v.(*[nShards]table)[h&(nShards-1)].getBytes(h, name)
		}},
		{"map", func() any {
			var m [nShards]map[string]*Node
			for _, n := range nodes {
				h := hashOf(n.name) & (nShards - 1)
				if m[h] == nil {
					m[h] = map[string]*Node{}
				}
				m[h][n.name] = n
			}
			return &m
		}, func(v any, name []byte) *Node {
			return v.(*[nShards]map[string]*Node)[hashOfBytes(name)&(nShards-1)][string(name)]
		}},
	}
	for _, im := range impls {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		t := im.build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		perName := float64(after.HeapAlloc-before.HeapAlloc) / float64(len(nodes))
		for _, kind := range []string{"hit", "miss"} {
			names := misses
			if kind == "hit" {
				names = make([][]byte, len(nodes))
				for i, n := range nodes {
					names[i] = []byte(n.name)
				}
			}
			b.Run(im.name+"/"+kind, func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					n := im.get(t, names[i%len(names)])
					if (n != nil) != (kind == "hit") {
						b.Fatalf("lookup of %q: %v", names[i%len(names)], n)
					}
					i += 7919 // a prime stride: the lookups wander over the table as queries do
				}
				b.ReportMetric(perName, "B/name")
			})
		}
		runtime.KeepAlive(t)
	}
}
