#!/usr/bin/env bash
# Builds CoreDNS from the Go module proxy into _output/bin/coredns-<version>/,
# for the benchmark harness (hack/bench) and the node test's NodeLocal
# DNSCache image (hack/build-images.sh), and reuses it when it is there.
# Static (CGO_ENABLED=0), as CoreDNS's own images are, so that it runs on a
# scratch image.
#
# CoreDNS's go.mod has no replace directives, so `go install module@version`
# builds it as released, outside any module of ours: it runs in a scratch
# directory under _output/build/, and the project's go.mod is never read.
#
# Usage: hack/build-coredns.sh          (prints the binary's path)
# Env:   COREDNS_VERSION (v1.14.7)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
COREDNS_VERSION="${COREDNS_VERSION:-v1.14.7}"
bin="$root/_output/bin/coredns-$COREDNS_VERSION"
work="$root/_output/build/coredns-$COREDNS_VERSION"
log="$root/_output/build/build-coredns-$COREDNS_VERSION.log"

if [[ -x "$bin/coredns" ]]; then
  echo "$bin/coredns"
  exit 0
fi
mkdir -p "$bin" "$work"
echo "building CoreDNS $COREDNS_VERSION (a few minutes on 2 cores the first time; log: $log)" >&2
if ! (cd "$work" && GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0 GOBIN="$bin" go install "github.com/coredns/coredns@$COREDNS_VERSION") >"$log" 2>&1; then
  echo "build-coredns: building CoreDNS $COREDNS_VERSION failed; log: $log" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
"$bin/coredns" -version >>"$log" 2>&1 || { echo "build-coredns: $bin/coredns does not run; log: $log" >&2; exit 1; }
echo "$bin/coredns"
