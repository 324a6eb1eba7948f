package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		data map[string]string
		want *Config
	}{
		{name: "nil data", data: nil, want: Default()},
		{name: "empty data", data: map[string]string{}, want: Default()},
		{name: "empty values", data: map[string]string{KeyStubDomains: "", KeyUpstreamNameservers: " \n", KeyFederations: ""}, want: Default()},
		{name: "unknown keys ignored", data: map[string]string{"foo": "\xff", "stubdomains": "garbage"}, want: Default()},
		{name: "empty JSON", data: map[string]string{KeyStubDomains: "{}", KeyUpstreamNameservers: "[]"},
			want: &Config{StubDomains: map[string][]string{}}},
		{name: "JSON null", data: map[string]string{KeyStubDomains: "null", KeyUpstreamNameservers: "null"}, want: Default()},
		{
			name: "stub servers of every form",
			data: map[string]string{KeyStubDomains: `{"acme.local": ["1.2.3.4", "1.2.3.5:5353", "dns.my.corp", "foo.ns.svc.cluster.local:53",
				"::1", "2001:db8::1", "[2001:db8::2]", "[2001:db8::3]:5353", "DNS.Upper.corp", "ns1:1", "ns2:65535"]}`},
			want: &Config{StubDomains: map[string][]string{"acme.local": {"1.2.3.4", "1.2.3.5:5353", "dns.my.corp", "foo.ns.svc.cluster.local:53",
				"::1", "2001:db8::1", "[2001:db8::2]", "[2001:db8::3]:5353", "DNS.Upper.corp", "ns1:1", "ns2:65535"}}},
		},
		{
			name: "domains normalized",
			data: map[string]string{KeyStubDomains: `{"Acme.LOCAL.": ["1.2.3.4"], "corp": ["10.0.0.1"], "a.b.c.": ["10.0.0.2"]}`},
			want: &Config{StubDomains: map[string][]string{"acme.local": {"1.2.3.4"}, "corp": {"10.0.0.1"}, "a.b.c": {"10.0.0.2"}}},
		},
		{
			name: "upstreams normalized",
			data: map[string]string{KeyUpstreamNameservers: `["8.8.8.8", "8.8.4.4:5353", "2001:db8::1"]`},
			want: &Config{UpstreamNameservers: []string{"8.8.8.8:53", "8.8.4.4:5353", "[2001:db8::1]:53"}},
		},
		{
			name: "bracketed v6 upstreams",
			data: map[string]string{KeyUpstreamNameservers: `["[2001:DB8::1]", "[::1]:1053"]`},
			want: &Config{UpstreamNameservers: []string{"[2001:db8::1]:53", "[::1]:1053"}},
		},
		{
			name: "federations",
			data: map[string]string{KeyFederations: " myfed=example.com , other=Fed.Example.org.,"},
			want: &Config{Federations: map[string]string{"myfed": "example.com", "other": "fed.example.org"}},
		},
		{
			name: "all keys",
			data: map[string]string{
				KeyStubDomains:         `{"acme.local": ["1.2.3.4"]}`,
				KeyUpstreamNameservers: `["8.8.8.8"]`,
				KeyFederations:         "f=example.com",
			},
			want: &Config{
				StubDomains:         map[string][]string{"acme.local": {"1.2.3.4"}},
				UpstreamNameservers: []string{"8.8.8.8:53"},
				Federations:         map[string]string{"f": "example.com"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameEffect(got, tt.want) || got.Version != "" {
				t.Errorf("Parse = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	stub := func(v string) map[string]string { return map[string]string{KeyStubDomains: v} }
	up := func(v string) map[string]string { return map[string]string{KeyUpstreamNameservers: v} }
	fed := func(v string) map[string]string { return map[string]string{KeyFederations: v} }
	tests := []struct {
		name     string
		data     map[string]string
		keys     []string
		contains string // in the message
	}{
		{"stubDomains bad JSON", stub(`{"a.b": ["1.2.3.4"]`), []string{KeyStubDomains}, "invalid JSON"},
		{"stubDomains trailing garbage", stub(`{"a.b": ["1.2.3.4"]} x`), []string{KeyStubDomains}, "invalid JSON"},
		{"stubDomains array", stub(`["1.2.3.4"]`), []string{KeyStubDomains}, "found a JSON array"},
		{"stubDomains server not a list", stub(`{"a.b": "1.2.3.4"}`), []string{KeyStubDomains}, "found a JSON string"},
		{"stubDomains server not a string", stub(`{"a.b": [53]}`), []string{KeyStubDomains}, "found a JSON number"},
		{"stubDomains bad domain", stub(`{"a_b.local": ["1.2.3.4"]}`), []string{KeyStubDomains}, `domain "a_b.local"`},
		{"stubDomains empty domain", stub(`{"": ["1.2.3.4"]}`), []string{KeyStubDomains}, "empty name"},
		{"stubDomains two dots", stub(`{"a.b..": ["1.2.3.4"]}`), []string{KeyStubDomains}, `domain "a.b.."`},
		{"stubDomains duplicate domain", stub(`{"a.b": ["1.2.3.4"], "A.B.": ["1.2.3.5"]}`), []string{KeyStubDomains}, "more than once"},
		{"stubDomains empty list", stub(`{"a.b": []}`), []string{KeyStubDomains}, "empty server list"},
		{"stubDomains null list", stub(`{"a.b": null}`), []string{KeyStubDomains}, "empty server list"},
		{"stubDomains empty server", stub(`{"a.b": [""]}`), []string{KeyStubDomains}, "empty"},
		{"stubDomains bad name", stub(`{"a.b": ["dns_1.corp"]}`), []string{KeyStubDomains}, "neither an IP address nor a valid name"},
		{"stubDomains bad v6", stub(`{"a.b": ["2001:db8::g"]}`), []string{KeyStubDomains}, "not an IPv6 address"},
		{"stubDomains v4 in brackets", stub(`{"a.b": ["[1.2.3.4]:53"]}`), []string{KeyStubDomains}, "not an IPv6 address"},
		{"stubDomains missing bracket", stub(`{"a.b": ["[::1:53"]}`), []string{KeyStubDomains}, "missing ]"},
		{"stubDomains junk after bracket", stub(`{"a.b": ["[::1]53"]}`), []string{KeyStubDomains}, "after ]"},
		{"stubDomains v6 zone", stub(`{"a.b": ["fe80::1%eth0"]}`), []string{KeyStubDomains}, "zones"},
		{"stubDomains port 0", stub(`{"a.b": ["1.2.3.4:0"]}`), []string{KeyStubDomains}, `port "0"`},
		{"stubDomains port 70000", stub(`{"a.b": ["dns.corp:70000"]}`), []string{KeyStubDomains}, `port "70000"`},
		{"stubDomains port x", stub(`{"a.b": ["[::1]:x"]}`), []string{KeyStubDomains}, `port "x"`},
		{"stubDomains empty port", stub(`{"a.b": ["1.2.3.4:"]}`), []string{KeyStubDomains}, `port ""`},
		{"stubDomains empty host", stub(`{"a.b": [":53"]}`), []string{KeyStubDomains}, "empty host"},
		{"upstreams bad JSON", up(`["8.8.8.8"`), []string{KeyUpstreamNameservers}, "invalid JSON"},
		{"upstreams object", up(`{"a": "8.8.8.8"}`), []string{KeyUpstreamNameservers}, "found a JSON object"},
		{"upstreams string", up(`"8.8.8.8"`), []string{KeyUpstreamNameservers}, "found a JSON string"},
		{"upstreams name", up(`["dns.google"]`), []string{KeyUpstreamNameservers}, "not an IP address"},
		{"upstreams name with port", up(`["dns.google:53"]`), []string{KeyUpstreamNameservers}, "not an IP address"},
		{"upstreams bad IP", up(`["8.8.8.256"]`), []string{KeyUpstreamNameservers}, "not an IP address"},
		{"upstreams port 0", up(`["8.8.8.8:0"]`), []string{KeyUpstreamNameservers}, `port "0"`},
		{"upstreams port 70000", up(`["[::1]:70000"]`), []string{KeyUpstreamNameservers}, `port "70000"`},
		{"upstreams port x", up(`["8.8.8.8:x"]`), []string{KeyUpstreamNameservers}, `port "x"`},
		{"upstreams 4 servers", up(`["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"]`), []string{KeyUpstreamNameservers}, "4 servers, at most 3"},
		{"federations garbage", fed("garbage"), []string{KeyFederations}, "want name=domain"},
		{"federations bad name", fed("my_fed=example.com"), []string{KeyFederations}, "name:"},
		{"federations dotted name", fed("my.fed=example.com"), []string{KeyFederations}, "name:"},
		{"federations empty name", fed("=example.com"), []string{KeyFederations}, "name: empty name"},
		{"federations bad domain", fed("f=exa mple.com"), []string{KeyFederations}, "domain:"},
		{"federations duplicate", fed("f=a.com,f=b.com"), []string{KeyFederations}, "more than once"},
		{"stubDomains not UTF-8", stub("{\"a.b\": [\"1.2.3.4\xff\"]}"), []string{KeyStubDomains}, "UTF-8"},
		{"upstreams not UTF-8", up("[\"\xc3\x28\"]"), []string{KeyUpstreamNameservers}, "UTF-8"},
		{"federations not UTF-8", fed("f=\xffexample.com"), []string{KeyFederations}, "UTF-8"},
		{
			name: "several keys",
			data: map[string]string{KeyStubDomains: "{", KeyUpstreamNameservers: `["8.8.8.8"]`, KeyFederations: "x"},
			keys: []string{KeyStubDomains, KeyFederations}, contains: "want name=domain",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse = %+v, want an error", c)
			}
			if got := FailedKeys(err); !reflect.DeepEqual(got, tt.keys) {
				t.Errorf("FailedKeys = %q, want %q (error %q)", got, tt.keys, err)
			}
			var ke *KeyError
			if !errors.As(err, &ke) || ke.Key != tt.keys[0] {
				t.Errorf("errors.As(%q) gives %+v, want key %q", err, ke, tt.keys[0])
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, tt.keys[0]+": ") && !strings.HasPrefix(line, tt.keys[len(tt.keys)-1]+": ") {
					t.Errorf("error line %q does not start with the key", line)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
		})
	}
}

func TestStubServer(t *testing.T) {
	tests := []struct {
		in       string
		host     string
		port     int
		wantFail bool
	}{
		{in: "1.2.3.4", host: "1.2.3.4", port: 53},
		{in: "1.2.3.4:5353", host: "1.2.3.4", port: 5353},
		{in: "2001:DB8::1", host: "2001:db8::1", port: 53},
		{in: "[2001:db8::1]", host: "2001:db8::1", port: 53},
		{in: "[2001:db8::1]:1053", host: "2001:db8::1", port: 1053},
		{in: "dns.my.corp", host: "dns.my.corp", port: 53},
		{in: "Dns.My.Corp:54", host: "dns.my.corp", port: 54},
		{in: "kube-dns.kube-system.svc.cluster.local:10053", host: "kube-dns.kube-system.svc.cluster.local", port: 10053},
		{in: "", wantFail: true},
		{in: "dns.corp.", wantFail: true},
		{in: "1.2.3.4:+53", wantFail: true},
		{in: "1.2.3.4:53:54", wantFail: true},
		{in: "-dns.corp", wantFail: true},
		{in: "[dns.corp]:53", wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := StubServer(tt.in)
			if tt.wantFail {
				if err == nil {
					t.Errorf("StubServer(%q) = %q, %d; want an error", tt.in, host, port)
				}
				return
			}
			if err != nil || host != tt.host || port != tt.port {
				t.Errorf("StubServer(%q) = %q, %d, %v; want %q, %d", tt.in, host, port, err, tt.host, tt.port)
			}
		})
	}
}

func TestFailedKeys(t *testing.T) {
	a, b := &KeyError{Key: "a", Err: errors.New("x")}, &KeyError{Key: "b", Err: errors.New("y")}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"nil", nil, nil},
		{"plain", errors.New("plain"), nil},
		{"one", a, []string{"a"}},
		{"joined", errors.Join(a, b, a), []string{"a", "b"}},
		{"wrapped", errors.Join(errors.Join(b), errors.New("z")), []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FailedKeys(tt.err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FailedKeys = %q, want %q", got, tt.want)
			}
		})
	}
	if !errors.Is(a, a.Err) {
		t.Error("KeyError does not unwrap to its cause")
	}
	if got := a.Error(); got != "a: x" {
		t.Errorf("KeyError.Error() = %q", got)
	}
}
