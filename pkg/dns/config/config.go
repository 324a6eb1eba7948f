package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"k8s.io/klog/v2"
)

// The keys of the kube-dns ConfigMap.
const (
	KeyStubDomains         = "stubDomains"
	KeyUpstreamNameservers = "upstreamNameservers"
	KeyFederations         = "federations"
)

// knownKeys are parsed in this order, so errors come in a stable order.
var knownKeys = []string{KeyStubDomains, KeyUpstreamNameservers, KeyFederations}

// MaxUpstreamNameservers is how many upstreamNameservers may be given.
const MaxUpstreamNameservers = 3

// Config is the kube-dns ConfigMap's data, parsed and validated. A Config
// delivered by a Source is shared: treat it as read-only.
type Config struct {
	// StubDomains maps a domain (lower case, no trailing dot, e.g. "acme.local")
	// to its servers, each "host" or "host:port" as written (host an IP, [v6], or a DNS name).
	StubDomains map[string][]string
	// UpstreamNameservers: at most 3, each normalized to "ip:port" ("[v6]:port"), port 53 when omitted.
	UpstreamNameservers []string
	// Federations: deprecated name=domain pairs; validated, not served.
	Federations map[string]string
	// Version identifies the source data (sha256 of the files, or the ConfigMap's resourceVersion).
	Version string
}

// Default is the configuration without a ConfigMap: no stub domains, no
// upstream nameservers (so the node's resolv.conf is used), no federations.
func Default() *Config { return &Config{} }

// sameEffect reports whether a and b configure the same thing, whatever their
// Version. Nil and empty collections are equal.
func sameEffect(a, b *Config) bool {
	return maps.EqualFunc(a.StubDomains, b.StubDomains, slices.Equal[[]string]) &&
		slices.Equal(a.UpstreamNameservers, b.UpstreamNameservers) &&
		maps.Equal(a.Federations, b.Federations)
}

// KeyError is the rejection of one key of the ConfigMap.
type KeyError struct {
	Key string // the ConfigMap key, e.g. "stubDomains"
	Err error  // why its value was rejected
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Err.Error() }
func (e *KeyError) Unwrap() error { return e.Err }

// FailedKeys returns the keys named by every *KeyError in err, including
// those joined with errors.Join, in order and without repeats.
func FailedKeys(err error) []string {
	var keys []string
	var walk func(error)
	walk = func(err error) {
		var ke *KeyError
		switch e := err.(type) {
		case nil:
		case interface{ Unwrap() []error }:
			for _, inner := range e.Unwrap() {
				walk(inner)
			}
		default:
			if errors.As(err, &ke) && !slices.Contains(keys, ke.Key) {
				keys = append(keys, ke.Key)
			}
		}
	}
	walk(err)
	return keys
}

// federationsOnce makes the deprecation notice appear once per process.
var federationsOnce sync.Once

// Parse validates the data of the kube-dns ConfigMap. Missing keys (and keys
// whose value is only white space) keep their defaults; unknown keys are
// ignored. The error, if any, joins one *KeyError per rejected key. The
// returned Config has an empty Version: sources fill it in.
func Parse(data map[string]string) (*Config, error) { return parse(data, nil) }

// parse is Parse for data some keys of which could not be read:
// unreadable[key] says why. Such a known key is rejected; an unknown one is
// ignored like any other.
func parse(data map[string]string, unreadable map[string]error) (*Config, error) {
	c := Default()
	var errs []error
	for _, key := range knownKeys {
		if err := unreadable[key]; err != nil {
			errs = append(errs, &KeyError{Key: key, Err: err})
			continue
		}
		val, ok := data[key]
		if !ok || strings.TrimSpace(val) == "" {
			continue
		}
		var err error
		switch {
		case !utf8.ValidString(val):
			err = errors.New("value is not valid UTF-8")
		case key == KeyStubDomains:
			c.StubDomains, err = parseStubDomains(val)
		case key == KeyUpstreamNameservers:
			c.UpstreamNameservers, err = parseUpstreams(val)
		case key == KeyFederations:
			c.Federations, err = parseFederations(val)
		}
		if err != nil {
			errs = append(errs, &KeyError{Key: key, Err: err})
		}
	}
	unknown := slices.Sorted(maps.Keys(data))
	for k := range unreadable {
		if _, dup := data[k]; !dup {
			unknown = append(unknown, k)
		}
	}
	unknown = slices.DeleteFunc(unknown, func(k string) bool { return slices.Contains(knownKeys, k) })
	slices.Sort(unknown)
	for _, k := range unknown {
		klog.V(2).InfoS("Ignoring unknown key of the kube-dns configuration", "key", k)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(c.Federations) > 0 {
		federationsOnce.Do(func() {
			klog.InfoS("The federations key of the kube-dns configuration is deprecated: it is validated but federation queries are not served",
				"federations", c.Federations)
		})
	}
	return c, nil
}

// normalizeDomain lower-cases a domain and strips one trailing dot.
func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(d), ".")
}

func parseStubDomains(val string) (map[string][]string, error) {
	var raw map[string][]string
	if err := decodeJSON(val, &raw, "an object mapping each domain to a list of servers"); err != nil {
		return nil, err
	}
	var bad problems
	out := make(map[string][]string, len(raw))
	for _, d := range slices.Sorted(maps.Keys(raw)) {
		domain := normalizeDomain(d)
		if p := domainProblem(domain); p != "" {
			bad.add("domain %s: %s", excerpt(d), p)
			continue
		}
		if _, dup := out[domain]; dup {
			bad.add("domain %s: given more than once", excerpt(d))
			continue
		}
		servers := raw[d]
		if len(servers) == 0 {
			bad.add("domain %s: empty server list", excerpt(d))
			continue
		}
		for _, s := range servers {
			if _, _, err := StubServer(s); err != nil {
				bad.add("domain %s: %v", excerpt(d), err)
			}
		}
		out[domain] = slices.Clone(servers)
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseUpstreams(val string) ([]string, error) {
	var raw []string
	if err := decodeJSON(val, &raw, "an array of nameserver addresses"); err != nil {
		return nil, err
	}
	if len(raw) > MaxUpstreamNameservers {
		return nil, fmt.Errorf("%d servers, at most %d", len(raw), MaxUpstreamNameservers)
	}
	var bad problems
	var out []string
	for _, s := range raw {
		addr, err := upstreamAddr(s)
		if err != nil {
			bad.add("%v", err)
			continue
		}
		out = append(out, addr)
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// parseFederations reads "name=domain,name2=domain2". White space around
// entries, names and domains is ignored, and so are empty entries.
func parseFederations(val string) (map[string]string, error) {
	var bad problems
	out := map[string]string{}
	for _, entry := range strings.Split(val, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		n, d, ok := strings.Cut(entry, "=")
		if !ok {
			bad.add("%s: want name=domain", excerpt(entry))
			continue
		}
		name, domain := strings.ToLower(strings.TrimSpace(n)), normalizeDomain(strings.TrimSpace(d))
		if p := labelProblem(name); p != "" {
			bad.add("%s: name: %s", excerpt(entry), p)
			continue
		}
		if p := domainProblem(domain); p != "" {
			bad.add("%s: domain: %s", excerpt(entry), p)
			continue
		}
		if _, dup := out[name]; dup {
			bad.add("%s: name given more than once", excerpt(entry))
			continue
		}
		out[name] = domain
	}
	if err := bad.err(); err != nil {
		return nil, err
	}
	return out, nil
}
