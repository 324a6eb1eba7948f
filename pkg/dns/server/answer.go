package server

import (
	"context"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// maxChase bounds how many CNAMEs inside the cluster domain one answer follows.
const maxChase = 8

// result is an answer before it is put into a message.
type result struct {
	rcode int
	ans   []dns.RR
	ns    []dns.RR
	extra []dns.RR
}

// resolve answers a query for a name inside one of the snapshot's zones.
// qname is the name as asked, lname the same in lower case.
func (h *Handler) resolve(ctx context.Context, s *records.Snapshot, zone, qname, lname string, qtype uint16) result {
	if zone == s.Config().Domain && hasWildcard(lname) {
		return h.wildcard(s, zone, qname, lname, qtype)
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
			rrs, extra := set.Records(qname)
			r.ans = append(r.ans, rrs...)
			r.extra = append(r.extra, extra...)
		}
	case set != nil:
		r.ans, r.extra = set.Records(qname)
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
	nsName := parent(lname)
	if parent(nsName) != "pod."+c.Domain || s.Lookup(nsName) == nil {
		return nil
	}
	ip, ok := records.ParseDashedIP(firstLabel(lname))
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

// wildcard answers names with "*" labels below svc.<domain>, as the original
// kube-dns did: "*" stands for any namespace, any Service, or any endpoint of
// a headless Service (for a Service without endpoint names, the Service itself).
func (h *Handler) wildcard(s *records.Snapshot, zone, qname, lname string, qtype uint16) result {
	base := "svc." + zone
	if !strings.HasSuffix(lname, "."+base) {
		return negative(s, zone, dns.RcodeNameError)
	}
	labels := strings.Split(strings.TrimSuffix(lname, "."+base), ".")
	nodes := []*records.Node{s.Lookup(base)}
	for i := len(labels) - 1; i >= 0 && len(nodes) > 0; i-- {
		var next []*records.Node
		for _, n := range nodes {
			if labels[i] != "*" {
				if c := s.Lookup(labels[i] + "." + n.Name()); c != nil {
					next = append(next, c)
				}
				continue
			}
			found := false
			for _, child := range s.Children(n) {
				if strings.HasPrefix(child, "_") {
					continue
				}
				next = append(next, s.Lookup(child+"."+n.Name()))
				found = true
			}
			if !found && i == 0 && len(n.Sets()) > 0 {
				next = append(next, n)
			}
		}
		nodes = next
	}
	if len(nodes) == 0 {
		return negative(s, zone, dns.RcodeNameError)
	}
	r := result{rcode: dns.RcodeSuccess}
	seen := map[string]bool{}
	for _, n := range nodes {
		for _, set := range n.Sets() {
			if set.Type != qtype && (qtype != dns.TypeANY || set.Type == dns.TypeSOA || set.Type == dns.TypeNS) {
				continue
			}
			rrs, extra := set.Records(n.Name()) // its names point into the node's name
			for _, rr := range rrs {
				rr.Header().Name = qname
				if key := rr.String(); !seen[key] {
					seen[key] = true
					r.ans = append(r.ans, rr)
				}
			}
			r.extra = append(r.extra, extra...)
		}
	}
	if len(r.ans) == 0 {
		return negative(s, zone, dns.RcodeSuccess)
	}
	return r
}

// negative is an NXDOMAIN or NODATA answer with the zone's SOA.
func negative(s *records.Snapshot, zone string, rcode int) result {
	r := result{rcode: rcode}
	if soa := s.SOA(zone); soa != nil {
		r.ns = []dns.RR{soa}
	}
	return r
}
