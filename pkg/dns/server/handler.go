package server

import (
	"context"
	"sync"
	"time"

	"github.com/miekg/dns"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/pkg/dns/dnsname"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
)

// Upstream resolves what kubedns is not authoritative for. The ConfigMap's
// upstreamNameservers (or --nameservers, or /etc/resolv.conf) stand behind it.
type Upstream interface {
	// Forward sends a query upstream and returns the reply to relay.
	Forward(ctx context.Context, req *dns.Msg) (*dns.Msg, error)
	// Lookup resolves an ExternalName target; nil when it does not resolve.
	Lookup(ctx context.Context, name string, qtype uint16) []dns.RR
}

// Options configure a Handler.
type Options struct {
	// Domain is the cluster domain, a lower-case FQDN.
	Domain string
	// Multicluster is the multicluster zone (records.Config.Multicluster),
	// a lower-case FQDN, or "" when it is not served.
	Multicluster string
	// Snapshot returns the records to serve, or nil before the first full sync.
	Snapshot func() *records.Snapshot
	// Upstream, when set, answers names outside the cluster domain and PTR
	// queries for unknown addresses. Without it those get REFUSED and NXDOMAIN.
	Upstream Upstream
	// Metrics, when set, counts every request.
	Metrics *Metrics
	// Wildcards, when set, returns the view wildcard queries ("*" labels)
	// read, or nil while there is none yet. Without it "*" is a label like
	// any other (--wildcards=false).
	Wildcards func() *records.Wildcards
}

// Handler is the kubedns dns.Handler.
type Handler struct {
	snapshot  func() *records.Snapshot
	wildcards func() *records.Wildcards
	upstream  Upstream
	metrics   *Metrics
	zones     records.Config // only the zones are used: which zone a name is in
}

// NewHandler returns a Handler serving the snapshots opts.Snapshot returns.
func NewHandler(opts Options) *Handler {
	return &Handler{
		snapshot:  opts.Snapshot,
		wildcards: opts.Wildcards,
		upstream:  opts.Upstream,
		metrics:   opts.Metrics,
		zones:     records.Config{Domain: opts.Domain, Multicluster: opts.Multicluster},
	}
}

// maxUDPSize caps the EDNS buffer size we answer with.
const maxUDPSize = 4096

// minAnswerLen is the size of the smallest answer record: a pointer to the
// question, type, class, TTL and a length, with no data.
const minAnswerLen = 12

var (
	bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}
	tcpPool = sync.Pool{New: func() any { b := make([]byte, 0, dns.MaxMsgSize); return &b }}
)

// ServeDNS implements dns.Handler.
func (h *Handler) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	start := time.Now()
	udp := isUDP(w)
	if !udp && h.serveFast(w, req, start) {
		return
	}
	h.serveGeneral(w, req, udp, start)
}

// serveGeneral answers any query through miekg/dns: the records decoded,
// the reply packed.
func (h *Handler) serveGeneral(w dns.ResponseWriter, req *dns.Msg, udp bool, start time.Time) {
	m := new(dns.Msg)
	sys := systemAuth
	defer func() {
		if rec := recover(); rec != nil {
			h.metrics.panic()
			klog.ErrorS(nil, "Recovered from panic while serving a query", "panic", rec)
			m = new(dns.Msg)
			m.SetRcode(req, dns.RcodeServerFailure)
			if err := w.WriteMsg(m); err != nil {
				h.metrics.writeFailed(udp, err)
			}
		}
	}()

	m.SetReply(req)
	qtype := uint16(0)
	opt := req.IsEdns0()
	switch {
	case req.Opcode != dns.OpcodeQuery:
		m.Rcode = dns.RcodeNotImplemented
	case len(req.Question) != 1:
		m.Rcode = dns.RcodeFormatError
	case opt != nil && opt.Version() != 0:
		m.Rcode = dns.RcodeBadVers
	default:
		q := req.Question[0]
		qtype = q.Qtype
		sys = h.answer(w, req, m, q)
	}
	size := dns.MinMsgSize
	if opt != nil {
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
		m.SetEdns0(uint16(min(size, maxUDPSize)), false)
	}
	// Every reply fits: a UDP reply the client's buffer, a TCP reply a TCP
	// message (64 KiB); what does not is cut, with TC set. And every reply
	// is compressed, as the fast path's are.
	if udp {
		m.Truncate(min(size, maxUDPSize))
	} else {
		m.Truncate(dns.MaxMsgSize)
	}
	m.Compress = true
	bp := bufPool.Get().(*[]byte)
	out, err := m.PackBuffer((*bp)[:cap(*bp)])
	if err != nil {
		m = m.SetRcode(req, dns.RcodeServerFailure)
		out, _ = m.PackBuffer((*bp)[:cap(*bp)])
	}
	if _, err := w.Write(out); err != nil {
		h.metrics.writeFailed(udp, err)
	}
	if cap(out) <= dns.MaxMsgSize {
		*bp = out[:0]
	}
	bufPool.Put(bp)
	h.metrics.observe(sys, qtype, m.Rcode, m.Truncated, len(out), time.Since(start))
}

