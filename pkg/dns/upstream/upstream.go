// Package upstream forwards what kubedns is not authoritative for: to the
// stub domain's servers when a name falls in one, else to the upstream
// nameservers, trying each in turn.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// DefaultTimeout bounds one exchange with one server.
const DefaultTimeout = 2 * time.Second

// Servers says where names go. Addresses are "ip:port" ("[v6]:port").
type Servers struct {
	// Upstreams answer every name outside the stub domains.
	Upstreams []string
	// Stubs maps a domain (any case, with or without the trailing dot) to its servers.
	Stubs map[string][]string
}

type stub struct {
	domain  string // lower-case FQDN
	servers []string
}

type table struct {
	upstreams []string
	stubs     []stub // longest domain first
}

// Resolver forwards queries. Its servers can be replaced at any time with
// Set; queries in flight keep the set they started with.
type Resolver struct {
	timeout time.Duration
	tab     atomic.Pointer[table]
}

// New returns a Resolver with the given per-server timeout (0: DefaultTimeout).
func New(s Servers, timeout time.Duration) *Resolver {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	r := &Resolver{timeout: timeout}
	r.Set(s)
	return r
}

// Set replaces the servers.
func (r *Resolver) Set(s Servers) {
	t := &table{upstreams: slices.Clone(s.Upstreams)}
	for d, servers := range s.Stubs {
		t.stubs = append(t.stubs, stub{domain: dns.Fqdn(strings.ToLower(d)), servers: slices.Clone(servers)})
	}
	slices.SortFunc(t.stubs, func(a, b stub) int {
		if c := len(b.domain) - len(a.domain); c != 0 {
			return c
		}
		return strings.Compare(a.domain, b.domain)
	})
	r.tab.Store(t)
}

// serversFor returns the servers for a name: its stub domain's, or the upstreams.
func (r *Resolver) serversFor(name string) []string {
	t := r.tab.Load()
	name = strings.ToLower(dns.Fqdn(name))
	for _, s := range t.stubs {
		if dns.IsSubDomain(s.domain, name) {
			return s.servers
		}
	}
	return t.upstreams
}

// ErrNoServers is returned when no server is configured for a name.
var ErrNoServers = errors.New("upstream: no nameservers configured")

// Forward sends req to the servers for its name, one after another, until one
// gives an answer that is not SERVFAIL or REFUSED. When none does, it returns
// the last failing reply, or an error when no server replied at all.
func (r *Resolver) Forward(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	if len(req.Question) == 0 {
		return nil, errors.New("upstream: query without a question")
	}
	servers := r.serversFor(req.Question[0].Name)
	if len(servers) == 0 {
		return nil, ErrNoServers
	}
	var (
		lastReply *dns.Msg
		errs      []error
	)
	for _, addr := range servers {
		reply, err := r.exchange(ctx, req, addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		if reply.Rcode == dns.RcodeServerFailure || reply.Rcode == dns.RcodeRefused {
			lastReply = reply
			continue
		}
		return reply, nil
	}
	if lastReply != nil {
		return lastReply, nil
	}
	return nil, fmt.Errorf("upstream: no server answered: %w", errors.Join(errs...))
}

// exchange asks one server over UDP, and again over TCP when the reply is truncated.
func (r *Resolver) exchange(ctx context.Context, req *dns.Msg, addr string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	c := &dns.Client{Net: "udp", UDPSize: dns.DefaultMsgSize}
	reply, _, err := c.ExchangeContext(ctx, req, addr)
	if err == nil && reply.Truncated {
		c.Net = "tcp"
		reply, _, err = c.ExchangeContext(ctx, req, addr)
	}
	if err == nil && reply.Id != req.Id {
		err = errors.New("reply id does not match")
	}
	return reply, err
}

// Lookup resolves an ExternalName target: the answer records for name and
// qtype, or nil when it does not resolve.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) []dns.RR {
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), qtype)
	q.SetEdns0(dns.DefaultMsgSize, false)
	reply, err := r.Forward(ctx, q)
	if err != nil || reply.Rcode != dns.RcodeSuccess {
		return nil
	}
	return reply.Answer
}
