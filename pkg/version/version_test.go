package version

import (
	"runtime"
	"testing"
)

func TestString(t *testing.T) {
	old := Version
	t.Cleanup(func() { Version = old })
	Version = "v1.2.3"

	platform := " (" + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	for _, tt := range []struct {
		program, want string
	}{
		{"kube-dns", "kube-dns v1.2.3" + platform},
		{"", "v1.2.3" + platform},
	} {
		t.Run(tt.program, func(t *testing.T) {
			if got := String(tt.program); got != tt.want {
				t.Errorf("String(%q) = %q, want %q", tt.program, got, tt.want)
			}
		})
	}
}
