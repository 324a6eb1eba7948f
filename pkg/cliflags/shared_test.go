package cliflags

import (
	"slices"
	"testing"
	"time"
)

func TestValidPort(t *testing.T) {
	for p, want := range map[int]bool{
		-1: false, 0: false, 1: true, 53: true, 65535: true, 65536: false, 70000: false,
	} {
		if got := ValidPort(p); got != want {
			t.Errorf("ValidPort(%d) = %v, want %v", p, got, want)
		}
	}
}

func TestCheckShared(t *testing.T) {
	for _, tc := range []struct {
		version string
		flush   time.Duration
		want    []string
	}{
		{version: "true", flush: time.Second},
		{version: "raw", flush: time.Second},
		{version: "yes", flush: time.Second, want: []string{"version"}},
		{version: "false", flush: 0, want: []string{"log-flush-frequency"}},
		{version: "", flush: -time.Second, want: []string{"version", "log-flush-frequency"}},
	} {
		var got []string
		CheckShared(tc.version, tc.flush, func(flag, _ string, _ ...any) { got = append(got, flag) })
		if !slices.Equal(got, tc.want) {
			t.Errorf("CheckShared(%q, %v) named %v, want %v", tc.version, tc.flush, got, tc.want)
		}
	}
}
