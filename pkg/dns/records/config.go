package records

import (
	"strings"

	"github.com/miekg/dns"
)

// Config holds what record generation needs besides the objects themselves.
type Config struct {
	// Domain is the cluster domain as a lower-case FQDN, e.g. "cluster.local.".
	Domain string
	// TTL is the TTL of every record served.
	TTL uint32
	// NegativeTTL, when set, is the TTL and the minimum of the zones' SOA
	// records, which resolvers and caches (dnsmasq) keep a negative answer
	// for (RFC 2308); nil means TTL.
	NegativeTTL *uint32
	// Pods selects how pod names are answered.
	Pods PodMode
	// DNSService is "namespace/name" of the Service whose cluster IPs answer
	// ns.dns.<domain> (the apex NS target).
	DNSService string
	// Multicluster, when set, is the multicluster zone of the Multi-Cluster
	// Services API (KEP-1645) as a lower-case FQDN, "clusterset.local.":
	// ServiceImports are served there. Empty serves no such zone.
	Multicluster string
}

// SchemaVersion is the Kubernetes DNS schema version served at dns-version.<domain>.
const SchemaVersion = "1.1.0"

// MulticlusterSchemaVersion is the version of KEP-1645's DNS-Based
// Multicluster Service Discovery specification served at
// dns-version.<multicluster zone>.
const MulticlusterSchemaVersion = "1.0.0"

func (c *Config) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: c.TTL}
}

// svcName returns <svc>.<ns>.svc.<domain>.
func (c *Config) svcName(ns, name string) string {
	return strings.ToLower(name + "." + ns + ".svc." + c.Domain)
}

// negativeTTL returns the SOA TTL and minimum.
func (c *Config) negativeTTL() uint32 {
	if c.NegativeTTL != nil {
		return *c.NegativeTTL
	}
	return c.TTL
}

// NSName is the apex NS target, ns.dns.<domain>.
func (c *Config) NSName() string { return "ns.dns." + c.Domain }

// Hostmaster is the SOA rname, hostmaster.<domain>.
func (c *Config) Hostmaster() string { return "hostmaster." + c.Domain }
