package server

import (
	"context"
	"time"

	"github.com/miekg/dns"
)

// forwardTimeout bounds one upstream exchange, all servers included.
const forwardTimeout = 5 * time.Second

// forward relays a query kubedns is not authoritative for to the upstream
// resolver. Without one, kubedns refuses, as an authoritative-only server does.
func (h *Handler) forward(_ dns.ResponseWriter, req, m *dns.Msg) system {
	if h.upstream == nil {
		m.Rcode = dns.RcodeRefused
		return systemRecursive
	}
	ctx, cancel := context.WithTimeout(context.Background(), forwardTimeout)
	defer cancel()
	reply, err := h.upstream.Forward(ctx, req)
	if err != nil || reply == nil {
		m.Rcode = dns.RcodeServerFailure
		m.RecursionAvailable = true
		return systemRecursive
	}
	m.Rcode = reply.Rcode
	m.Authoritative = false
	m.RecursionAvailable = reply.RecursionAvailable
	m.AuthenticatedData = reply.AuthenticatedData
	m.Answer, m.Ns = reply.Answer, reply.Ns
	for _, rr := range reply.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			m.Extra = append(m.Extra, rr)
		}
	}
	return systemRecursive
}
