package records

import (
	"cmp"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Wildcards is what wildcard queries read ("*" for a label below
// svc.<domain>, as the original kube-dns served them): every Service's
// fragment in namespace and name order, and in name and namespace order,
// each with a summary of the types it holds at each depth below the
// Service's name. An Index builds it (Index.Wildcards) off the query path;
// a query visits only the fragments the summaries say can answer it, and
// at most a budget of their names.
type Wildcards struct {
	domain     string // "svc." + the cluster domain
	entries    []wildEntry
	masks      []uint32 // the entries' summaries, side by side for a fast scan
	all        uint32   // every summary or-ed: what no entry holds, no scan finds
	byName     []int32  // entries by name, then namespace
	namespaces bool     // whether any name exists directly below svc.<domain>
}

type wildEntry struct {
	ns, name string // lower case
	svc      string // <name>.<ns>.svc.<domain>
	frag     *Fragment
}

// The summary of a fragment (Fragment.wild): for each depth below the
// Service's name (0: the name itself, 1: endpoints and _<proto>, 2:
// _<port>._<proto>, 3: anything deeper), a byte whose bits say which
// types names at that depth hold, and whether any name is there.
const (
	wildA = 1 << iota
	wildAAAA
	wildSRV
	wildCNAME
	wildOther
	wildExists
	wildTypes = wildA | wildAAAA | wildSRV | wildCNAME | wildOther
)

func wildBit(t uint16) uint32 {
	switch t {
	case dns.TypeA:
		return wildA
	case dns.TypeAAAA:
		return wildAAAA
	case dns.TypeSRV:
		return wildSRV
	case dns.TypeCNAME:
		return wildCNAME
	case dns.TypeANY:
		return wildTypes
	}
	return wildOther
}

// depthBelow returns how many labels name has before svc (a suffix of it
// at a label boundary), capped at 3, or -1 when name is not svc or below it.
func depthBelow(name, svc string) int {
	if !InZone(name, svc) {
		return -1
	}
	return min(strings.Count(name[:len(name)-len(svc)], "."), 3)
}

// summarize computes f's summary, svc being the Service's name.
func (f *Fragment) summarize(svc string) {
	var w uint32
	for _, g := range f.groups {
		d := depthBelow(g.name, svc)
		if d < 0 {
			continue
		}
		for ; d >= 0; d-- { // the name, and the names it makes exist above it
			w |= wildExists << (8 * d)
			if depthBelow(g.name, svc) == d {
				for _, s := range g.sets {
					w |= wildBit(s.Type) << (8 * d)
				}
			}
		}
	}
	f.wild = w
}

// Wildcards returns the wildcard view of the index as it is now; it costs
// a walk over every Service, so callers pace it.
func (x *Index) Wildcards() *Wildcards {
	w := &Wildcards{domain: "svc." + x.cfg.Domain, namespaces: x.below["svc."+x.cfg.Domain] > 0}
	w.entries = make([]wildEntry, 0, len(x.frags))
	for key, f := range x.frags {
		if f.wild == 0 {
			continue
		}
		ns, name, _ := strings.Cut(key, "/")
		w.entries = append(w.entries, wildEntry{ns: lower(ns), name: lower(name), frag: f})
	}
	slices.SortFunc(w.entries, func(a, b wildEntry) int { return cmp.Or(strings.Compare(a.ns, b.ns), strings.Compare(a.name, b.name)) })
	w.masks = make([]uint32, len(w.entries))
	w.byName = make([]int32, len(w.entries))
	for i := range w.entries {
		e := &w.entries[i]
		e.svc = x.cfg.svcName(e.ns, e.name)
		w.masks[i] = e.frag.wild
		w.all |= e.frag.wild
		w.byName[i] = int32(i)
	}
	slices.SortFunc(w.byName, func(a, b int32) int {
		x, y := &w.entries[a], &w.entries[b]
		return cmp.Or(strings.Compare(x.name, y.name), strings.Compare(x.ns, y.ns))
	})
	return w
}

// Domain returns svc.<domain>: wildcard names are below it.
func (w *Wildcards) Domain() string { return w.domain }

// Match finds the names a wildcard query matches: labels are those of the
// name below svc.<domain>, left to right, "*" standing for any label that
// does not start with "_". As the original did, a "*" in the first label
// of a name that has no such child stands for the name itself. Match calls
// fn, in order, with every matched name that has records of type qtype (any
// type for ANY), and their sets, until fn returns false. It reports whether
// any name matched at all, and whether it looked at every candidate:
// budget bounds the names it visits.
func (w *Wildcards) Match(labels []string, qtype uint16, budget int, fn func(name string, sets []RRSet) bool) (exists, complete bool) {
	k := len(labels)
	switch {
	case k == 0:
		return false, true
	case k == 1: // "*": the namespaces, names without records
		return w.namespaces && labels[0] == "*", true
	}
	ns, name, rest := labels[k-1], labels[k-2], labels[:k-2]
	d := min(len(rest), 3)
	star0 := len(rest) > 0 && rest[0] == "*"
	// relevant reports whether a summary says the fragment has names with
	// the given bits where this query's names are.
	relevant := func(mask, bits uint32) bool {
		return mask>>(8*d)&bits != 0 || star0 && mask>>(8*(d-1))&bits&wildTypes != 0
	}
	want := wildBit(qtype)
	if !relevant(w.all, want) {
		want = 0 // no records anywhere: only whether a name matches is left to find
	}
	fixed := !slices.Contains(rest, "*")
	prefix := strings.Join(rest, ".") + "." // a fixed rest, as a name's first labels
	var sc wildScratch
	// visit matches entry i; false stops the walk (fn, or the budget).
	visit := func(i int) bool {
		typed := relevant(w.masks[i], want)
		if !typed && (exists || !relevant(w.masks[i], wildExists|wildTypes)) {
			return true // nothing here for this query
		}
		e := &w.entries[i]
		if len(rest) == 0 { // the Service's own name: most wildcard queries
			budget--
			sets := e.frag.at(e.svc)
			exists = exists || len(sets) > 0 || e.frag.has(e.svc, &budget)
			if typed && len(sets) > 0 && !fn(e.svc, sets) {
				return false
			}
			return budget > 0
		}
		if fixed { // one name: <rest>.<svc>
			budget--
			sc.key = append(append(sc.key[:0], prefix...), e.svc...)
			name, sets := e.frag.lookup(sc.key)
			if len(sets) > 0 {
				exists = true
				if typed && !fn(name, sets) {
					return false
				}
			} else if !exists {
				exists = e.frag.hasBelow(prefix, e.svc, &budget)
			}
			return budget > 0
		}
		found, more := e.frag.wildMatch(e.svc, rest, &budget, &sc, func(n string, sets []RRSet) bool {
			for i := range sets {
				if typed && (sets[i].Type == qtype || qtype == dns.TypeANY) {
					return fn(n, sets)
				}
			}
			return true
		})
		exists = exists || found
		return more && budget > 0
	}
	complete = true
	walk := func(i int) bool {
		complete = visit(i)
		return complete
	}
	switch {
	case ns != "*" && name != "*":
		if i, ok := slices.BinarySearchFunc(w.entries, [2]string{ns, name}, func(e wildEntry, t [2]string) int {
			return cmp.Or(strings.Compare(e.ns, t[0]), strings.Compare(e.name, t[1]))
		}); ok {
			walk(i)
		}
	case ns != "*":
		i, _ := slices.BinarySearchFunc(w.entries, ns, func(e wildEntry, t string) int { return strings.Compare(e.ns, t) })
		for ; i < len(w.entries) && w.entries[i].ns == ns && walk(i); i++ {
		}
	case name != "*":
		i, _ := slices.BinarySearchFunc(w.byName, name, func(e int32, t string) int { return strings.Compare(w.entries[e].name, t) })
		for ; i < len(w.byName) && w.entries[w.byName[i]].name == name && walk(int(w.byName[i])); i++ {
		}
	default:
		// The scan most entries take: only the summaries are read.
		sh, shPrev, prevMask := uint(8*d), uint(0), uint32(0)
		if star0 {
			shPrev, prevMask = uint(8*(d-1)), wildTypes
		}
		bits := want | wildExists
		for i, m := range w.masks {
			if (m>>sh|m>>shPrev&prevMask)&bits == 0 {
				continue
			}
			if !walk(i) {
				break
			}
			if exists {
				if want == 0 {
					break // a name matches and none can have records
				}
				bits = want
			}
		}
	}
	return exists, complete
}

// wildScratch is the working memory of one query's walk, reused from
// fragment to fragment.
type wildScratch struct {
	nodes, next []string
	key         []byte
}

// wildMatch walks rest (labels below svc, the Service's name, left to
// right) through f's names as the original's wildcards did, spending
// budget per name it looks at, and calls fn with each matched name that
// has records. It reports whether any name matched, and false when fn or
// the budget stopped it. Names are slices of f's own names: the walk
// allocates nothing.
func (f *Fragment) wildMatch(svc string, rest []string, budget *int, sc *wildScratch, fn func(string, []RRSet) bool) (exists, more bool) {
	if !f.has(svc, budget) {
		return false, *budget > 0
	}
	nodes := append(sc.nodes[:0], svc)
	for i := len(rest) - 1; i >= 0 && len(nodes) > 0; i-- {
		next := sc.next[:0]
		for _, n := range nodes {
			if rest[i] != "*" {
				if c, ok := f.child(rest[i], n, budget); ok {
					next = append(next, c)
				}
				continue
			}
			before := len(next)
			next = f.children(next, n, budget)
			if len(next) == before && i == 0 && len(f.at(n)) > 0 {
				next = append(next, n)
			}
		}
		sc.nodes, sc.next = next, nodes // swap the buffers
		nodes = next
		if *budget <= 0 {
			return len(nodes) > 0, false
		}
	}
	for _, n := range nodes {
		if sets := f.at(n); len(sets) > 0 && !fn(n, sets) {
			return true, false
		}
	}
	return len(nodes) > 0, true
}

// has reports whether name exists in f: it has records, or names below it do.
func (f *Fragment) has(name string, budget *int) bool {
	*budget--
	if f.at(name) != nil {
		return true
	}
	for _, g := range f.groups {
		*budget--
		if InZone(g.name, name) {
			return true
		}
	}
	return false
}

// hasBelow reports whether prefix+svc (prefix: labels with their dots)
// exists in f.
func (f *Fragment) hasBelow(prefix, svc string, budget *int) bool {
	for _, g := range f.groups {
		*budget--
		rel, ok := strings.CutSuffix(g.name, svc)
		if ok && strings.HasSuffix(rel, prefix) && (len(rel) == len(prefix) || rel[len(rel)-len(prefix)-1] == '.') {
			return true
		}
	}
	return false
}

// child returns label.n when it exists in f, as a slice of one of f's names.
func (f *Fragment) child(label, n string, budget *int) (string, bool) {
	size := len(label) + 1 + len(n)
	for _, g := range f.groups {
		*budget--
		if len(g.name) < size || !InZone(g.name, n) {
			continue
		}
		c := g.name[len(g.name)-size:]
		if c[:len(label)] == label && c[len(label)] == '.' && (len(g.name) == size || g.name[len(g.name)-size-1] == '.') {
			return c, true
		}
	}
	return "", false
}

// children appends to kids the names in f directly below n whose first
// label does not start with "_", sorted, as slices of f's names.
func (f *Fragment) children(kids []string, n string, budget *int) []string {
	from := len(kids)
	for _, g := range f.groups {
		*budget--
		if len(g.name) <= len(n) || !InZone(g.name, n) {
			continue
		}
		rel := g.name[:len(g.name)-len(n)-1] // the labels before n, without the dot
		label := rel[strings.LastIndexByte(rel, '.')+1:]
		if strings.HasPrefix(label, "_") {
			continue
		}
		if c := g.name[len(g.name)-len(n)-len(label)-1:]; !slices.Contains(kids[from:], c) {
			kids = append(kids, c)
		}
	}
	slices.Sort(kids[from:])
	return kids
}

// lookup returns the name spelled in key and its sets, when f has records there.
func (f *Fragment) lookup(key []byte) (string, []RRSet) {
	i, ok := slices.BinarySearchFunc(f.groups, key, func(g group, k []byte) int { return compareName(g.name, k) })
	if !ok {
		return "", nil
	}
	return f.groups[i].name, f.groups[i].sets
}

// compareName compares a name with one spelled in bytes, as strings.Compare.
func compareName(a string, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return cmp.Compare(a[i], b[i])
		}
	}
	return cmp.Compare(len(a), len(b))
}
