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
		{`{"` + strings.Repeat("a", 64) + `.test": ["1.2.3.4"]}`, `["0.0.0.0"]`, "f=" + strings.Repeat("b", 63) + ".example"},
		{`{"a.test": ["::", "0.0.0.0:53", "[::ffff:0.0.0.0]:53"]}`, `["255.255.255.255", "224.0.0.1", "ff02::1"]`, ""},
		{`{"a.test": ["1.2.3.4"], "a.test": ["5.6.7.8"]}`, `["::ffff:1.2.3.4"]`, "f=a.b"},
		{`{"a.test": ["1.2.3.4"], "b.test": {"x": 1, "x": 2}}`, `[{"a": 1, "a": 2}]`, "root:x:0:0::/root:/bin/bash\n\x00"},
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
		if _, dup := duplicateKey(stubs); dup {
			t.Fatalf("stubDomains with a duplicate key accepted: %q", stubs)
		}
		if len(c.UpstreamNameservers) > MaxUpstreamNameservers {
			t.Fatalf("%d upstream nameservers accepted", len(c.UpstreamNameservers))
		}
		for _, u := range c.UpstreamNameservers {
			ap, err := netip.ParseAddrPort(u)
			if err != nil {
				t.Fatalf("upstream %q is not ip:port: %v", u, err)
			}
			if addrProblem(ap.Addr()) != "" || ap.Port() == 0 {
				t.Fatalf("upstream %q cannot be a server", u)
			}
		}
		for d, servers := range c.StubDomains {
			if d == "" || strings.HasSuffix(d, ".") || strings.ToLower(d) != d {
				t.Fatalf("stub domain %q is not a lower-case domain without the trailing dot", d)
			}
			checkName(t, d)
			for _, s := range servers {
				host, port, err := StubServer(s)
				if err != nil || port < 1 || port > 65535 {
					t.Fatalf("stub server %q of %q: %q, %d, %v", s, d, host, port, err)
				}
				if ip, err := netip.ParseAddr(host); err == nil {
					if addrProblem(ip) != "" {
						t.Fatalf("stub server %q cannot be a server", s)
					}
				} else {
					checkName(t, host)
				}
			}
		}
		for _, d := range c.Federations {
			checkName(t, d)
		}
		again, err := Parse(data)
		if err != nil || !sameEffect(c, again) {
			t.Fatalf("parsed again: %v, %+v (first %+v)", err, again, c)
		}
	})
}

// checkName fails unless name is a domain name the DNS and dnsmasq take:
// at most 253 octets, labels of 1 to 63.
func checkName(t *testing.T, name string) {
	t.Helper()
	if len(name) > 253 {
		t.Fatalf("name %q of %d octets accepted", name, len(name))
	}
	for _, l := range strings.Split(name, ".") {
		if len(l) < 1 || len(l) > 63 {
			t.Fatalf("name %q with a label of %d octets accepted", name, len(l))
		}
	}
}
