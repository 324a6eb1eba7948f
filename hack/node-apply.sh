#!/usr/bin/env bash
# Applies, on a node hack/node.sh brought up in DIR, what make node-up
# shows: the kube-dns add-on rendered with the images built here, the
# walkthrough's my-nginx and a client pod; then prints what to try.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${1:?usage: $0 DIR}"
REGISTRY="${REGISTRY:-kubedns-go}"
VERSION="${VERSION:-$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)}"
eval "$("$root/hack/node.sh" env "$dir")"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }

DNS_SERVER_IP=10.254.0.2 DNS_DOMAIN=cluster.local VERSION="$VERSION" "$root/hack/render-manifests.sh" "$dir/manifests" >/dev/null
k apply -f "$dir/manifests/kube-dns.yaml" >/dev/null
sed -e "s|__REGISTRY__|$REGISTRY|g" -e "s|__VERSION__|$VERSION|g" "$root/hack/node/testdata/walkthrough.yaml.in" | k apply -f - >/dev/null
k -n kube-system rollout status deployment/kube-dns --timeout=180s >/dev/null
k wait --for=condition=Ready pod/client --timeout=120s >/dev/null

cat <<MSG

The node is up: kube-dns (our three images), my-nginx and a client pod run
under a real kubelet in network namespace $NODE_NETNS. Try:

  kubectl --kubeconfig $KUBECONFIG get pods -A -o wide
  kubectl --kubeconfig $KUBECONFIG exec client -- getent hosts my-nginx
  kubectl --kubeconfig $KUBECONFIG exec client -- getent hosts kube-dns.kube-system.svc.cluster.local
  ip netns exec $NODE_NETNS dig @10.254.0.2 my-nginx.default.svc.cluster.local
  kubectl --kubeconfig $KUBECONFIG -n kube-system logs deploy/kube-dns -c kubedns

(kubectl is $KUBECTL.) The node's processes log to $dir/*.log;
make node-down stops them all.
kubeconfig: $KUBECONFIG
node netns: $NODE_NETNS
MSG
