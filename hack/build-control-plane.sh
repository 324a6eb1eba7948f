#!/usr/bin/env bash
# Builds kube-apiserver, kubectl, etcd and what a node runs (kubelet,
# kube-proxy, kube-controller-manager, kube-scheduler) from the Go module
# proxy into _output/bin/<k8s-version>/, reusing those already there.
#
# k8s.io/kubernetes cannot be `go install`ed (its go.mod points the staging
# modules at ./staging), so each build happens in a throwaway module that
# requires it and replaces every staging module with its published version.
# Nothing here touches the project's own go.mod.
#
# Usage: hack/build-control-plane.sh            (prints the bin directory)
# Env:   K8S_VERSION (v1.35.4), ETCD_VERSION (from k8s.io/kubernetes's go.mod)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
K8S_VERSION="${K8S_VERSION:-v1.35.4}"
bin="$root/_output/bin/$K8S_VERSION"
work="$root/_output/build/$K8S_VERSION"
log="$root/_output/build/build-$K8S_VERSION.log"

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

# The Kubernetes commands: the control plane the integration tests run, and
# what a node needs (hack/node.sh).
k8s_cmds=(kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy)
have() {
  for c in "${k8s_cmds[@]}" etcd; do [[ -x "$bin/$c" ]] || return 1; done
}
if have; then
  echo "$bin"
  exit 0
fi
mkdir -p "$bin" "$work/k8s" "$work/etcd"
: >"$log"
fail() { echo "build-control-plane: $1 failed; log: $log" >&2; tail -n 20 "$log" >&2; exit 1; }

upstream_mod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" 2>>"$log" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
[[ -f "$upstream_mod" ]] || fail "downloading k8s.io/kubernetes@$K8S_VERSION"
staging="v0.${K8S_VERSION#v1.}"
go_line="$(grep -m1 '^go ' "$upstream_mod")"
etcd_version="${ETCD_VERSION:-$(awk '$1 == "go.etcd.io/etcd/server/v3" {print $2; exit}' "$upstream_mod")}"

# kube-apiserver and kubectl.
{
  echo "module localcluster/k8s"
  echo
  echo "$go_line"
  grep '^godebug' "$upstream_mod" || true
  echo
  echo "require k8s.io/kubernetes $K8S_VERSION"
  echo
  echo "replace ("
  awk '/=> \.\/staging\/src\// {print "\t" $1 " => " $1 " '"$staging"'"}' "$upstream_mod"
  echo ")"
} >"$work/k8s/go.mod"
{
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  for c in "${k8s_cmds[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$c"; done
  printf ')\n'
} >"$work/k8s/tools.go"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
(cd "$work/k8s" && go mod tidy) >>"$log" 2>&1 || fail "resolving modules for k8s.io/kubernetes"
for c in "${k8s_cmds[@]}"; do
  [[ -x "$bin/$c" ]] && continue
  case "$c" in
  kube-apiserver) echo "building $c $K8S_VERSION (about 8 minutes on 2 cores the first time)" >&2 ;;
  *) echo "building $c $K8S_VERSION" >&2 ;;
  esac
  (cd "$work/k8s" && go build -trimpath -ldflags "$ldflags" -o "$bin/$c.tmp" "k8s.io/kubernetes/cmd/$c" && mv "$bin/$c.tmp" "$bin/$c") >>"$log" 2>&1 ||
    fail "building $c"
done

# etcd: its server module's root package is etcd's main.
if [[ ! -x "$bin/etcd" ]]; then
cat >"$work/etcd/go.mod" <<MOD
module localcluster/etcd

$go_line

require go.etcd.io/etcd/server/v3 $etcd_version
MOD
cat >"$work/etcd/tools.go" <<'GO'
//go:build tools

package tools

import _ "go.etcd.io/etcd/server/v3"
GO
(cd "$work/etcd" && go mod tidy) >>"$log" 2>&1 || fail "resolving modules for etcd $etcd_version"
echo "building etcd $etcd_version" >&2
(cd "$work/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3) >>"$log" 2>&1 ||
  fail "building etcd"
fi
echo "$bin"
