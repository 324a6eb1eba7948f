package server

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// maxChase bounds how many CNAMEs inside the cluster domain one answer follows.
const maxChase = 8

// result is an answer before it is put into a message.
type result struct {
	rcode     int
	ans       []dns.RR
	ns        []dns.RR
	extra     []dns.RR
	truncated bool // more records match than the answer holds
}

// resolve answers a query for a name inside one of the snapshot's zones.
// qname is the name as asked, lname the same in lower case.
//
// room is how many bytes of records the reply can carry (see room): no more
// records are decoded than the smallest would fill it with, as more would
// only be cut.
func (h *Handler) resolve(ctx context.Context, s *records.Snapshot, zone, qname, lname string, qtype uint16, room int) result {
	fits := room / minAnswerLen
	if h.wildcards != nil && zone == s.Config().Domain && hasWildcard(lname) {
		return h.wildcard(s, zone, qname, lname, qtype, room)
	}
	n := s.Lookup(lname)
	if n == nil {
		if rr := h.podRecord(s, qname, lname); rr != nil {
			if qtype == rr.Header().Rrtype || qtype == dns.TypeANY {
				return result{rcode: dns.RcodeSuccess, ans: []dns.RR{rr}}
			}
			return negative(s, zone, dns.RcodeSuccess)
		}
		return negative(s, zone, dns.RcodeNameError)
	}
	r := result{rcode: dns.RcodeSuccess}
	switch set := n.Set(qtype); {
	case qtype == dns.TypeANY:
		for _, set := range n.Sets() {
			rrs, extra, cut := set.Head(qname, min(fits, maxAnswer)-len(r.ans))
			r.ans = append(r.ans, rrs...)
			r.extra = append(r.extra, extra...)
			if cut || len(r.ans) == maxAnswer {
				r.truncated = true
				break
			}
		}
	case set != nil:
		r.ans, r.extra, _ = set.Head(qname, fits)
	default:
		cname, _ := n.Set(dns.TypeCNAME).Records(qname)
		if cname == nil {
			return negative(s, zone, dns.RcodeSuccess)
		}
		r.ans = append(cname, h.chase(ctx, s, []string{lname}, cname[0].(*dns.CNAME).Target, qtype)...)
	}
	if len(r.ans) == 0 {
		return negative(s, zone, dns.RcodeSuccess)
	}
	return r
}

// chase follows a CNAME target: inside the cluster domain through the
// snapshot, outside it through the upstream resolver when there is one. It
// stops at a loop (a name already in chain) or after maxChase steps.
func (h *Handler) chase(ctx context.Context, s *records.Snapshot, chain []string, target string, qtype uint16) []dns.RR {
	if len(chain) > maxChase || slices.Contains(chain, target) {
		return nil
	}
	if s.Zone(target) != s.Config().Domain {
		if h.upstream == nil {
			return nil
		}
		return h.upstream.Lookup(ctx, target, qtype)
	}
	n := s.Lookup(target)
	if n == nil {
		return nil
	}
	if rrs := n.RRs(qtype); rrs != nil {
		return rrs
	}
	if cname := n.RRs(dns.TypeCNAME); cname != nil {
		return append(cname, h.chase(ctx, s, append(chain, target), cname[0].(*dns.CNAME).Target, qtype)...)
	}
	return nil
}

// podRecord synthesizes <dashed-ip>.<ns>.pod.<domain> in insecure mode, when
// the namespace exists. Verified pod names are in the snapshot itself.
func (h *Handler) podRecord(s *records.Snapshot, qname, lname string) dns.RR {
	c := s.Config()
	if c.Pods != records.PodsInsecure {
		return nil
	}
	nsName := dnsname.Parent(lname)
	if dnsname.Parent(nsName) != "pod."+c.Domain || s.Lookup(nsName) == nil {
		return nil
	}
	ip, ok := records.ParseDashedIP(dnsname.FirstLabel(lname))
	if !ok {
		return nil
	}
	hdr := dns.RR_Header{Name: qname, Class: dns.ClassINET, Ttl: c.TTL}
	if ip.Is4() {
		hdr.Rrtype = dns.TypeA
		return &dns.A{Hdr: hdr, A: ip.AsSlice()}
	}
	hdr.Rrtype = dns.TypeAAAA
	return &dns.AAAA{Hdr: hdr, AAAA: ip.AsSlice()}
}

// Bounds on the work of one answer, so that no query costs much more than
// another: an answer assembled from several names or sets (a wildcard,
// ANY) holds at most maxAnswer records, with TC set when more would match
// (over TCP too), and a wildcard visits at most wildcardBudget names.
const (
	maxAnswer      = 128
	wildcardBudget = 2048
)

// wildcard answers names with "*" labels below svc.<domain> on the general
// path; see wildcardAnswer.
func (h *Handler) wildcard(s *records.Snapshot, zone, qname, lname string, qtype uint16, room int) result {
	a, exists, ok := h.wildcardAnswer(s, lname, qtype, room)
	defer a.Release()
	switch {
	case !ok:
		return result{rcode: dns.RcodeServerFailure}
	case a.Len() > 0 || a.Full():
		r := result{rcode: dns.RcodeSuccess, truncated: a.Full()}
		r.ans, r.extra = a.RRs(qname, s.Config().TTL)
		return r
	case exists:
		return negative(s, zone, dns.RcodeSuccess)
	}
	return negative(s, zone, dns.RcodeNameError)
}

// wildcardAnswer gathers the records a wildcard name (lower case) matches,
// as the original kube-dns did: "*" stands for any namespace, any Service,
// or any endpoint of a headless Service (for a Service without endpoint
// names, the Service itself). It reads the wildcard view, which lags the
// snapshot by up to a second (watch.WildcardEvery); false when there is
// none yet (SERVFAIL, as before the first sync). The answer is full when
// more records match than it holds, or when the walk ran out of budget.
//
// room is what the reply has room for after its question: the answer
// gathers no more than fits, so that every path gathers alike.
func (h *Handler) wildcardAnswer(s *records.Snapshot, lname string, qtype uint16, room int) (a *records.Answer, exists, ok bool) {
	a = records.NewAnswer(maxAnswer, room)
	w := h.wildcards()
	if w == nil {
		return a, false, false
	}
	rest, below := strings.CutSuffix(lname, "."+w.Domain())
	if !below {
		return a, false, true
	}
	exists, complete := w.Match(strings.Split(rest, "."), qtype, wildcardBudget, func(name string, sets []records.RRSet) bool {
		for i := range sets {
			if (sets[i].Type == qtype || qtype == dns.TypeANY) && !a.Add(name, &sets[i]) {
				return false
			}
		}
		return true
	})
	if !complete {
		a.SetFull()
	}
	return a, exists, true
}

// negative is an NXDOMAIN or NODATA answer with the zone's SOA.
func negative(s *records.Snapshot, zone string, rcode int) result {
	r := result{rcode: rcode}
	if soa := s.SOA(zone); soa != nil {
		r.ns = []dns.RR{soa}
	}
	return r
}
