#!/usr/bin/env bash
# The walkthrough, as users run it: our images under a real kubelet
# (hack/node.sh), the add-on created with kubectl from the rendered
# manifest, and glibc's resolver in a client pod resolving through the
# Service VIP (kube-proxy) → dnsmasq → kubedns. Prints PASS/FAIL lines and
# "N passed, N failed"; exits 1 on any failure. Needs root; make node-test
# builds what it needs first. Bounded: every wait has a deadline, the whole
# run takes about five minutes; the node is taken down at the end.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REGISTRY="${REGISTRY:-kubedns-go}"
VERSION="${VERSION:-$(git -C "$root" describe --tags --always --dirty 2>/dev/null || echo v0.0.0-dev)}"
work="$(mktemp -d /tmp/kubedns-node.XXXXXX)"
node="$work/node"
passed=0 failed=0
watchers=() burners=()

cleanup() {
  set +e
  trap - EXIT INT TERM
  [[ -n "${load_pid:-}" ]] && kill $load_pid 2>/dev/null
  ((${#watchers[@]})) && kill "${watchers[@]}" 2>/dev/null
  ((${#burners[@]})) && kill "${burners[@]}" 2>/dev/null
  [[ -n "${upstream_pid:-}" ]] && kill "$upstream_pid" 2>/dev/null
  "$root/hack/node.sh" down "$node" >/dev/null
  if [[ "$failed" -ne 0 || -n "${KEEP_LOGS:-}" ]]; then
    echo "node-e2e: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS $1"; passed=$((passed + 1)); }
flunk() { echo "FAIL $1: $2"; failed=$((failed + 1)); }

# check NAME SECONDS CMD...: passes when CMD succeeds within SECONDS.
check() {
  local name="$1" deadline=$((SECONDS + $2)) out=""
  shift 2
  while ((SECONDS < deadline)); do
    if out="$("$@" 2>&1)"; then pass "$name"; return 0; fi
    sleep 0.5
  done
  flunk "$name" "$out"
  return 1
}

echo "node-e2e: bringing the node up ($node)"
"$root/hack/node.sh" up "$node" >"$work/node-up.log" 2>&1 || { cat "$work/node-up.log"; exit 1; }
eval "$("$root/hack/node.sh" env "$node" | sed 's/^/export /')"
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG" "$@"; }
in_node() { nsenter --net="/run/netns/$NODE_NETNS" -- "$@"; }
pass "node $NODE_NAME Ready (kubelet, containerd, kube-proxy, controllers, scheduler in netns $NODE_NETNS)"

# getent NAME WANT: glibc's getent in the client pod prints WANT first.
getent_is() {
  local got
  got="$(k exec client -- getent hosts "$1")" || { echo "getent hosts $1 failed"; return 1; }
  [[ "$got" == "$2"* ]] || { echo "getent hosts $1: $got (want $2…)"; return 1; }
}

# 1. The add-on, rendered with our images, created as the walkthrough does.
DNS_SERVER_IP=10.254.0.2 DNS_DOMAIN=cluster.local VERSION="$VERSION" \
  "$root/hack/render-manifests.sh" "$work/manifests" >/dev/null
check "kubectl create -f kube-dns.yaml" 10 k create -f "$work/manifests/kube-dns.yaml"

# 2. Running and Ready, all three containers; the kubelet's probes pass.
dns_ready() {
  local ready
  ready="$(k -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{.status.containerStatuses[*].ready}{"\n"}{end}')"
  [[ "$ready" == "true true true" ]] || { echo "containers ready: ${ready:-none}"; k -n kube-system get pods -o wide; return 1; }
}
check "kube-dns pod Running and Ready, 3/3 containers (readiness :8081/readiness)" 120 dns_ready
# kubedns found its container's memory limit (170Mi, the manifest's
# default) in its cgroup and set the Go runtime's limit to 90% of it.
memlimit_logged() {
  k -n kube-system logs deploy/kube-dns -c kubedns | grep -F 'containerLimit=178257920 goMemoryLimit=160432128'
}
check "kubedns set its Go memory limit from its container's 170Mi (153 MiB)" 10 memlimit_logged

# 3. my-nginx, its EndpointSlice from the real controller; the client pod.
sed -e "s|__REGISTRY__|$REGISTRY|g" -e "s|__VERSION__|$VERSION|g" "$root/hack/node/testdata/walkthrough.yaml.in" >"$work/walkthrough.yaml"
k apply -f "$work/walkthrough.yaml" >/dev/null
slice_ready() {
  local n
  n="$(k get endpointslices -l kubernetes.io/service-name=my-nginx -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}x{end}')"
  [[ "$n" == xx ]] || { echo "ready endpoints of my-nginx: ${n:-none}"; return 1; }
}
check "my-nginx's EndpointSlice, two ready endpoints, by the endpointslice controller" 90 slice_ready
check "client pod Running" 60 k wait --for=condition=Ready pod/client --timeout=2s

# 4. glibc through the VIP.
resolv_conf() {
  local got
  got="$(k exec client -- cat /etc/resolv.conf)" || return 1
  [[ "$got" == *"nameserver 10.254.0.2"* && "$got" == *"search default.svc.cluster.local svc.cluster.local cluster.local"* && "$got" == *"ndots:5"* ]] ||
    { echo "$got"; return 1; }
}
check "the resolv.conf the kubelet wrote (10.254.0.2, the search list, ndots:5)" 10 resolv_conf
check "my-nginx" 30 getent_is my-nginx 10.254.32.162
check "kubernetes" 30 getent_is kubernetes 10.254.0.1
check "kube-dns.kube-system.svc.cluster.local" 30 getent_is kube-dns.kube-system.svc.cluster.local 10.254.0.2
reverse_is() { local got; got="$(k exec client -- getent hosts 10.254.32.162)" && [[ "$got" == *" my-nginx.default.svc.cluster.local"* ]] || { echo "getent hosts 10.254.32.162: $got"; return 1; }; }
check "reverse lookup of 10.254.32.162" 30 reverse_is
k create service clusterip late --tcp=80:80 >/dev/null
late_ip="$(k get service late -o jsonpath='{.spec.clusterIP}')"
check "a Service created afterwards (late → $late_ip)" 30 getent_is late "$late_ip"
check "my-nginx answers HTTP through its VIP" 30 in_node curl -fsS --max-time 2 http://10.254.32.162/

# 5. A stub domain, by kubectl apply of the ConfigMap: the kubelet's
# volume (its ..data swap) brings it to dnsmasq, without a restart.
nsenter --net="/run/netns/$NODE_NETNS" -- /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --port=5353 --listen-address="$NODE_IP" \
  --bind-interfaces --address=/git.corp.example/10.9.9.9 --address=/outside.example/10.9.9.8 --pid-file= >"$work/upstream.log" 2>&1 &
upstream_pid=$!
restarts() { k -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{range .items[*]}{range .status.containerStatuses[*]}{.restartCount} {end}{end}'; }
before="$(restarts)"
k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: ConfigMap
metadata:
  name: kube-dns
  namespace: kube-system
data:
  stubDomains: |
    {"corp.example": ["$NODE_IP:5353"]}
EOF
check "stub domain added with kubectl apply of the ConfigMap (git.corp.example)" 120 getent_is git.corp.example 10.9.9.9
[[ "$(restarts)" == "$before" ]] && pass "no container restarted for the ConfigMap change ($before)" ||
  flunk "no container restarted for the ConfigMap change" "restarts $before → $(restarts)"

# The kube-dns pod, its IP and its dnsmasq.
pod="$(k -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[0].metadata.name}')"
podip="$(k -n kube-system get pod "$pod" -o jsonpath='{.status.podIP}')"
dnsmasq_pid() { # the dnsmasq whose parent is this pod's nanny
  local p uid
  uid="$(k -n kube-system get pod "$pod" -o jsonpath='{.metadata.uid}')"
  for p in $(pgrep -x dnsmasq); do
    if [[ "$(cat "/proc/$(awk '{print $4}' "/proc/$p/stat")/comm" 2>/dev/null)" == dnsmasq-nanny ]] &&
      grep -q "pod$uid" "/proc/$p/cgroup" 2>/dev/null; then
      echo "$p"
    fi
  done
  return 0
}
# The probes, before dnsmasq is killed on purpose (its liveness may then
# fail once, by design): past their initial delay (60 s), the kubelet's
# liveness probes pass and no container restarted.
age_past() {
  local start
  start="$(k -n kube-system get pod "$pod" -o jsonpath='{.status.startTime}')"
  (( $(date +%s) - $(date -d "$start" +%s) >= 75 )) || { echo "pod is younger than 75 s"; return 1; }
}
check "kube-dns pod older than its probes' initial delay" 120 age_past
[[ "$(restarts)" == "$before" ]] && pass "0 restarts after the probes' initial delays ($(restarts))" ||
  flunk "0 restarts after the probes' initial delays" "$(restarts)"
unhealthy="$(k -n kube-system get events --field-selector reason=Unhealthy -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -i liveness || true)"
[[ -z "$unhealthy" ]] && pass "no liveness probe failed" || flunk "no liveness probe failed" "$unhealthy"
check "liveness /healthcheck/kubedns 200" 10 in_node curl -fsS --max-time 2 "http://$podip:10054/healthcheck/kubedns"
check "liveness /healthcheck/dnsmasq 200" 10 in_node curl -fsS --max-time 2 "http://$podip:10054/healthcheck/dnsmasq"

# 6. dnsmasq killed inside the pod: the nanny restarts it, the pod stays.
old="$(dnsmasq_pid | head -1)"
if [[ -n "$old" ]]; then
  kill -KILL "$old"
  restarted() { local p; p="$(dnsmasq_pid | head -1)"; [[ -n "$p" && "$p" != "$old" ]] || { echo "no new dnsmasq"; return 1; }; }
  check "dnsmasq killed: the nanny starts a new one" 30 restarted
  check "dnsmasq answers again (getent my-nginx)" 30 getent_is my-nginx 10.254.32.162
else
  flunk "dnsmasq killed" "no dnsmasq of pod $pod found"
fi
[[ "$(restarts)" == "$before" ]] && pass "no container restarted when dnsmasq was killed ($(restarts))" ||
  flunk "no container restarted when dnsmasq was killed" "restarts $before → $(restarts)"

# 7. NodeLocal DNSCache in front (hack/node/testdata/nodelocaldns.yaml.in:
# the add-on as Kubernetes ships it, CoreDNS as its image): a pod whose
# nameserver is the node's cache resolves cluster names, which the cache
# forwards over TCP to kube-dns-upstream, the reverse zone, the stub domain
# and an outside name. The link-local address goes on the node's loopback,
# as node-cache would put it on a dummy interface.
in_node ip addr add 169.254.20.10/32 dev lo
sed -e "s|__REGISTRY__|$REGISTRY|g" -e "s|__VERSION__|$VERSION|g" -e "s|__UPSTREAM__|$NODE_IP:5353|g" \
  -e "s|__STUB__|$NODE_IP:5353|g" -e "s|__STUB_DOMAIN__|corp.example|g" \
  "$root/hack/node/testdata/nodelocaldns.yaml.in" >"$work/nodelocaldns.yaml"
check "kubectl apply -f nodelocaldns.yaml (kube-dns-upstream, the Corefile, the DaemonSet, a client behind it)" 10 \
  k apply -f "$work/nodelocaldns.yaml"
check "NodeLocal DNSCache Ready on the node" 120 k -n kube-system rollout status daemonset/node-local-dns --timeout=5s
check "client-nodelocal pod Running" 60 k wait --for=condition=Ready pod/client-nodelocal --timeout=2s
local_is() {
  local got
  got="$(k exec client-nodelocal -- getent hosts "$1")" || { echo "getent hosts $1 failed"; return 1; }
  [[ "$got" == "$2"* ]] || { echo "getent hosts $1: $got (want $2…)"; return 1; }
}
check "through NodeLocal DNSCache: my-nginx" 30 local_is my-nginx 10.254.32.162
check "through NodeLocal DNSCache: kube-dns.kube-system.svc.cluster.local" 30 local_is kube-dns.kube-system.svc.cluster.local 10.254.0.2
local_reverse() { local got; got="$(k exec client-nodelocal -- getent hosts 10.254.32.162)" && [[ "$got" == *" my-nginx.default.svc.cluster.local"* ]] || { echo "getent hosts 10.254.32.162: $got"; return 1; }; }
check "through NodeLocal DNSCache: reverse lookup of 10.254.32.162" 30 local_reverse
check "through NodeLocal DNSCache: the stub domain (git.corp.example)" 30 local_is git.corp.example 10.9.9.9
check "through NodeLocal DNSCache: an outside name through the upstream (outside.example)" 30 local_is outside.example 10.9.9.8
over_tcp() { # the cache's forward reached kube-dns-upstream over TCP, never UDP
  local m
  m="$(in_node curl -fsS --max-time 2 "http://$NODE_IP:9253/metrics")" || return 1
  grep -q 'coredns_proxy_conn_cache_misses_total{proto="tcp",proxy_name="forward",to="10.254.0.10:53"}' <<<"$m" &&
    ! grep -q 'coredns_proxy_conn_cache_misses_total{proto="udp",proxy_name="forward",to="10.254.0.10:53"}' <<<"$m" ||
    { grep 'coredns_proxy_conn_cache' <<<"$m"; return 1; }
}
check "NodeLocal DNSCache forwarded cluster names to kube-dns-upstream over TCP only" 10 over_tcp

# 8. Two replicas behind many nodes' caches: 64 caches forwarding over TCP
# as CoreDNS does (hack/node/fanin), 20 queries/s each, steady and then
# through a rolling restart, beside Go's resolver looking names up 200 times
# a second through the VIP; nothing may fail. The latency is reported, not
# bounded: on a node as busy as CI's (load average 20 on 2 cores) p99 went
# to 175 ms through a rollout with nothing lost, and a wall-clock bound in a
# test fails with the machine, not the product.
k -n kube-system scale deployment/kube-dns --replicas=2 >/dev/null
two_ready() { [[ "$(k -n kube-system get deployment kube-dns -o jsonpath='{.status.readyReplicas}')" == 2 ]]; }
check "kubectl scale to 2 replicas: both Ready" 120 two_ready
# fanin SECONDS: the load, its flags before the names (Go's flag package
# takes what follows the first name as names).
fanin() {
  k exec client -- /fanin -server 10.254.0.10:53 -caches 64 -rate 20 -duration "$1s" \
    my-nginx.default.svc.cluster.local kubernetes.default.svc.cluster.local kube-dns.kube-system.svc.cluster.local
}
if fanin 30 >"$work/fanin.out" 2>&1; then
  pass "64 node caches over TCP to 2 replicas: 0 failed ($(head -1 "$work/fanin.out"))"
else
  flunk "64 node caches over TCP to 2 replicas: 0 failed" "$(cat "$work/fanin.out")"
fi
# rollout LABEL SECONDS: a rolling restart while the loads run; each must
# lose nothing.
# Evidence for a rollout, kept in $work when the test fails: the pods and the
# kube-dns EndpointSlices as they change, with times, every container's log
# of the pods that roll away (the kubelet deletes them with the pods), and
# the node's conntrack events: every UDP flow to the VIP (which pod it went
# to; kube-proxy's deletions are marked USERSPACE), and every packet from a
# pod's port 53 that conntrack saw as a new flow — a reply whose flow's
# entry kube-proxy deleted while the query was on its way, which therefore
# reaches the client from the pod's address, not the VIP's, and is dropped
# by the client's socket ("orphaned").
ts() { while IFS= read -r line; do printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$line"; done; }
slices() { # kubectl's JSON watch of the EndpointSlices, a line per change
  python3 -u -c '
import datetime, json, sys
buf = []
for line in sys.stdin:
    buf.append(line)
    if line.rstrip() != "}":
        continue
    try:
        obj = json.loads("".join(buf))
    except ValueError:
        continue
    buf = []
    eps = obj.get("endpoints") or []
    print(datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3], " ".join(
        "%s ready=%s serving=%s terminating=%s;" % (e["addresses"][0], e["conditions"].get("ready"),
        e["conditions"].get("serving"), e["conditions"].get("terminating")) for e in eps))'
}
watch_rollout() {
  local label="$1" p
  watchers=()
  k -n kube-system get pods -l k8s-app=kube-dns -w -o wide 2>&1 | ts >"$work/$label-pods.log" &
  watchers+=($!)
  k -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns -w -o json 2>&1 | slices >"$work/$label-endpoints.log" &
  watchers+=($!)
  for p in $(k -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[*].metadata.name}'); do
    k -n kube-system logs -f --timestamps --all-containers --prefix "pod/$p" >"$work/$label-$p.log" 2>&1 &
    watchers+=($!)
  done
  nsenter --net="/run/netns/$NODE_NETNS" -- conntrack -E -b 134217728 -p udp --orig-dst 10.254.0.2 --orig-port-dst 53 -o timestamp \
    >"$work/$label-conntrack.log" 2>&1 &
  watchers+=($!)
  nsenter --net="/run/netns/$NODE_NETNS" -- conntrack -E -b 8388608 -e NEW -p udp --orig-port-src 53 -o timestamp \
    >"$work/$label-orphans.log" 2>&1 &
  watchers+=($!)
}
client_ip="$(k get pod client -o jsonpath='{.status.podIP}')"
# lost LABEL OUT: judges dnsload's output OUT for the rollout LABEL. It
# prints "lookups failed orphaned" — orphaned: the failed lookups that
# began at most 5 s before an orphaned reply reached the client — and fails
# when a lookup failed otherwise (or dnsload did not report).
lost() {
  local label="$1" out="$2"
  awk -v client="$client_ip" '
    FILENAME == ARGV[1] {
      if ($0 ~ /\[NEW\]/ && $0 ~ ("dst=" client " ") && $0 ~ / sport=53 /) { gsub(/[][]/, "", $1); orphan[++n] = $1 + 0 }
      next
    }
    /^lookups / { total = $2; failed = $6; seen = 1 }
    / began .*\([0-9]+\.[0-9]+\)/ {
      match($0, /\([0-9]+\.[0-9]+\)/); t = substr($0, RSTART + 1, RLENGTH - 2) + 0; listed++
      for (i = 1; i <= n; i++) if (orphan[i] >= t - 0.01 && orphan[i] <= t + 5.5) { explained++; break }
    }
    END {
      if (!seen) { print "no report"; exit 1 }
      printf "%d %d %d\n", total, failed, explained
      exit (failed > explained)
    }' "$work/$label-orphans.log" "$out"
}
# conntrack_summary LABEL: the flows to the VIP, kube-proxy's deletions by the
# pod the flows went to, the orphaned replies and what conntrack -E lost.
conntrack_summary() {
  local f="$work/$1-conntrack.log"
  echo "conntrack: $(grep -c '\[NEW\]' "$f") flows to the VIP; kube-proxy deleted $(awk '/USERSPACE/ {split($0, a, "src="); ip = a[3]; sub(/ .*/, "", ip); c[ip]++} END {for (ip in c) printf "%d to %s, ", c[ip], ip}' "$f")orphaned replies $(grep -c "dst=$client_ip " "$work/$1-orphans.log"), events lost $(grep -c ENOBUFS "$f" "$work/$1-orphans.log" | awk -F: '{s += $2} END {print s + 0}')"
}
# judge NAME LABEL OUT: passes when no lookup failed, or when each one that
# did is explained by an orphaned reply (kube-proxy deleted its flow's
# conntrack entry while the query was on its way to a pod still answering:
# the platform's loss, README.md), and says which.
judge() {
  local name="$1" label="$2" out="$3" r total lookups_failed orphaned
  if r="$(lost "$label" "$out")"; then
    read -r total lookups_failed orphaned <<<"$r"
    if ((lookups_failed == 0)); then
      pass "$name: $total lookups, 0 failed ($(head -1 "$out"))"
    else
      pass "$name: $total lookups, $lookups_failed failed, each after its reply was orphaned by kube-proxy's conntrack cleanup, 0 otherwise ($(head -1 "$out"))"
    fi
  else
    flunk "$name: every lookup answered, or lost to kube-proxy's conntrack cleanup" "$(cat "$out"); $r; $(conntrack_summary "$label")"
  fi
}
# rollout LABEL SECONDS [busy]: a rolling restart of kube-dns while the client
# pod looks names up at 200/s through Go's resolver and either 64 node caches
# ask over TCP or (busy) glibc's resolver looks up at 200/s too.
rollout() {
  local label="$1" secs="$2" busy="${3:-}" pids=()
  watch_rollout "$label"
  k exec client -- /dnsload -rate 200 -duration "${secs}s" my-nginx kubernetes kube-dns.kube-system >"$work/dnsload-$label.out" 2>&1 &
  pids+=($!)
  if [[ -n "$busy" ]]; then
    k exec client -- /dnsload -libc -rate 200 -duration "${secs}s" my-nginx kubernetes kube-dns.kube-system >"$work/dnsload-libc-$label.out" 2>&1 &
  else
    fanin "$secs" >"$work/fanin-$label.out" 2>&1 &
  fi
  pids+=($!)
  load_pid="${pids[*]}"
  sleep 5 # the loads run before the restart begins
  k -n kube-system rollout restart deployment/kube-dns >/dev/null
  check "kubectl rollout restart deployment/kube-dns ($label): done" 120 k -n kube-system rollout status deployment/kube-dns --timeout=5s
  wait "${pids[0]}" || true # judged from its report
  if [[ -n "$busy" ]]; then
    wait "${pids[1]}" || true
  elif wait "${pids[1]}"; then
    pass "$label: 64 node caches over TCP through the rollout, 0 failed ($(head -1 "$work/fanin-$label.out"))"
  else
    flunk "$label: 64 node caches over TCP through the rollout, 0 failed" "$(cat "$work/fanin-$label.out")"
  fi
  load_pid=""
  kill "${watchers[@]}" 2>/dev/null
  watchers=()
  judge "$label: Go's resolver through the rollout" "$label" "$work/dnsload-$label.out"
  [[ -z "$busy" ]] || judge "$label: glibc's resolver through the rollout" "$label" "$work/dnsload-libc-$label.out"
  echo "  $label: $(conntrack_summary "$label"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
rollout "2 replicas" 60

# 9. Three replicas answer alike: every name from every replica's kubedns
# (10053) and dnsmasq (53) the same; then a rollout of three loses nothing.
k -n kube-system scale deployment/kube-dns --replicas=3 >/dev/null
three_ready() { [[ "$(k -n kube-system get deployment kube-dns -o jsonpath='{.status.readyReplicas}')" == 3 ]]; }
check "kubectl scale to 3 replicas: all Ready" 120 three_ready
answers() { # IP PORT: the sorted answers to a fixed set of questions
  local q
  for q in "my-nginx.default.svc.cluster.local A" "kubernetes.default.svc.cluster.local A" "late.default.svc.cluster.local A" \
    "_dns._udp.kube-dns.kube-system.svc.cluster.local SRV" "_https._tcp.kubernetes.default.svc.cluster.local SRV" \
    "162.32.254.10.in-addr.arpa PTR" "kube-dns-upstream.kube-system.svc.cluster.local A" "nothing.default.svc.cluster.local A"; do
    echo "$q: $(in_node dig +tcp +time=2 +tries=1 @"$1" -p "$2" $q | awk '/status:/ {print $6} /^[^;]/ && NF {print $1, $4, $5}' | sort | tr '\n' ' ')"
  done
}
alike() {
  local ips ip ref="" got
  ips="$(k -n kube-system get pods -l k8s-app=kube-dns --field-selector=status.phase=Running -o jsonpath='{.items[*].status.podIP}')"
  [[ "$(wc -w <<<"$ips")" == 3 ]] || { echo "pod IPs: $ips"; return 1; }
  for ip in $ips; do
    for port in 10053 53; do
      got="$(answers "$ip" "$port")"
      [[ -n "$ref" ]] || { ref="$got"; echo "$got" >"$work/answers.txt"; }
      [[ "$got" == "$ref" ]] || { echo "$ip:$port answers"; echo "$got"; echo "unlike the first replica's"; echo "$ref"; return 1; }
    done
  done
}
check "3 replicas, kubedns and dnsmasq each, give the same answers to 8 questions" 30 alike
rollout "3 replicas" 60

# 10. Rollouts on a busy node: back to two replicas, then five rolling
# restarts in a row while two busy loops (bounded: killed after the last
# rollout, or ended by timeout after 15 minutes) keep both CPUs taken, and
# the client pod looks names up at 200/s through Go's resolver and at 200/s
# through glibc's: nothing may be lost but what kube-proxy's conntrack
# cleanup orphans (judge, above).
k -n kube-system scale deployment/kube-dns --replicas=2 >/dev/null
check "kubectl scale back to 2 replicas: both Ready" 120 two_ready
burners=()
for _ in 1 2; do
  timeout 900 sh -c 'while :; do :; done' &
  burners+=($!)
done
for i in 1 2 3 4 5; do
  rollout "busy node, rollout $i of 5" 60 busy
done
kill "${burners[@]}" 2>/dev/null
wait "${burners[@]}" 2>/dev/null || true # killed: 143
burners=()

# 11. The autoscaler's manifest is accepted and its RBAC is enough for what
# the cluster-proportional-autoscaler does; its image cannot be pulled here.
check "kubectl apply -f dns-horizontal-autoscaler.yaml" 10 k apply -f "$work/manifests/dns-horizontal-autoscaler.yaml"
can() { [[ "$(k auth can-i "$@" --as=system:serviceaccount:kube-system:kube-dns-autoscaler)" == yes ]]; }
can_nodes() { can list nodes && can watch nodes; }
can_scale() { can get deployments.apps/kube-dns --subresource=scale -n kube-system && can update deployments.apps/kube-dns --subresource=scale -n kube-system; }
can_params() { can get configmaps/kube-dns-autoscaler -n kube-system; }
check "the autoscaler may list and watch nodes" 10 can_nodes
check "the autoscaler may get and update kube-dns's scale" 10 can_scale
check "the autoscaler may read its ConfigMap" 10 can_params
autoscaler="$(k -n kube-system get pods -l k8s-app=kube-dns-autoscaler -o jsonpath='{.items[*].status.containerStatuses[*].state.waiting.reason}' 2>/dev/null)"
echo "note: the autoscaler's image (registry.k8s.io/cpa/cluster-proportional-autoscaler) cannot be pulled here: its pod is ${autoscaler:-pending}"

echo "$passed passed, $failed failed"
((failed == 0))
