package records

import "hash/maphash"

// table is one shard of the name table: an open-addressing hash table of
// nodes keyed by their own names. A name is stored once, in its node, and a
// slot costs 9 bytes (a tag and a pointer), where a Go map of string keys
// spends about 50 (BenchmarkNameTable compares the two).
// It probes linearly over the tags, so a miss reads a few bytes of one cache
// line; a tag is the top 7 bits of the name's hash with the high bit set, 0
// is an empty slot. A table shared with a Snapshot is never written: the
// Index clones it first (Index.writable).
type table struct {
	tags  []uint8 // a power of two long, or empty
	nodes []*Node
	n     int
}

var hashSeed = maphash.MakeSeed()

// The name's hash: its low shardBits pick the shard, the bits above them a
// slot, the top 7 the tag.
func hashOf(name string) uint64 { return maphash.String(hashSeed, name) }

func hashOfBytes(name []byte) uint64 { return maphash.Bytes(hashSeed, name) }

func tagOf(h uint64) uint8 { return uint8(h>>57) | 0x80 }

func (t *table) home(h uint64) int { return int(h>>shardBits) & (len(t.tags) - 1) }

// get returns the node of name, whose hash is h, or nil.
func (t *table) get(h uint64, name string) *Node { return find(t, h, name) }

// getBytes is get for a name in a byte slice; it does not allocate.
func (t *table) getBytes(h uint64, name []byte) *Node { return find(t, h, name) }

// find is get and getBytes: one instance for each name type, both free of
// allocations (the comparison converts nothing).
func find[N string | []byte](t *table, h uint64, name N) *Node {
	if t == nil || t.n == 0 {
		return nil
	}
	tag, mask := tagOf(h), len(t.tags)-1
	for i := t.home(h); ; i = (i + 1) & mask {
		switch t.tags[i] {
		case 0:
			return nil
		case tag:
			if n := t.nodes[i]; n.name == string(name) {
				return n
			}
		}
	}
}

// put stores n under its name, whose hash is h, replacing the node there.
func (t *table) put(h uint64, n *Node) {
	if 4*(t.n+1) > 3*len(t.tags) {
		t.resize(max(8, 2*len(t.tags)))
	}
	tag, mask := tagOf(h), len(t.tags)-1
	for i := t.home(h); ; i = (i + 1) & mask {
		switch t.tags[i] {
		case 0:
			t.tags[i], t.nodes[i] = tag, n
			t.n++
			return
		case tag:
			if t.nodes[i].name == n.name {
				t.nodes[i] = n
				return
			}
		}
	}
}

// del removes name, whose hash is h. The nodes after it in its run move
// back into the gap when that is nearer their home slot (backward-shift
// deletion), so the table needs no tombstones.
func (t *table) del(h uint64, name string) {
	if t.n == 0 {
		return
	}
	tag, mask := tagOf(h), len(t.tags)-1
	i := t.home(h)
	for ; t.tags[i] != tag || t.nodes[i].name != name; i = (i + 1) & mask {
		if t.tags[i] == 0 {
			return
		}
	}
	t.n--
	for j := (i + 1) & mask; t.tags[j] != 0; j = (j + 1) & mask {
		// Move j into the gap at i unless its home lies cyclically in (i, j].
		if k := t.home(hashOf(t.nodes[j].name)); (j-k)&mask >= (j-i)&mask {
			t.tags[i], t.nodes[i] = t.tags[j], t.nodes[j]
			i = j
		}
	}
	t.tags[i], t.nodes[i] = 0, nil
	if t.n == 0 {
		t.tags, t.nodes = nil, nil
	}
}

// resize moves the nodes into size slots.
func (t *table) resize(size int) {
	old := t.nodes
	t.tags, t.nodes, t.n = make([]uint8, size), make([]*Node, size), 0
	for _, n := range old {
		if n != nil {
			t.put(hashOf(n.name), n)
		}
	}
}

// clone returns a copy that can be written without changing t; t may be nil.
func (t *table) clone() *table {
	c := &table{}
	if t != nil && t.n > 0 {
		c.tags, c.nodes, c.n = append([]uint8(nil), t.tags...), append([]*Node(nil), t.nodes...), t.n
	}
	return c
}

// each calls fn for every node.
func (t *table) each(fn func(*Node)) {
	if t == nil {
		return
	}
	for _, n := range t.nodes {
		if n != nil {
			fn(n)
		}
	}
}
