package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"
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
func Parse(data map[string]string) (*Config, error) {
	c := Default()
	var errs []error
	for _, key := range knownKeys {
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
	unknown = slices.DeleteFunc(unknown, func(k string) bool { return slices.Contains(knownKeys, k) })
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

// jsonError words a decoding error of a key that must hold JSON of type want.
func jsonError(err error, want string) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		at := fmt.Sprintf(" at byte %d", te.Offset)
		if te.Field != "" {
			at = " at " + te.Field
		}
		return fmt.Errorf("want %s, found a JSON %s%s", want, te.Value, at)
	}
	return fmt.Errorf("invalid JSON (want %s): %w", want, err)
}

// normalizeDomain lower-cases a domain and strips one trailing dot.
func normalizeDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(d), ".")
}

// dnsProblems returns why name is not valid per check, or "".
func dnsProblems(check func(string) []string, name string) string {
	if name == "" {
		return "empty name"
	}
	return strings.Join(check(name), "; ")
}

func parseStubDomains(val string) (map[string][]string, error) {
	var raw map[string][]string
	if err := json.Unmarshal([]byte(val), &raw); err != nil {
		return nil, jsonError(err, "an object mapping each domain to a list of servers")
	}
	var problems []string
	out := make(map[string][]string, len(raw))
	for _, d := range slices.Sorted(maps.Keys(raw)) {
		domain := normalizeDomain(d)
		if p := dnsProblems(validation.IsDNS1123Subdomain, domain); p != "" {
			problems = append(problems, fmt.Sprintf("domain %q: %s", d, p))
			continue
		}
		if _, dup := out[domain]; dup {
			problems = append(problems, fmt.Sprintf("domain %q: given more than once", d))
			continue
		}
		servers := raw[d]
		if len(servers) == 0 {
			problems = append(problems, fmt.Sprintf("domain %q: empty server list", d))
			continue
		}
		for _, s := range servers {
			if _, _, err := StubServer(s); err != nil {
				problems = append(problems, fmt.Sprintf("domain %q: %v", d, err))
			}
		}
		out[domain] = slices.Clone(servers)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

func parseUpstreams(val string) ([]string, error) {
	var raw []string
	if err := json.Unmarshal([]byte(val), &raw); err != nil {
		return nil, jsonError(err, "an array of nameserver addresses")
	}
	if len(raw) > MaxUpstreamNameservers {
		return nil, fmt.Errorf("%d servers, at most %d", len(raw), MaxUpstreamNameservers)
	}
	var problems []string
	var out []string
	for _, s := range raw {
		addr, err := upstreamAddr(s)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		out = append(out, addr)
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}

// parseFederations reads "name=domain,name2=domain2". White space around
// entries, names and domains is ignored, and so are empty entries.
func parseFederations(val string) (map[string]string, error) {
	var problems []string
	out := map[string]string{}
	for _, entry := range strings.Split(val, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		n, d, ok := strings.Cut(entry, "=")
		if !ok {
			problems = append(problems, fmt.Sprintf("%q: want name=domain", entry))
			continue
		}
		name, domain := strings.ToLower(strings.TrimSpace(n)), normalizeDomain(strings.TrimSpace(d))
		if p := dnsProblems(validation.IsDNS1123Label, name); p != "" {
			problems = append(problems, fmt.Sprintf("%q: name: %s", entry, p))
			continue
		}
		if p := dnsProblems(validation.IsDNS1123Subdomain, domain); p != "" {
			problems = append(problems, fmt.Sprintf("%q: domain: %s", entry, p))
			continue
		}
		if _, dup := out[name]; dup {
			problems = append(problems, fmt.Sprintf("%q: name given more than once", entry))
			continue
		}
		out[name] = domain
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	return out, nil
}
