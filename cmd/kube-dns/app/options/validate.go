package options

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kubedns-go/kube-dns/pkg/cliflags"
)

// Validate checks the whole configuration and returns every problem found,
// joined, each naming its flag. It also normalizes ClusterDomain and fills
// in Nameservers from NameserversFlag.
func (c *KubeDNSConfig) Validate() error {
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--"+flag+": "+format, args...))
	}

	if d, err := normalizeDomain(c.ClusterDomain); err != nil {
		bad("domain", "%v", err)
	} else {
		c.ClusterDomain = d
	}
	if c.MulticlusterDomain != "" {
		switch d, err := normalizeDomain(c.MulticlusterDomain); {
		case err != nil:
			bad("multicluster-domain", "%v", err)
		case d == c.ClusterDomain || strings.HasSuffix(d, "."+c.ClusterDomain) || strings.HasSuffix(c.ClusterDomain, "."+d):
			bad("multicluster-domain", "%q overlaps the cluster domain %q", d, c.ClusterDomain)
		case d == "in-addr.arpa." || d == "ip6.arpa." || strings.HasSuffix(d, ".arpa."):
			bad("multicluster-domain", "%q is a reverse zone", d)
		default:
			c.MulticlusterDomain = d
		}
	}
	if c.KubeMasterURL != "" {
		if err := checkMasterURL(c.KubeMasterURL); err != nil {
			bad("kube-master-url", "%v", err)
		}
	}
	if net.ParseIP(c.DNSBindAddress) == nil {
		bad("dns-bind-address", "%q is not an IP address", c.DNSBindAddress)
	}
	if !cliflags.ValidPort(c.DNSPort) {
		bad("dns-port", "%d is not a port number (1-65535)", c.DNSPort)
	}
	if c.DNSUDPSockets < 0 || c.DNSUDPSockets > 256 {
		bad("dns-udp-sockets", "%d is not 0 (one per CPU) or a number of sockets up to 256", c.DNSUDPSockets)
	}
	if c.DNSTCPMaxConnections < 0 {
		bad("dns-tcp-max-connections", "%d is not 0 (no limit) or a number of connections", c.DNSTCPMaxConnections)
	}
	if !cliflags.ValidPort(c.HealthzPort) {
		bad("healthz-port", "%d is not a port number (1-65535)", c.HealthzPort)
	} else if c.HealthzPort == c.DNSPort {
		bad("healthz-port", "%d is also the --dns-port", c.HealthzPort)
	}

	c.Nameservers = nil
	if ns, err := parseNameservers(c.NameserversFlag); err != nil {
		bad("nameservers", "%v", err)
	} else {
		c.Nameservers = ns
	}
	names := make([]string, 0, len(c.Federations))
	for name := range c.Federations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := checkFederation(name, c.Federations[name]); err != nil {
			bad("federations", "%v", err)
		}
	}

	if c.ConfigMap != "" && c.ConfigDir != "" {
		bad("config-map", "cannot be used together with --config-dir")
	}
	if c.ConfigMap != "" {
		if msgs := validation.IsDNS1123Subdomain(c.ConfigMap); len(msgs) > 0 {
			bad("config-map", "%q is not a valid ConfigMap name: %s", c.ConfigMap, strings.Join(msgs, "; "))
		}
		if msgs := validation.IsDNS1123Label(c.ConfigMapNs); len(msgs) > 0 {
			bad("config-map-namespace", "%q is not a valid namespace: %s", c.ConfigMapNs, strings.Join(msgs, "; "))
		}
	}
	if c.ConfigPeriod <= 0 {
		bad("config-period", "must be positive, got %v", c.ConfigPeriod)
	}
	if c.InitialSyncTimeout <= 0 {
		bad("initial-sync-timeout", "must be positive, got %v", c.InitialSyncTimeout)
	}
	cliflags.CheckShared(c.PrintVersion, c.LogFlushFrequency, bad)

	if c.TTL > maxTTL {
		bad("ttl", "%d is above the maximum of %d", c.TTL, maxTTL)
	}
	if c.NegativeTTL < -1 || c.NegativeTTL > maxTTL {
		bad("negative-ttl", "%d is not -1 or between 0 and %d", c.NegativeTTL, maxTTL)
	}
	if !oneOf(c.EndpointsSource, endpointsSources) {
		bad("endpoints-source", "%q is not one of %s", c.EndpointsSource, strings.Join(endpointsSources, ", "))
	}
	if !oneOf(c.PodRecords, podRecordModes) {
		bad("pod-records", "%q is not one of %s", c.PodRecords, strings.Join(podRecordModes, ", "))
	}
	if err := checkNamespacedName(c.DNSService); err != nil {
		bad("dns-service", "%v", err)
	}
	if c.Lameduck < 0 {
		bad("lameduck", "must not be negative, got %v", c.Lameduck)
	}
	if c.LameduckMax < 0 {
		bad("lameduck-max", "must not be negative, got %v", c.LameduckMax)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown-timeout", "must be positive, got %v", c.ShutdownTimeout)
	}

	if c.MetricsPort < 0 || c.MetricsPort > 65535 {
		bad("PROMETHEUS_PORT", "%d is not a port number (0-65535)", c.MetricsPort)
	}
	return errors.Join(errs...)
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// normalizeDomain checks that every label of v is a DNS-1123 label and
// returns v lower-cased with a trailing dot.
func normalizeDomain(v string) (string, error) {
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	for _, label := range strings.Split(d, ".") {
		if msgs := validation.IsDNS1123Label(label); len(msgs) > 0 {
			return "", fmt.Errorf("%q: label %q is not a valid DNS label: %s", v, label, strings.Join(msgs, "; "))
		}
	}
	if len(d) > validation.DNS1123SubdomainMaxLength {
		return "", fmt.Errorf("%q is longer than %d characters", v, validation.DNS1123SubdomainMaxLength)
	}
	return d + ".", nil
}

