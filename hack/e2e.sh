#!/usr/bin/env bash
# End-to-end: the pod as the walkthrough runs it, reproduced with network
# namespaces (needs root).
#
# A "DNS pod" namespace holds the kube-dns Service IP (10.254.0.2) and runs the
# three programs with exactly the args of the rendered manifest (plus a
# kubeconfig), the real dnsmasq on port 53. The API server runs on that
# namespace's loopback, so no traffic leaves the namespaces made here. A
# "client pod" namespace, joined to it by a veth pair, has the walkthrough's
# resolv.conf (search default.svc.cluster.local svc.cluster.local
# cluster.local, ndots:5), where the real glibc resolver (getent) resolves
# names. Prints "N passed, N failed"; exits 1 on any failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/_output/bin"
[[ "$(id -u)" == 0 ]] || { echo "e2e: needs root for ip netns" >&2; exit 1; }
for b in kube-dns dnsmasq-nanny sidecar fanin; do
  [[ -x "$bin/$b" ]] || { echo "e2e: $bin/$b is missing: run make build node-programs" >&2; exit 1; }
done
for tool in ip getent curl python3 /usr/sbin/dnsmasq; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing" >&2; exit 1; }
done

tag="kde2e$$"
dns_ns="$tag-dns" client_ns="$tag-client" up_ns="$tag-up"
svc_ip=10.254.0.2 client_ip=10.254.200.10
work="$(mktemp -d /tmp/kubedns-e2e.XXXXXX)"
config_dirs=(/kube-dns-config /etc/k8s/dns/dnsmasq-nanny) # the manifest's mount paths
created_dirs=()
pids=()
passed=0 failed=0

