#!/usr/bin/env bash
# Installs the Debian packages a make target needs, those missing only:
# `apt-get update` and `apt-get install` run only when something is missing,
# and say what they install and why. The Makefile runs it before local-up,
# test, images, node-up, node-test and bench; .ci/run before make test.
#
# Usage: hack/install-deps.sh GROUP...
#   local    make local-up: the control plane's scripts (curl, openssl,
#            python3), dnsmasq in front of kube-dns, dig for its checks
#   test     make test: the integration and end-to-end tests (the real
#            dnsmasq, network namespaces), and images and node below
#   images   make images: buildah and mmdebstrap
#   node     make node-up: containerd, runc, the CNI plugins, kube-proxy's
#            iptables and conntrack, socat for kubectl
#   bench    make bench: dnsperf, and what the pod needs (Knot DNS and NSD,
#            packages knot and nsd, are optional and not installed: the
#            harness skips them when missing)
#
# Go itself (go.mod's version) is not a Debian package of the right
# version: it is checked for, not installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($#)) || { echo "usage: $0 local|test|images|node|bench..." >&2; exit 2; }

pkgs=()   # missing packages, each once
whys=()   # what each is for, in the same order

# found CMD: CMD (a program name or an absolute path) is there; the sbin
# directories count when they are not on PATH (a user's PATH on Debian).
found() {
  if [[ "$1" == /* ]]; then
    [[ -x "$1" ]]
  else
    command -v "$1" >/dev/null 2>&1 || [[ -x "/usr/sbin/$1" || -x "/sbin/$1" ]]
  fi
}

# want PACKAGE WHY CMD...: PACKAGE is needed when one of CMD is missing.
want() {
  local pkg="$1" why="$2" c p
  shift 2
  for c; do
    found "$c" && continue
    for p in "${pkgs[@]}"; do [[ "$p" == "$pkg" ]] && return 0; done
    pkgs+=("$pkg")
    whys+=("$why")
    return 0
  done
}

need_control_plane() { # hack/local-cluster.sh: certificates, free ports, readiness
  want make "make, which runs all of this" make
  want curl "the control plane's readiness checks" curl
  want openssl "the control plane's certificates and keys" openssl
  want python3 "free ports for the control plane" python3
}
need_dnsmasq() { want dnsmasq-base "the real dnsmasq the nanny runs" /usr/sbin/dnsmasq; }
need_images() {
  want buildah "make images: builds the images, no daemon" buildah
  want mmdebstrap "make images: the Debian bases (dnsmasq-base, the client's glibc)" mmdebstrap
  want gcc "make images: the node test's dnsload links glibc (cgo) for its -libc lookups" gcc
}
need_node() {
  need_control_plane
  want iproute2 "the node's network namespace" ip
  want containerd "the node's container runtime" containerd ctr containerd-shim-runc-v2
  want runc "the node's containers" runc
  want containernetworking-plugins "the node's pod network (bridge, host-local)" \
    /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback
  want iptables "kube-proxy's Service VIPs" iptables
  want conntrack "kube-proxy's connection tracking" conntrack
  want socat "kubectl to the node's API server" socat
}

for group; do
  case "$group" in
  local)
    need_control_plane
    need_dnsmasq
    want dnsutils "dig, local-up's checks and the commands it prints" dig ;;
  test)
    need_control_plane
    need_dnsmasq
    want iproute2 "the end-to-end test's network namespaces" ip
    need_images
    need_node ;;
  images) need_images ;;
  node) need_node ;;
  bench)
    need_control_plane
    need_dnsmasq
    want dnsperf "the load generator" dnsperf ;;
  *) echo "install-deps: unknown group $group (local, test, images, node, bench)" >&2; exit 2 ;;
  esac
done

want_go="$(awk '$1 == "go" {print $2; exit}' "$root/go.mod")"
if ! command -v "${GO:-go}" >/dev/null 2>&1; then
  echo "install-deps: go is not on PATH: install Go $want_go or later from https://go.dev/dl/ (Debian's golang is older)" >&2
  exit 1
fi

((${#pkgs[@]})) || exit 0

list="${pkgs[*]}"
if [[ $EUID -ne 0 ]]; then
  echo "install-deps: missing Debian packages:" >&2
  for i in "${!pkgs[@]}"; do echo "  ${pkgs[i]}: ${whys[i]}" >&2; done
  echo "install-deps: not root; run as root, then make again:" >&2
  echo "  apt-get update && apt-get install -y $list" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: missing Debian packages and no apt-get: install the equivalents of: $list" >&2
  exit 1
fi

echo "install-deps: installing $list" >&2
for i in "${!pkgs[@]}"; do echo "  ${pkgs[i]}: ${whys[i]}" >&2; done
mkdir -p "$root/_output"
log="$root/_output/install-deps.log"
export DEBIAN_FRONTEND=noninteractive
{ apt-get update -qq && apt-get install -y -qq "${pkgs[@]}"; } >"$log" 2>&1 || {
  echo "install-deps: apt-get failed; log: $log" >&2
  tail -n 20 "$log" >&2
  exit 1
}
echo "install-deps: installed $list" >&2
