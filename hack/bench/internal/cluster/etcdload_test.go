package cluster

import (
	"regexp"
	"testing"
)

func TestStaticClusterIP(t *testing.T) {
	for _, tc := range []struct {
		i    int
		want string
		ok   bool
	}{
		{i: 0, want: "10.254.4.0", ok: true},
		{i: 300, want: "10.254.5.44", ok: true},
		{i: 49999, want: "10.254.199.79", ok: true},
		{i: 1<<16 - 2 - staticFirst, want: "10.254.255.254", ok: true},
		{i: 1<<16 - 1 - staticFirst, ok: false}, // the broadcast address
		{i: 1<<16 - staticFirst, ok: false},     // the next range's network address
		{i: 1<<16 + 1 - staticFirst, want: "10.253.0.1", ok: true},
		{i: 99999, want: "10.253.138.159", ok: true},
		{i: 4<<16 - staticFirst, ok: false}, // past the added ranges
	} {
		got, ok := staticClusterIP(tc.i)
		if got != tc.want || ok != tc.ok {
			t.Errorf("staticClusterIP(%d) = %q, %v; want %q, %v", tc.i, got, ok, tc.want, tc.ok)
		}
	}
}

func TestNewUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := newUID(), newUID()
	if !re.MatchString(string(a)) || a == b {
		t.Errorf("newUID = %q, %q: want two different version 4 UUIDs", a, b)
	}
}
