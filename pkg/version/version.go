// Package version holds the kube-dns build version, set at link time.
package version

import (
	"fmt"
	"runtime"
)

// Version is the release of this build. Builds set it with
// -ldflags "-X github.com/kubedns-go/kube-dns/pkg/version.Version=v0.1.0".
var Version = "v0.0.0-dev"

// String describes the build for program, e.g.
// "kube-dns v0.1.0 (go1.26.8 linux/amd64)". An empty program is left out.
func String(program string) string {
	s := fmt.Sprintf("%s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	if program == "" {
		return s
	}
	return program + " " + s
}
