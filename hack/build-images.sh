#!/usr/bin/env bash
# Builds the three images with no registry and no daemon: the programs as
# make build makes them, on scratch (kube-dns, sidecar: static binaries) or
# on a base that mmdebstrap makes from Debian's dnsmasq-base and what it
# depends on (dnsmasq-nanny), each from its images/<program>/Dockerfile.binary
# by buildah (no RUN step, so no container is run). Also the images the node
# test runs (hack/node.sh): a pause image for pod sandboxes, a web server
# standing in for my-nginx, a client holding glibc's getent and the load
# programs, and CoreDNS (hack/build-coredns.sh) as NodeLocal DNSCache.
#
# Output: _output/images/<name>.tar, docker archives that `ctr images import`
# and `docker load` read, tagged $REGISTRY/<name>:$VERSION.
#
# Usage: hack/build-images.sh [program...]      (default: all)
# Env:   REGISTRY (kubedns-go), VERSION (git describe), BIN (_output/bin)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
REGISTRY="${REGISTRY:-kubedns-go}"
VERSION="${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)}"
BIN="${BIN:-$root/_output/bin}"
out="$root/_output/images"
work="$out/work"
suite=bookworm

missing=()
for tool in buildah mmdebstrap; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "build-images: missing ${missing[*]}: apt-get install -y ${missing[*]}" >&2
  exit 1
fi

mkdir -p "$out" "$work"
log="$out/build.log"
: >"$log"
fail() { echo "build-images: $1 failed; log: $log" >&2; tail -n 20 "$log" >&2; exit 1; }

# buildah keeps its images under _output, with the vfs driver: nothing of the
# machine's container storage is touched, and no overlay mount is left.
bh() { buildah --root "$work/storage" --runroot "$work/run" --storage-driver vfs "$@"; }

# rootfs NAME DIR PACKAGES...: a tarball of the packages and their
# dependencies, unpacked (no maintainer scripts run), without documentation,
# with the users root, nobody and kubedns (1001) and the directory DIR.
rootfs() {
  local name="$1" dir="$2"; shift 2
  local tar="$work/rootfs-$name.tar" want
  want="$(printf '%s\n' "$suite" "$dir" "$@" | sha256sum | cut -c1-16)"
  if [[ -f "$tar" && "$(cat "$tar.key" 2>/dev/null)" == "$want" ]]; then
    return
  fi
  local include
  include="$(IFS=,; echo "$*")"
  echo "mmdebstrap $name: $include" >&2
  mmdebstrap --variant=extract --include="$include" "$suite" "$tar" >>"$log" 2>&1 || fail "mmdebstrap $name"
  # The extract variant runs no hooks: the tarball is trimmed and completed
  # here. Documentation goes; the users and the directories come.
  tar --delete --wildcards -f "$tar" './usr/share/doc/*' './usr/share/man/*' './usr/share/info/*' './usr/share/locale/*' 2>>"$log" || true
  local extra="$work/extra-$name"
  rm -rf "$extra" && mkdir -p "$extra/etc" "$extra/tmp" "$extra$dir"
  chmod 1777 "$extra/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nkubedns:x:1001:1001:kubedns:/nonexistent:/sbin/nologin\n' >"$extra/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\ndip:x:30:\nkubedns:x:1001:\n' >"$extra/etc/group"
  tar --append -f "$tar" --owner=0 --group=0 -C "$extra" . >>"$log" 2>&1 || fail "completing the $name tarball"
  echo "$want" >"$tar.key"
}

# base NAME TAR: a local image holding the files of TAR.
base() {
  local c
  c="$(bh from scratch)" || fail "buildah from scratch"
  bh add "$c" "$2" / >>"$log" 2>&1 || fail "adding $2"
  bh commit --rm "$c" "localhost/$1" >>"$log" 2>&1 || fail "committing $1"
}

# image NAME BASE_IMAGE DOCKERFILE BINARY...: builds the Dockerfile with
# the binaries (in $BIN, or absolute paths) as the context, and writes the
# docker archive.
image() {
  local prog="$1" from="$2" file="$3" ctx="$work/ctx-$1"
  shift 3
  rm -rf "$ctx" && mkdir -p "$ctx"
  local b src
  for b in "$@"; do
    src="$BIN/$b"
    [[ "$b" == /* ]] && src="$b"
    [[ -x "$src" ]] || { echo "build-images: no $src (make build, make node-programs, make coredns)" >&2; exit 1; }
    cp "$src" "$ctx/"
  done
  local tag="$REGISTRY/$prog:$VERSION"
  bh bud --pull=never --layers=false --build-arg BASE_IMAGE="$from" -f "$file" -t "$tag" "$ctx" >>"$log" 2>&1 ||
    fail "building $tag"
  rm -f "$out/$prog.tar"
  bh push "$tag" "docker-archive:$out/$prog.tar:$tag" >>"$log" 2>&1 || fail "writing $out/$prog.tar"
  echo "$out/$prog.tar $tag"
}

programs=("$@")
((${#programs[@]})) || programs=(kube-dns dnsmasq-nanny sidecar pause web client coredns)
for p in "${programs[@]}"; do
  case "$p" in
  kube-dns | sidecar) image "$p" scratch "$root/images/$p/Dockerfile.binary" "$p" ;;
  dnsmasq-nanny)
    rootfs dnsmasq /etc/k8s/dns/dnsmasq-nanny dnsmasq-base
    base dnsmasq-base "$work/rootfs-dnsmasq.tar"
    image dnsmasq-nanny localhost/dnsmasq-base "$root/images/$p/Dockerfile.binary" "$p" ;;
  pause | web) image "$p" scratch "$root/hack/node/Dockerfile.$p" "$p" ;;
  client)
    rootfs client /tmp libc-bin coreutils
    base client-base "$work/rootfs-client.tar"
    image client localhost/client-base "$root/hack/node/Dockerfile.client" pause dnsload fanin ;;
  coredns) image coredns scratch "$root/hack/node/Dockerfile.coredns" "$("$root/hack/build-coredns.sh")" ;;
  *) echo "build-images: unknown image $p" >&2; exit 2 ;;
  esac
done
