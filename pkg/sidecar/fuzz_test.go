package sidecar

import "testing"

// FuzzParseProbe feeds arbitrary --probe values to ParseProbe: it never
// panics, and a probe it accepts is valid and reads back from its String
// unchanged.
func FuzzParseProbe(f *testing.F) {
	for _, seed := range []string{
		"kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV",
		"dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local,5,A",
		"v6,[::1]:53,x.,1,aaaa",
		"l,127.0.0.1,name",
		"l,127.0.0.1,name,,",
		"bad label,127.0.0.1,x",
		"l,::1,x",
		"l,127.0.0.1:0,x,0",
		"l,127.0.0.1:70000,x,86401,MX",
		"l, 127.0.0.1 , x , 2 , any",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProbe(s)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseProbe(%q) accepted an invalid probe %+v: %v", s, p, err)
		}
		q, err := ParseProbe(p.String())
		if err != nil || q != p {
			t.Fatalf("ParseProbe(%q) = %+v; its String %q reads back as %+v, %v", s, p, p.String(), q, err)
		}
	})
}
