package config

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary values of the ConfigMap's keys to Parse: it
// never panics; a rejection names only keys it was given; an accepted
// configuration holds only what the keys allow, and parses the same again.
func FuzzParse(f *testing.F) {
	for _, seed := range [][3]string{
		{`{"acme.local": ["10.150.0.1", "10.150.0.2:5353", "dns.corp.example"]}`, `["8.8.8.8", "[2001:4860:4860::8888]:53"]`, "foo=bar.example"},
		{`{"consul.local": ["consul-dns.consul.svc.cluster.local:8600"]}`, `["1.1.1.1"]`, ""},
		{`{"a.b": []}`, `[]`, "a=b,c=d"},
		{`{"Bad_Domain": ["1.2.3.4"]}`, `["1.2.3.4", "1.2.3.5", "1.2.3.6", "1.2.3.7"]`, "=x"},
		{`{"x.local": ["1.2.3.4:99999"]}`, `["not-an-ip"]`, "a"},
		{`not json`, `{"an": "object"}`, "\xff"},
		{`{"x.local": ["[::1]:53", "::1"]}`, `["[fe80::1%eth0]:53"]`, ""},
	} {
		f.Add(seed[0], seed[1], seed[2])
	}
	f.Fuzz(func(t *testing.T, stubs, upstreams, federations string) {
		data := map[string]string{KeyStubDomains: stubs, KeyUpstreamNameservers: upstreams, KeyFederations: federations}
		c, err := Parse(data)
		if err != nil {
			keys := FailedKeys(err)
			if len(keys) == 0 {
				t.Fatalf("an error naming no key: %v", err)
			}
			for _, k := range keys {
				if !slices.Contains(knownKeys, k) {
					t.Fatalf("an error naming %q: %v", k, err)
				}
			}
			return
		}
		if len(c.UpstreamNameservers) > MaxUpstreamNameservers {
			t.Fatalf("%d upstream nameservers accepted", len(c.UpstreamNameservers))
		}
		for _, u := range c.UpstreamNameservers {
			if _, err := netip.ParseAddrPort(u); err != nil {
				t.Fatalf("upstream %q is not ip:port: %v", u, err)
			}
		}
		for d, servers := range c.StubDomains {
			if d == "" || strings.HasSuffix(d, ".") || strings.ToLower(d) != d {
				t.Fatalf("stub domain %q is not a lower-case domain without the trailing dot", d)
			}
			for _, s := range servers {
				if s == "" {
					t.Fatalf("an empty server for %q", d)
				}
			}
		}
		again, err := Parse(data)
		if err != nil || !sameEffect(c, again) {
			t.Fatalf("parsed again: %v, %+v (first %+v)", err, again, c)
		}
	})
}
