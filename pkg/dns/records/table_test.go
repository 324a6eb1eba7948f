package records

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// checkTable compares t with the model m, by lookups and by walking it.
func checkTable(t *testing.T, tb *table, m map[string]*Node, absent []string) {
	t.Helper()
	if tb.n != len(m) {
		t.Fatalf("table holds %d names, want %d", tb.n, len(m))
	}
	for name, n := range m {
		if got := tb.get(hashOf(name), name); got != n {
			t.Fatalf("get(%q) = %v, want %v", name, got, n)
		}
		if got := tb.getBytes(hashOfBytes([]byte(name)), []byte(name)); got != n {
			t.Fatalf("getBytes(%q) = %v, want %v", name, got, n)
		}
	}
	for _, name := range absent {
		if _, ok := m[name]; !ok && tb.get(hashOf(name), name) != nil {
			t.Fatalf("get(%q) found a deleted name", name)
		}
	}
	seen := 0
	tb.each(func(n *Node) {
		seen++
		if m[n.name] != n {
			t.Fatalf("each gave %q, which the model does not hold", n.name)
		}
	})
	if seen != len(m) {
		t.Fatalf("each gave %d nodes, want %d", seen, len(m))
	}
}

// TestTable runs random puts and deletes on a table and a Go map side by
// side. Few distinct names make runs of colliding slots, which deletes must
// close (backward shift) without losing the names after them.
func TestTable(t *testing.T) {
	for _, names := range []int{3, 20, 300} {
		t.Run(fmt.Sprint(names), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(names)))
			all := make([]string, names)
			for i := range all {
				all[i] = fmt.Sprintf("n%d.ns.svc.cluster.local.", i)
			}
			tb, m := &table{}, map[string]*Node{}
			var snap *table
			var snapModel map[string]*Node
			for step := range 20000 {
				name := all[r.IntN(names)]
				if r.IntN(3) == 0 {
					tb.del(hashOf(name), name)
					delete(m, name)
				} else {
					n := &Node{name: name}
					tb.put(hashOf(name), n)
					m[name] = n
				}
				if step%997 == 0 {
					checkTable(t, tb, m, all)
					if snap != nil {
						checkTable(t, snap, snapModel, all) // a clone does not see later writes
					}
					snap, snapModel = tb, map[string]*Node{}
					for k, v := range m {
						snapModel[k] = v
					}
					tb = tb.clone()
				}
			}
			checkTable(t, tb, m, all)
		})
	}
}

func TestTableEmpty(t *testing.T) {
	var nilTable *table
	if nilTable.get(hashOf("a."), "a.") != nil || nilTable.getBytes(hashOf("a."), []byte("a.")) != nil {
		t.Error("a nil table found a name")
	}
	nilTable.each(func(*Node) { t.Error("a nil table has a node") })
	tb := nilTable.clone()
	tb.del(hashOf("a."), "a.")
	tb.put(hashOf("a."), &Node{name: "a."})
	tb.del(hashOf("a."), "a.")
	if tb.n != 0 || tb.tags != nil {
		t.Errorf("an emptied table keeps %d names, %d slots", tb.n, len(tb.tags))
	}
}
