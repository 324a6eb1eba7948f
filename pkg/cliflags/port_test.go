package cliflags

import "testing"

func TestValidPort(t *testing.T) {
	for p, want := range map[int]bool{
		-1: false, 0: false, 1: true, 53: true, 65535: true, 65536: false, 70000: false,
	} {
		if got := ValidPort(p); got != want {
			t.Errorf("ValidPort(%d) = %v, want %v", p, got, want)
		}
	}
}
