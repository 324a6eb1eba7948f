package config

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// label returns a DNS label of n octets.
func label(n int) string { return strings.Repeat("a", n) }

// name returns a domain name of exactly n octets (no trailing dot), made of
// labels of at most 63.
func name(n int) string {
	var labels []string
	for n > 0 {
		l := min(n, maxLabel)
		if n-l == 1 { // a last label of 0 octets would follow the dot
			l--
		}
		labels = append(labels, label(l))
		n -= l + 1
	}
	return strings.Join(labels, ".")
}

func TestName(t *testing.T) {
	for _, n := range []int{1, 63, 64, 65, 127, 253, 254} {
		got := name(n)
		if len(got) != n || domainProblem(got) != "" && n <= 253 {
			t.Errorf("name(%d) = %q (%d octets): %s", n, got, len(got), domainProblem(got))
		}
	}
}

// TestParseRejectsUnusable covers what DNS-1123 and IP syntax let through
// but the DNS or dnsmasq cannot use, and ambiguous JSON.
func TestParseRejectsUnusable(t *testing.T) {
	stub := func(domain string, servers ...string) map[string]string {
		return map[string]string{KeyStubDomains: fmt.Sprintf(`{%q: [%s]}`, domain, quoteAll(servers))}
	}
	up := func(servers ...string) map[string]string {
		return map[string]string{KeyUpstreamNameservers: "[" + quoteAll(servers) + "]"}
	}
	fed := func(v string) map[string]string { return map[string]string{KeyFederations: v} }
	tests := []struct {
		name     string
		data     map[string]string
		key      string
		contains string
	}{
		{"64-octet label", stub(label(64)+".test", "1.2.3.4"), KeyStubDomains, "label 1 is 64 octets long, at most 63"},
		{"64-octet label not first", stub("x."+label(64), "1.2.3.4"), KeyStubDomains, "label 2 is 64 octets long"},
		{"64-octet label with trailing dot", stub(label(64)+".", "1.2.3.4"), KeyStubDomains, "64 octets"},
		{"254-octet name", stub(name(254), "1.2.3.4"), KeyStubDomains, "253"},
		{"254-octet name with trailing dot", stub(name(254)+".", "1.2.3.4"), KeyStubDomains, "253"},
		{"stub server name with a 64-octet label", stub("a.test", label(64)+".corp:53"), KeyStubDomains, "64 octets"},
		{"stub server 0.0.0.0", stub("a.test", "0.0.0.0"), KeyStubDomains, "unspecified"},
		{"stub server 0.0.0.0 with port", stub("a.test", "0.0.0.0:5353"), KeyStubDomains, "unspecified"},
		{"stub server ::", stub("a.test", "::"), KeyStubDomains, "unspecified"},
		{"stub server [::]:53", stub("a.test", "[::]:53"), KeyStubDomains, "unspecified"},
		{"stub server ::ffff:0.0.0.0", stub("a.test", "::ffff:0.0.0.0"), KeyStubDomains, "unspecified"},
		{"stub server 255.255.255.255", stub("a.test", "255.255.255.255"), KeyStubDomains, "broadcast"},
		{"stub server ::ffff:255.255.255.255", stub("a.test", "[::ffff:255.255.255.255]:53"), KeyStubDomains, "broadcast"},
		{"stub server 224.0.0.1", stub("a.test", "224.0.0.1"), KeyStubDomains, "multicast"},
		{"stub server 239.255.255.250", stub("a.test", "239.255.255.250:53"), KeyStubDomains, "multicast"},
		{"stub server ::ffff:224.0.0.251", stub("a.test", "::ffff:224.0.0.251"), KeyStubDomains, "multicast"},
		{"stub server ff02::fb", stub("a.test", "ff02::fb"), KeyStubDomains, "multicast"},
		{"stub server port 0", stub("a.test", "1.2.3.4:0"), KeyStubDomains, `port "0"`},
		{"stub server name port 0", stub("a.test", "dns.corp:0"), KeyStubDomains, `port "0"`},
		{"upstream 0.0.0.0", up("0.0.0.0"), KeyUpstreamNameservers, "unspecified"},
		{"upstream [::]:53", up("[::]:53"), KeyUpstreamNameservers, "unspecified"},
		{"upstream ::ffff:0.0.0.0", up("::ffff:0.0.0.0"), KeyUpstreamNameservers, "unspecified"},
		{"upstream 255.255.255.255:53", up("255.255.255.255:53"), KeyUpstreamNameservers, "broadcast"},
		{"upstream ff05::1:3", up("ff05::1:3"), KeyUpstreamNameservers, "multicast"},
		{"upstream port 0", up("[2001:db8::1]:0"), KeyUpstreamNameservers, `port "0"`},
		{"federation domain with a 64-octet label", fed("f=" + label(64) + ".example"), KeyFederations, "64 octets"},
		{"federation domain of 254 octets", fed("f=" + name(254)), KeyFederations, "253"},
		{
			name:     "exact duplicate domain",
			data:     map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4"], "acme.local": ["5.6.7.8"]}`},
			key:      KeyStubDomains,
			contains: `JSON key "acme.local" given more than once: ambiguous`,
		},
		{
			name:     "duplicate domain, one escaped",
			data:     map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4"], "acme\u002elocal": ["1.2.3.4"]}`},
			key:      KeyStubDomains,
			contains: "more than once",
		},
		{
			name:     "duplicate domain, identical values",
			data:     map[string]string{KeyStubDomains: `{"a.b": ["1.2.3.4"], "c.d": ["1.2.3.4"], "a.b": ["1.2.3.4"]}`},
			key:      KeyStubDomains,
			contains: `"a.b" given more than once`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", c)
			}
			if got := FailedKeys(err); !reflect.DeepEqual(got, []string{tt.key}) {
				t.Errorf("FailedKeys = %q, want [%q] (error %q)", got, tt.key, err)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), label(41)) {
				t.Errorf("error %q quotes more than %d bytes of the value", err, maxExcerpt)
			}
		})
	}
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func TestDuplicateKey(t *testing.T) {
	tests := []struct {
		in   string
		key  string // "": none
		want bool
	}{
		{in: `{}`},
		{in: `[]`},
		{in: `"a"`},
		{in: `{"a": 1, "b": 2}`},
		{in: `{"a": {"a": 1}, "b": {"a": 2}}`},         // the same key in different objects
		{in: `[{"a": 1}, {"a": 2}]`},                   // and in objects in an array
		{in: `{"a": ["a", "a"], "b": "a"}`},            // strings that are values, not keys
		{in: `{"a": [], "A": []}`},                     // keys differ in case: for the caller
		{in: `{"a": 1, "a": 2}`, key: "a", want: true}, // the simplest
		{in: `{"x": {"y": [{"z": 1, "z": 2}]}}`, key: "z", want: true},
		{in: `{"a": {"b": 1}, "c": [1, {"d": 2}], "a": 3}`, key: "a", want: true},
		{in: `{"\u0061": 1, "a": 2}`, key: "a", want: true},
		{in: `{"": 1, "": 2}`, key: "", want: true},
	}
	for _, tt := range tests {
		key, dup := duplicateKey(tt.in)
		if key != tt.key || dup != tt.want {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", tt.in, key, dup, tt.key, tt.want)
		}
	}
}

