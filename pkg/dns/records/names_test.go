package records

import (
	"net/netip"
	"testing"
)

func TestDashedIP(t *testing.T) {
	tests := []struct {
		ip, label string
	}{
		{ip: "10.1.2.3", label: "10-1-2-3"},
		{ip: "::ffff:10.1.2.3", label: "10-1-2-3"},
		{ip: "fd00::1", label: "fd00--1"},
		{ip: "::1", label: "0--1"},
		{ip: "fd00::", label: "fd00--0"},
		{ip: "2001:db8:0:0:1:0:0:1", label: "2001-db8--1-0-0-1"},
	}
	for _, tt := range tests {
		t.Run(tt.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			if got := DashedIP(ip); got != tt.label {
				t.Fatalf("DashedIP = %q, want %q", got, tt.label)
			}
			back, ok := ParseDashedIP(tt.label)
			if !ok || back != ip.Unmap() {
				t.Fatalf("ParseDashedIP(%q) = %v %v, want %v", tt.label, back, ok, ip.Unmap())
			}
		})
	}
}

func TestParseDashedIPRejects(t *testing.T) {
	for _, label := range []string{"", "10-1-2", "10-1-2-3-4", "10-1-2-300", "abc", "fd00--1%eth0", "1-2-3-4-5-6-7-8-9"} {
		if ip, ok := ParseDashedIP(label); ok {
			t.Errorf("ParseDashedIP(%q) = %v, want rejection", label, ip)
		}
	}
}

func TestReverseName(t *testing.T) {
	if got := ReverseName(netip.MustParseAddr("10.254.0.1")); got != "1.0.254.10.in-addr.arpa." {
		t.Errorf("v4: %q", got)
	}
	if got := ReverseName(netip.MustParseAddr("fd00::10")); got != "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa." {
		t.Errorf("v6: %q", got)
	}
}

func TestZone(t *testing.T) {
	c := &Config{Domain: "cluster.local."}
	tests := map[string]string{
		"cluster.local.":         "cluster.local.",
		"a.b.svc.cluster.local.": "cluster.local.",
		"xcluster.local.":        "",
		"local.":                 "",
		"1.0.0.10.in-addr.arpa.": ReverseV4,
		"in-addr.arpa.":          ReverseV4,
		"f.ip6.arpa.":            ReverseV6,
		"example.com.":           "",
		"notin-addr.arpa.":       "",
	}
	for name, want := range tests {
		if got := c.Zone(name); got != want {
			t.Errorf("Zone(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestFragmentEqual(t *testing.T) {
	c := benchConfig()
	svc := Service{Namespace: "a", Name: "b", Kind: Headless}
	one := []EndpointSet{{Endpoints: []Endpoint{
		{Ready: true, Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
		{Ready: true, Addresses: []netip.Addr{netip.MustParseAddr("10.0.0.2")}}}}}
	reordered := []EndpointSet{{Endpoints: []Endpoint{one[0].Endpoints[1], one[0].Endpoints[0]}}}
	changed := []EndpointSet{{Endpoints: []Endpoint{one[0].Endpoints[0]}}}
	f := c.ServiceRecords(&svc, one)
	if !f.Equal(c.ServiceRecords(&svc, reordered)) {
		t.Error("same endpoints in another order are not Equal")
	}
	if f.Equal(c.ServiceRecords(&svc, changed)) {
		t.Error("a removed endpoint is Equal")
	}
	if f.Equal(nil) || !(*Fragment)(nil).Equal(nil) {
		t.Error("nil handling")
	}
}
