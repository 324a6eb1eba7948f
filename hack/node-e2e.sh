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

cleanup() {
  set +e
  trap - EXIT INT TERM
  [[ -n "${load_pid:-}" ]] && kill "$load_pid" 2>/dev/null
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
  --bind-interfaces --address=/git.corp.example/10.9.9.9 --pid-file= >"$work/upstream.log" 2>&1 &
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

# 7. Two replicas, then a rolling restart under ~200 lookups/s through the VIP.
k -n kube-system scale deployment/kube-dns --replicas=2 >/dev/null
two_ready() { [[ "$(k -n kube-system get deployment kube-dns -o jsonpath='{.status.readyReplicas}')" == 2 ]]; }
check "kubectl scale to 2 replicas: both Ready" 120 two_ready
k exec client -- /dnsload -rate 200 -duration 60s my-nginx kubernetes kube-dns.kube-system >"$work/dnsload.out" 2>&1 &
load_pid=$!
sleep 5 # the load runs before the restart begins
k -n kube-system rollout restart deployment/kube-dns >/dev/null
check "kubectl rollout restart deployment/kube-dns: done" 120 k -n kube-system rollout status deployment/kube-dns --timeout=5s
wait "$load_pid" && load_ok=1 || load_ok=0
load_pid=""
summary="$(head -1 "$work/dnsload.out")"
if [[ "$load_ok" == 1 ]]; then pass "zero failed lookups through the rollout ($summary)"; else flunk "zero failed lookups through the rollout" "$(cat "$work/dnsload.out")"; fi

# 8. The autoscaler's manifest is accepted and its RBAC is enough for what
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
