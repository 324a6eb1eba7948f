package sidecar

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestParseProbe(t *testing.T) {
	tests := []struct {
		in   string
		want Probe
	}{
		{in: "kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV",
			want: Probe{Label: "kubedns", Server: "127.0.0.1:10053", Name: "kubernetes.default.svc.cluster.local.", Interval: 5 * time.Second, Type: dns.TypeSRV}},
		{in: "dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local.,5,SRV",
			want: Probe{Label: "dnsmasq", Server: "127.0.0.1:53", Name: "kubernetes.default.svc.cluster.local.", Interval: 5 * time.Second, Type: dns.TypeSRV}},
		{in: "a,127.0.0.1,example.com",
			want: Probe{Label: "a", Server: "127.0.0.1:53", Name: "example.com.", Interval: 5 * time.Second, Type: dns.TypeANY}},
		{in: "A_1,10.0.0.10:5353,example.com,30",
			want: Probe{Label: "A_1", Server: "10.0.0.10:5353", Name: "example.com.", Interval: 30 * time.Second, Type: dns.TypeANY}},
		{in: "v6,[::1]:53,example.com.,1,AAAA",
			want: Probe{Label: "v6", Server: "[::1]:53", Name: "example.com.", Interval: time.Second, Type: dns.TypeAAAA}},
		{in: "v6,[fd00::a],example.com,2,a",
			want: Probe{Label: "v6", Server: "[fd00::a]:53", Name: "example.com.", Interval: 2 * time.Second, Type: dns.TypeA}},
		{in: "h,kube-dns.kube-system:10053,example.com,5,any",
			want: Probe{Label: "h", Server: "kube-dns.kube-system:10053", Name: "example.com.", Interval: 5 * time.Second, Type: dns.TypeANY}},
		{in: "e,localhost,example.com,,srv",
			want: Probe{Label: "e", Server: "localhost:53", Name: "example.com.", Interval: 5 * time.Second, Type: dns.TypeSRV}},
		{in: "t,127.0.0.1,example.com,5,",
			want: Probe{Label: "t", Server: "127.0.0.1:53", Name: "example.com.", Interval: 5 * time.Second, Type: dns.TypeANY}},
		{in: " s , 127.0.0.1 , example.com , 7 , A ",
			want: Probe{Label: "s", Server: "127.0.0.1:53", Name: "example.com.", Interval: 7 * time.Second, Type: dns.TypeA}},
		{in: "v4inbrackets,[127.0.0.1]:54,example.com",
			want: Probe{Label: "v4inbrackets", Server: "127.0.0.1:54", Name: "example.com.", Interval: 5 * time.Second, Type: dns.TypeANY}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseProbe(tt.in)
			if err != nil {
				t.Fatalf("ParseProbe: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			again, err := ParseProbe(got.String())
			if err != nil || again != got {
				t.Errorf("String() %q does not parse back: %+v, %v", got.String(), again, err)
			}
		})
	}
}

func TestParseProbeErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "", want: "got 1 fields"},
		{in: "kubedns", want: "got 1 fields"},
		{in: "kubedns,127.0.0.1:10053", want: "got 2 fields"},
		{in: "a,127.0.0.1,example.com,5,SRV,extra", want: "got 6 fields"},
		{in: ",127.0.0.1,example.com", want: `label ""`},
		{in: "kube-dns,127.0.0.1,example.com", want: `label "kube-dns" does not match`},
		{in: "kube.dns,127.0.0.1,example.com", want: "does not match"},
		{in: "a,,example.com", want: "the server is empty"},
		{in: "a,127.0.0.1:,example.com", want: `port ""`},
		{in: "a,127.0.0.1:0,example.com", want: `port "0"`},
		{in: "a,127.0.0.1:65536,example.com", want: `port "65536"`},
		{in: "a,127.0.0.1:dns,example.com", want: `port "dns"`},
		{in: "a,::1,example.com", want: "put IPv6 addresses in brackets"},
		{in: "a,::1:53,example.com", want: "put IPv6 addresses in brackets"},
		{in: "a,[::1,example.com", want: "missing ]"},
		{in: "a,[::1]53,example.com", want: "unexpected"},
		{in: "a,[example.com]:53,example.com", want: "is not an IP address"},
		{in: "a,not_a_host,example.com", want: "neither an IP address nor a DNS name"},
		{in: "a,127.0.0.1,", want: "the name is empty"},
		{in: "a,127.0.0.1,bad..name", want: "not a fully qualified domain name"},
		{in: "a,127.0.0.1,example.com,0", want: `interval "0"`},
		{in: "a,127.0.0.1,example.com,-5", want: `interval "-5"`},
		{in: "a,127.0.0.1,example.com,1.5", want: `interval "1.5"`},
		{in: "a,127.0.0.1,example.com,5s", want: `interval "5s"`},
		{in: "a,127.0.0.1,example.com,86401", want: `interval "86401"`},
		{in: "a,127.0.0.1,example.com,SRV", want: `interval "SRV"`},
		{in: "a,127.0.0.1,example.com,5,MX", want: `type "MX" is not one of A, AAAA, ANY, SRV`},
		{in: "a,127.0.0.1,example.com,5,TXT", want: `type "TXT"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseProbe(tt.in)
			if err == nil {
				t.Fatalf("ParseProbe = %+v, want an error", got)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "probe ") {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestProbeTiming(t *testing.T) {
	tests := []struct{ interval, timeout, maxAge time.Duration }{
		{interval: 100 * time.Millisecond, timeout: 50 * time.Millisecond, maxAge: 250 * time.Millisecond},
		{interval: time.Second, timeout: 500 * time.Millisecond, maxAge: 2500 * time.Millisecond},
		{interval: 5 * time.Second, timeout: 2 * time.Second, maxAge: 12 * time.Second},
		{interval: time.Minute, timeout: 2 * time.Second, maxAge: 122 * time.Second},
	}
	for _, tt := range tests {
		p := Probe{Interval: tt.interval}
		if got := p.Timeout(); got != tt.timeout {
			t.Errorf("interval %v: Timeout() = %v, want %v", tt.interval, got, tt.timeout)
		}
		if got := p.maxAge(); got != tt.maxAge {
			t.Errorf("interval %v: maxAge() = %v, want %v", tt.interval, got, tt.maxAge)
		}
	}
}

func TestProbeStringSubSecond(t *testing.T) {
	p := Probe{Label: "x", Server: "127.0.0.1:53", Name: "a.", Interval: 1500 * time.Millisecond, Type: dns.TypeA}
	if got, want := p.String(), "x,127.0.0.1:53,a.,1.5s,A"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
