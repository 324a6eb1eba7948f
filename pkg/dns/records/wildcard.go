package records

import (
	"cmp"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
)

// Wildcards is what wildcard queries read ("*" for a label below
// svc.<domain>, as the original kube-dns served them): every Service's
// fragment, in the order of its "namespace/name" key, each with a summary
// of the types it holds at each depth below the Service's name. It is built
// from an Index (Index.WildcardInput, BuildWildcards) off the query path,
// and off the Index's goroutine; a query visits only the fragments the
// summaries say can answer it, and at most a budget of their names.
type Wildcards struct {
	domain     string           // "svc." + the cluster domain
	entries    []*Fragment      // sorted by key
	masks      []uint32         // the entries' summaries, side by side for a fast scan
	all        uint32           // every summary or-ed: what no entry holds, no scan finds
	byName     map[string]int32 // the first entry of each Service name...
	sameName   []int32          // ...and, per entry, the next of the same name, or -1
	namespaces bool             // whether any name exists directly below svc.<domain>
}

// WildcardInput is what a wildcard view is built from: the Index's
// fragments as they are now, in a list of its own. The fragments are
// immutable, so the view can be built on any goroutine.
type WildcardInput struct {
	domain     string
	frags      []*Fragment
	namespaces bool
}

// WildcardInput takes what BuildWildcards needs from the index: a copy of
// its list of fragments, no more.
func (x *Index) WildcardInput() WildcardInput {
	in := WildcardInput{domain: x.cfg.Domain, namespaces: x.below["svc."+x.cfg.Domain] > 0,
		frags: make([]*Fragment, 0, len(x.frags))}
	for _, f := range x.frags {
		if f.wild != 0 {
			in.frags = append(in.frags, f)
		}
	}
	return in
}

// Wildcards returns the wildcard view of the index as it is now.
func (x *Index) Wildcards() *Wildcards { return BuildWildcards(x.WildcardInput()) }

// BuildWildcards builds a wildcard view; it costs a sort of every Service
// (about 2 ms at 10,000, BenchmarkWildcardView), so callers pace it.
func BuildWildcards(in WildcardInput) *Wildcards {
	w := &Wildcards{domain: "svc." + in.domain, namespaces: in.namespaces}
	slices.SortFunc(in.frags, func(a, b *Fragment) int { return strings.Compare(a.key, b.key) })
	w.entries = in.frags
	w.masks = make([]uint32, len(w.entries))
	w.sameName = make([]int32, len(w.entries))
	w.byName = make(map[string]int32, len(w.entries))
	for i := len(w.entries) - 1; i >= 0; i-- { // backwards: each name's chain in key order
		f := w.entries[i]
		_, name, _ := strings.Cut(f.key, "/")
		w.masks[i] = f.wild
		w.all |= f.wild
		w.sameName[i] = -1
		if j, ok := w.byName[name]; ok {
			w.sameName[i] = j
		}
		w.byName[name] = int32(i)
	}
	return w
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
	if !dnsname.InZone(name, svc) {
		return -1
	}
	return min(strings.Count(name[:len(name)-len(svc)], "."), 3)
}

// summarize computes f's summary and its Service's children, svc being
// the Service's name.
func (f *Fragment) summarize(svc string) {
	f.svc = svc
	var w uint32
	var kids []string
	for _, g := range f.groups {
		if k, ok := childOf(g.name, svc); ok && !slices.Contains(kids, k) {
			kids = append(kids, k)
		}
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
	if len(kids) > 0 {
		slices.Sort(kids)
		if f.more == nil {
			f.more = &fragMore{}
		}
		f.more.kids = slices.Clip(kids)
	}
}

// childOf returns the name directly below n that name is or is below, as a
// slice of name, when its first label does not start with "_".
func childOf(name, n string) (string, bool) {
	if len(name) <= len(n) || !dnsname.InZone(name, n) {
		return "", false
	}
	rel := name[:len(name)-len(n)-1] // the labels before n, without the dot
	label := rel[strings.LastIndexByte(rel, '.')+1:]
	if strings.HasPrefix(label, "_") {
		return "", false
	}
	return name[len(name)-len(n)-len(label)-1:], true
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
	// answer hands fn a matched name that has records of qtype.
	answer := func(n string, sets []RRSet) bool {
		for i := range sets {
			if sets[i].Type == qtype || qtype == dns.TypeANY {
				return fn(n, sets)
			}
		}
		return true
	}
	// visit matches entry i; false stops the walk (fn, or the budget).
	visit := func(i int) bool {
		typed := relevant(w.masks[i], want)
		if !typed && (exists || !relevant(w.masks[i], wildExists|wildTypes)) {
			return true // nothing here for this query
		}
		f := w.entries[i]
		if len(rest) == 0 { // the Service's own name: most wildcard queries
			budget--
			sets := f.at(f.svc)
			exists = exists || len(sets) > 0 || f.has(f.svc, &budget)
			if typed && !answer(f.svc, sets) {
				return false
			}
			return budget > 0
		}
		if fixed { // one name: <rest>.<svc>
			budget--
			sc.key = append(append(sc.key[:0], prefix...), f.svc...)
			name, sets := f.lookup(sc.key)
			if len(sets) > 0 {
				exists = true
				if typed && !answer(name, sets) {
					return false
				}
			} else if !exists {
				exists = f.hasBelow(prefix, f.svc, &budget)
			}
			return budget > 0
		}
		found, more := f.wildMatch(f.svc, rest, &budget, &sc, func(n string, sets []RRSet) bool {
			return !typed || answer(n, sets)
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
		if i, ok := slices.BinarySearchFunc(w.entries, ns+"/"+name, func(f *Fragment, k string) int { return strings.Compare(f.key, k) }); ok {
			walk(i)
		}
	case ns != "*":
		prefix := ns + "/"
		i, _ := slices.BinarySearchFunc(w.entries, prefix, func(f *Fragment, k string) int { return strings.Compare(f.key, k) })
		for ; i < len(w.entries) && strings.HasPrefix(w.entries[i].key, prefix) && walk(i); i++ {
		}
	case name != "*":
		for i, ok := w.byName[name]; ok && i >= 0 && walk(int(i)); i = w.sameName[i] {
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
		if *budget--; *budget < 0 {
			return true, false
		}
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
		if dnsname.InZone(g.name, name) {
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
		if len(g.name) < size || !dnsname.InZone(g.name, n) {
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
// label does not start with "_", sorted, as slices of f's names; the
// Service's own are kept (summarize).
func (f *Fragment) children(kids []string, n string, budget *int) []string {
	if n == f.svc {
		*budget--
		return append(kids, f.kids()...)
	}
	from := len(kids)
	for _, g := range f.groups {
		*budget--
		if c, ok := childOf(g.name, n); ok && !slices.Contains(kids[from:], c) {
			kids = append(kids, c)
		}
	}
	slices.Sort(kids[from:])
	return kids
}

// lookup returns the name spelled in key and its sets, when f has records there.
func (f *Fragment) lookup(key []byte) (string, []RRSet) {
	i, ok := slices.BinarySearchFunc(f.groups, key, func(g Node, k []byte) int { return compareName(g.name, k) })
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