func TestExcerpt(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "", want: `""`},
		{in: "acme.local", want: `"acme.local"`},
		{in: label(40), want: `"` + label(40) + `"`},
		{in: label(41), want: `"` + label(40) + `"...`},
		{in: "root:$y$j9T$secret\x00\n\x1b[31m" + label(40), want: `"root:$y$j9T$secret\x00\n\x1b[31maaaaaaaaaaaaaaa"...`}, // 25 bytes, then 15 a
		{in: label(39) + "é" + label(10), want: `"` + label(39) + `"...`},                                                  // not cut inside é
		{in: "\u202etxt.exe", want: `"\u202etxt.exe"`},                                                                     // a bidi override is escaped
	}
	for _, tt := range tests {
		if got := excerpt(tt.in); got != tt.want {
			t.Errorf("excerpt(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestProblemsCapped(t *testing.T) {
	var entries []string
	for i := range 100 {
		entries = append(entries, fmt.Sprintf("secret%03d", i))
	}
	_, err := Parse(map[string]string{KeyFederations: strings.Join(entries, ",")})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	if !strings.HasSuffix(msg, `"secret000": want name=domain (and 99 more problems)`) || strings.Contains(msg, "secret001") {
		t.Errorf("error %q: want the first %d problems and a count of the rest", msg, maxProblems)
	}
}
