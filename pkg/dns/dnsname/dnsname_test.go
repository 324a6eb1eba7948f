package dnsname

import "testing"

func TestLower(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"my-nginx.default.":      "my-nginx.default.",
		"My-Nginx.DEFAULT.":      "my-nginx.default.",
		"a\\200B.":               "a\\200b.",
		"\xc3\x84b.":             "\xc3\x84b.", // not ASCII: kept
		"ZZZ.svc.Cluster.Local.": "zzz.svc.cluster.local.",
	} {
		if got := Lower(in); got != want {
			t.Errorf("Lower(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { Lower("already.lower.") }); n != 0 {
		t.Errorf("Lower of a lower-case name allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { Lower("Mixed.Case.") }); n != 1 {
		t.Errorf("Lower of a mixed-case name allocates %v times, want 1 (the result)", n)
	}
}

func TestFqdn(t *testing.T) {
	for in, want := range map[string]string{"Cluster.Local": "cluster.local.", "cluster.local.": "cluster.local.", "": "."} {
		if got := Fqdn(in); got != want {
			t.Errorf("Fqdn(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParentAndFirstLabel(t *testing.T) {
	tests := []struct{ name, parent, first string }{
		{"a.b.c.", "b.c.", "a"},
		{"c.", "", "c"},
		{".", "", ""},
		{"", "", ""},
		{"*.svc.", "svc.", "*"},
	}
	for _, tt := range tests {
		if got := Parent(tt.name); got != tt.parent {
			t.Errorf("Parent(%q) = %q, want %q", tt.name, got, tt.parent)
		}
		if got := FirstLabel(tt.name); got != tt.first {
			t.Errorf("FirstLabel(%q) = %q, want %q", tt.name, got, tt.first)
		}
	}
}

func TestInZone(t *testing.T) {
	tests := []struct {
		name, zone string
		want       bool
	}{
		{"cluster.local.", "cluster.local.", true},
		{"a.cluster.local.", "cluster.local.", true},
		{"acluster.local.", "cluster.local.", false},
		{"local.", "cluster.local.", false},
		{"anything.", ".", true},
		{"10.in-addr.arpa.", "in-addr.arpa.", true},
	}
	for _, tt := range tests {
		if got := InZone(tt.name, tt.zone); got != tt.want {
			t.Errorf("InZone(%q, %q) = %v", tt.name, tt.zone, got)
		}
		if got := InZone([]byte(tt.name), tt.zone); got != tt.want {
			t.Errorf("InZone([]byte(%q), %q) = %v", tt.name, tt.zone, got)
		}
	}
}