// serveFast answers a TCP query on the fast path, as the UDP read loop
// answers datagrams, and reports whether it did. The request is packed
// again for it: miekg/dns's TCP server hands over messages, not bytes.
func (h *Handler) serveFast(w dns.ResponseWriter, req *dns.Msg, start time.Time) bool {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	raw, err := req.PackBuffer((*bp)[:cap(*bp)])
	if err != nil {
		return false
	}
	op := tcpPool.Get().(*[]byte)
	defer tcpPool.Put(op)
	out, ok := h.fastReply(raw, (*op)[:0], true, start)
	if !ok {
		return false
	}
	if _, err := w.Write(out); err != nil {
		h.metrics.writeFailed(false, err)
	}
	return true
}

// answer fills m for one question; it returns the system label for metrics.
func (h *Handler) answer(w dns.ResponseWriter, req, m *dns.Msg, q dns.Question) system {
	if q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY {
		m.Rcode = dns.RcodeRefused
		return systemAuth
	}
	lname := dnsname.Lower(q.Name)
	zone := h.zones.Zone(lname)
	if zone == "" {
		return h.forward(w, req, m)
	}
	sys := systemAuth
	if records.IsReverse(zone) {
		sys = systemReverse
	}
	if q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR {
		m.Rcode = dns.RcodeRefused
		return sys
	}
	s := h.snapshot()
	if s == nil {
		// Not synced yet: no answer from a partial view.
		m.Rcode = dns.RcodeServerFailure
		return sys
	}
	ctx := context.Background()
	r := h.resolve(ctx, s, zone, q.Name, lname, q.Qtype, room(req, isUDP(w)))
	if r.rcode == dns.RcodeNameError && records.IsReverse(zone) && h.upstream != nil {
		// An address kubedns does not know: ask upstream, as the original did.
		return h.forward(w, req, m)
	}
	m.Authoritative = true
	m.RecursionAvailable = h.upstream != nil
	m.Rcode = r.rcode
	m.Truncated = r.truncated
	m.Answer, m.Ns, m.Extra = r.ans, r.ns, r.extra
	return sys
}

// room returns how many bytes of records the reply to req can carry: the
// client's UDP buffer (512 bytes without EDNS, maxUDPSize at most) or a
// TCP message, less the header, the question and the OPT record.
func room(req *dns.Msg, udp bool) int {
	size := dns.MaxMsgSize
	opt := req.IsEdns0()
	if udp {
		size = dns.MinMsgSize
		if opt != nil {
			size = max(size, min(int(opt.UDPSize()), maxUDPSize))
		}
	}
	size -= headerLen
	for _, q := range req.Question {
		size -= len(q.Name) + 1 + 4
	}
	if opt != nil {
		size -= 11
	}
	return size
}

func isUDP(w dns.ResponseWriter) bool {
	a := w.LocalAddr()
	return a != nil && (a.Network() == "udp" || a.Network() == "udp4" || a.Network() == "udp6")
}