cleanup() {
  set +e
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do # kube-dns takes its 5 s lameduck
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  [[ -f "$work/cp/env" ]] && "$root/hack/local-cluster.sh" down "$work/cp" >/dev/null
  ip netns del "$dns_ns" 2>/dev/null
  ip netns del "$client_ns" 2>/dev/null
  ip netns del "$up_ns" 2>/dev/null
  rm -rf "/etc/netns/$dns_ns" "/etc/netns/$client_ns"
  for d in "${created_dirs[@]}"; do rm -rf "$d"; done
  if [[ "$failed" -ne 0 || "${KEEP_LOGS:-}" != "" ]]; then
    echo "e2e: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_dns() { ip netns exec "$dns_ns" "$@"; }
in_client() { ip netns exec "$client_ns" "$@"; }

check() { # name command...: passes when the command succeeds within 40 s
  local name="$1" out="" deadline=$((SECONDS + 40))
  shift
  while ((SECONDS < deadline)); do
    if out="$("$@" 2>&1)"; then
      echo "PASS $name"
      passed=$((passed + 1))
      return 0
    fi
    sleep 0.2
  done
  echo "FAIL $name: $out"
  failed=$((failed + 1))
}

resolves() { # name want: getent in the client namespace prints want first
  local got
  got="$(in_client timeout 10 getent hosts "$1")" || return 1
  [[ "$got" == "$2"* ]] || { echo "getent hosts $1: $got (want $2…)"; return 1; }
}

http_ok() { in_dns curl -fsS -o /dev/null --max-time 2 "$1"; }

# The DNS pod's namespace, joined by veth pairs to a client pod's and to an
# "upstream" namespace standing in for the node's nameserver.
ip netns add "$dns_ns"
ip netns add "$client_ns"
ip netns add "$up_ns"
ip link add "$tag-c" type veth peer name "$tag-d"
ip link set "$tag-c" netns "$dns_ns"
ip link set "$tag-d" netns "$up_ns"
ip -n "$dns_ns" addr add 10.253.0.2/24 dev "$tag-c"
ip -n "$up_ns" addr add 10.253.0.1/24 dev "$tag-d"
ip -n "$dns_ns" link set "$tag-c" up
ip -n "$up_ns" link set "$tag-d" up
ip -n "$up_ns" link set lo up
ip link add "$tag-a" type veth peer name "$tag-b"
ip link set "$tag-a" netns "$dns_ns"
ip link set "$tag-b" netns "$client_ns"
ip -n "$dns_ns" addr add "$svc_ip/16" dev "$tag-a"
ip -n "$client_ns" addr add "$client_ip/16" dev "$tag-b"
for ns in "$dns_ns" "$client_ns"; do
  ip -n "$ns" link set lo up
done
ip -n "$dns_ns" link set "$tag-a" up
ip -n "$client_ns" link set "$tag-b" up
mkdir -p "/etc/netns/$dns_ns" "/etc/netns/$client_ns"
# The pod has dnsPolicy Default: the node's resolv.conf, here the upstream namespace.
echo "nameserver 10.253.0.1" >"/etc/netns/$dns_ns/resolv.conf"
ip netns exec "$up_ns" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
  --listen-address=10.253.0.1 --port=53 --pid-file= --conf-file=/dev/null --log-facility=- \
  --address=/upstream.example/192.0.2.99 >"$work/upstream.log" 2>&1 &
pids+=($!)
cat >"/etc/netns/$client_ns/resolv.conf" <<CONF
nameserver $svc_ip
search default.svc.cluster.local svc.cluster.local cluster.local
options ndots:5
CONF

# The control plane, on the DNS namespace's loopback, with the walkthrough's objects.
in_dns "$root/hack/local-cluster.sh" up "$work/cp" >"$work/cp.log" 2>&1 || { cat "$work/cp.log"; exit 1; }
# shellcheck disable=SC1091
source "$work/cp/env"
for f in hack/testdata/seed.yaml cluster/kube-dns-rbac.yaml; do
  in_dns "$KUBECTL" --kubeconfig "$KUBECONFIG" apply -f "$root/$f" >>"$work/apply.log" 2>&1
done

# The rendered manifest, and each container's args from it.
DNS_SERVER_IP="$svc_ip" DNS_DOMAIN=cluster.local "$root/hack/render-manifests.sh" "$work/manifests" >/dev/null
in_dns "$KUBECTL" --kubeconfig "$KUBECONFIG" create --dry-run=client -o json -f "$work/manifests/kube-dns.yaml" >"$work/manifest.json"
args_of() { # container: one arg per line
  python3 - "$work/manifest.json" "$1" <<'PY'
import json, sys
text, docs, i = open(sys.argv[1]).read(), [], 0
dec = json.JSONDecoder()
while i < len(text):  # kubectl prints one JSON object per document
    if text[i].isspace():
        i += 1
        continue
    doc, i = dec.raw_decode(text, i)
    docs.extend(doc.get("items", [doc]))
for item in docs:
    if item["kind"] == "Deployment" and item["metadata"]["name"] == "kube-dns":
        for c in item["spec"]["template"]["spec"]["containers"]:
            if c["name"] == sys.argv[2]:
                print("\n".join(c.get("args", [])))
PY
}
mapfile -t kubedns_args < <(args_of kubedns)
mapfile -t dnsmasq_args < <(args_of dnsmasq)
mapfile -t sidecar_args < <(args_of sidecar)
[[ ${#kubedns_args[@]} -gt 0 && ${#dnsmasq_args[@]} -gt 0 && ${#sidecar_args[@]} -gt 0 ]] ||
  { echo "e2e: no container args found in the rendered manifest" >&2; exit 1; }

# The ConfigMap volume at the manifest's mount paths (empty, as the add-on creates it).
for d in "${config_dirs[@]}"; do
  top="$d" # the highest directory this run creates, removed at the end
  while [[ ! -e "$(dirname "$top")" ]]; do top="$(dirname "$top")"; done
  if [[ ! -e "$d" ]]; then mkdir -p "$d"; created_dirs+=("$top"); fi
done

ip netns exec "$dns_ns" env PROMETHEUS_PORT=10055 "$bin/kube-dns" "${kubedns_args[@]}" --kubecfg-file="$KUBEDNS_KUBECONFIG" >"$work/kube-dns.log" 2>&1 &
pids+=($!)
ip netns exec "$dns_ns" "$bin/dnsmasq-nanny" "${dnsmasq_args[@]}" >"$work/dnsmasq-nanny.log" 2>&1 &
pids+=($!)
ip netns exec "$dns_ns" "$bin/sidecar" "${sidecar_args[@]}" >"$work/sidecar.log" 2>&1 &
pids+=($!)
echo "e2e: kube-dns ${kubedns_args[*]}"
echo "e2e: dnsmasq-nanny ${dnsmasq_args[*]}"
echo "e2e: sidecar ${sidecar_args[*]}"

check "kubedns readiness (GET :8081/readiness)" http_ok http://127.0.0.1:8081/readiness
check "my-nginx" resolves my-nginx "10.254.32.162"
check "kubernetes" resolves kubernetes "10.254.0.1"
check "kube-dns.kube-system.svc.cluster.local" resolves kube-dns.kube-system.svc.cluster.local "10.254.0.2"
check "a name outside the cluster, through the upstream (www.upstream.example)" resolves www.upstream.example "192.0.2.99"
check "reverse lookup of 10.254.32.162" resolves 10.254.32.162 "10.254.32.162   my-nginx.default.svc.cluster.local"
check "kubedns liveness (GET :10054/healthcheck/kubedns)" http_ok http://127.0.0.1:10054/healthcheck/kubedns
check "dnsmasq liveness (GET :10054/healthcheck/dnsmasq)" http_ok http://127.0.0.1:10054/healthcheck/dnsmasq
check "sidecar liveness (GET :10054/metrics)" http_ok http://127.0.0.1:10054/metrics

# A stub domain, served by a second dnsmasq in the DNS namespace (on another
# port: the pod's dnsmasq holds the wildcard :53), added by writing the
# ConfigMap's files the way the kubelet does.
ip netns exec "$dns_ns" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.2 \
  --port=5353 --pid-file= --conf-file=/dev/null --log-facility=- --address=/corp.example/192.0.2.77 >"$work/stub.log" 2>&1 &
pids+=($!)
for d in "${config_dirs[@]}"; do
  ts="$d/..$(date +%s%N)"
  mkdir -p "$ts"
  echo '{"corp.example": ["127.0.0.2:5353"]}' >"$ts/stubDomains"
  ln -sfn "$(basename "$ts")" "$d/..data_tmp"
  mv -T "$d/..data_tmp" "$d/..data"
  ln -sfn ..data/stubDomains "$d/stubDomains"
done
check "stub domain added through the ConfigMap (git.corp.example)" resolves git.corp.example "192.0.2.77"

# Many nodes' NodeLocal DNSCaches at once (hack/node/fanin): 64 caches, each
# forwarding over TCP with CoreDNS's connection pool, 20 queries/s for 30 s,
# to the pod's port 53 (dnsmasq with the manifest's arguments). Run once:
# every query must be answered, the 99th percentile under 100 ms.
if in_client "$bin/fanin" -server "$svc_ip:53" -caches 64 -rate 20 -duration 30s -max-p99 100ms \
  my-nginx.default.svc.cluster.local kubernetes.default.svc.cluster.local kube-dns.kube-system.svc.cluster.local >"$work/fanin.out" 2>&1; then
  echo "PASS 64 node caches over TCP to the pod's port 53: $(head -1 "$work/fanin.out")"
  passed=$((passed + 1))
else
  echo "FAIL 64 node caches over TCP to the pod's port 53: $(cat "$work/fanin.out")"
  failed=$((failed + 1))
fi

tcp_gauges() { # the sidecar shows dnsmasq's TCP connections against the limit
  local m
  m="$(in_dns curl -fsS --max-time 2 http://127.0.0.1:10054/metrics)" || return 1
  grep -qx 'kubedns_dnsmasq_tcp_connections_limit 1000' <<<"$m" && grep -q '^kubedns_dnsmasq_tcp_connections ' <<<"$m" &&
    grep -q '^kubedns_dnsmasq_tcp_accept_queue_limit ' <<<"$m" || { grep kubedns_dnsmasq_tcp <<<"$m"; return 1; }
}
check "the sidecar exports dnsmasq's TCP connections against --max-tcp-connections (1000)" tcp_gauges

# kubedns itself under the same fan-in on 10053: every query answered, and
# once the caches have closed their connections, none left open and the
# goroutines back to what they were (its idle timeout is unit-tested).
metric() { in_dns curl -fsS --max-time 2 http://127.0.0.1:10055/metrics | awk -v m="$1" '$1 == m {print $2}'; }
goroutines_before="$(metric go_goroutines)"
if in_client "$bin/fanin" -server "$svc_ip:10053" -caches 64 -rate 20 -duration 30s -max-p99 100ms \
  my-nginx.default.svc.cluster.local kubernetes.default.svc.cluster.local kube-dns.kube-system.svc.cluster.local >"$work/fanin-kubedns.out" 2>&1; then
  echo "PASS 64 node caches over TCP to kubedns's 10053: $(head -1 "$work/fanin-kubedns.out")"
  passed=$((passed + 1))
else
  echo "FAIL 64 node caches over TCP to kubedns's 10053: $(cat "$work/fanin-kubedns.out")"
  failed=$((failed + 1))
fi
idle_closed() {
  local conns goroutines
  conns="$(metric kubedns_dns_tcp_connections)" goroutines="$(metric go_goroutines)"
  [[ "$conns" == 0 && "$goroutines" -le $((goroutines_before + 2)) ]] ||
    { echo "kubedns_dns_tcp_connections $conns, go_goroutines $goroutines (before the fan-in: $goroutines_before)"; return 1; }
}
check "kubedns after the fan-in: 0 TCP connections, goroutines back to before ($goroutines_before)" idle_closed

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