func checkMasterURL(v string) error {
	u, err := url.Parse(v)
	if err != nil {
		return fmt.Errorf("cannot parse %q as a URL", v)
	}
	if u.Scheme == "" || u.Host == "" || u.Host == ":" {
		return fmt.Errorf("%q is not a URL with a scheme and a host", v)
	}
	return nil
}

// parseNameservers parses a comma-separated list of ip[:port] into
// "host:port" entries; "" gives none.
func parseNameservers(v string) ([]string, error) {
	if strings.TrimSpace(v) == "" {
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(v, ",") {
		hp, err := parseNameserver(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, hp)
	}
	return out, nil
}

func parseNameserver(s string) (string, error) {
	if ip := net.ParseIP(s); ip != nil {
		return net.JoinHostPort(ip.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("%q is not ip[:port]", s)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", fmt.Errorf("%q: %q is not an IP address", s, host)
	}
	p, err := strconv.Atoi(port)
	if err != nil || !cliflags.ValidPort(p) {
		return "", fmt.Errorf("%q: %q is not a port number (1-65535)", s, port)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(p)), nil
}

func checkFederation(name, domain string) error {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return fmt.Errorf("federation name %q is not a valid DNS label: %s", name, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Subdomain(domain); len(msgs) > 0 {
		return fmt.Errorf("federation %q: domain %q is not a valid DNS subdomain: %s", name, domain, strings.Join(msgs, "; "))
	}
	return nil
}

func checkNamespacedName(v string) error {
	ns, name, ok := strings.Cut(v, "/")
	if !ok {
		return fmt.Errorf("%q is not namespace/name", v)
	}
	if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
		return fmt.Errorf("%q: namespace %q is not a valid DNS label: %s", v, ns, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return fmt.Errorf("%q: name %q is not a valid DNS label: %s", v, name, strings.Join(msgs, "; "))
	}
	return nil
}
