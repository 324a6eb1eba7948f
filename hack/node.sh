#!/usr/bin/env bash
# A real node on this machine, in a network namespace of its own: the
# control plane of hack/local-cluster.sh (etcd, kube-apiserver), the
# controllers and the scheduler, containerd and runc from Debian with the
# CNI bridge plugin, a kubelet and kube-proxy (iptables mode). Nothing of it
# touches the machine's network: the namespace is the node's host network
# (address NODE_IP on a veth interface, pods on a bridge, Service VIPs in
# its iptables); kubectl reaches the API server through a unix socket.
#
#   hack/node.sh up DIR      start, load the images of _output/images into
#                             containerd, wait for the node to be Ready;
#                             prints "kubeconfig: PATH" and "node netns: NAME"
#   hack/node.sh down DIR    stop everything "up DIR" started, unmount what
#                             it mounted, remove its cgroups, and the namespace
#                             (its interfaces and iptables rules with it), and
#                             the node's state: the next "up DIR" is a new
#                             node (the logs stay until then)
#   hack/node.sh env DIR     print the variables of a running node (sourceable)
#
# Needs root, the binaries of hack/build-control-plane.sh, the images of
# hack/build-images.sh, and Debian's containerd, runc,
# containernetworking-plugins, iptables, conntrack and socat.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 up|down|env DIR" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

NODE_IP=10.200.0.1
NODE_NAME=kdns-node
POD_CIDR=10.244.0.0/24
SERVICE_CIDR=10.254.0.0/16
CLUSTER_DNS=10.254.0.2
# One node per directory: the namespace and the cgroup are named after it.
id="$(printf '%s' "$dir" | sha256sum | cut -c1-8)"
ns="kdns-$id"
cgroup="kdns-$id"
cp="$dir/control-plane"
ctrd="$dir/containerd"
sock="$ctrd/containerd.sock"
images="$root/_output/images"
# The images a node runs (hack/build-images.sh): the add-on's three, the pod
# sandbox's, and the node test's (my-nginx's stand-in, the client, CoreDNS
# as NodeLocal DNSCache).
node_images=(kube-dns dnsmasq-nanny sidecar pause web client coredns)

log() { echo "node: $*" >&2; }
fail() {
  echo "node: $1${2:+ (log: $2)}" >&2
  [[ -n "${2:-}" && -f "$2" ]] && tail -n 20 "$2" >&2
  exit 1
}
# in_ns runs a command in the node's network namespace and nothing else of
# it: not "ip netns exec", whose new mount namespace remounts /sys (the
# kubelet finds no cgroup there) and keeps the mounts of what runs in it
# (containerd's, the kubelet's) from the machine's view, where down undoes them.
in_ns() { nsenter --net="/run/netns/$ns" -- "$@"; }

# start NAME CMD...: runs CMD in the background, in the node's namespace,
# logging to DIR/NAME.log, its PID in DIR/NAME.pid.
start() {
  local name="$1"; shift
  # nsenter execs the command: $! is its PID (a function or "ip netns
  # exec" in the background would leave a parent that stop could not reach
  # past).
  nsenter --net="/run/netns/$ns" -- "$@" >>"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}

# stop NAME: SIGTERM, then SIGKILL after up to 15 s.
stop() {
  local f="$dir/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# until_ok WHAT SECONDS CMD...: runs CMD every 0.2 s until it succeeds.
until_ok() {
  local what="$1" secs="$2"; shift 2
  for _ in $(seq $((secs * 5))); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

kubectl_node() { "$bin/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

node_ready() {
  [[ "$(kubectl_node get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

preflight() {
  [[ $EUID -eq 0 ]] || fail "needs root"
  local missing=()
  for t in containerd containerd-shim-runc-v2 runc ctr iptables conntrack socat ip nsenter; do
    command -v "$t" >/dev/null || missing+=("$t")
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/loopback ]] || missing+=(containernetworking-plugins)
  ((${#missing[@]} == 0)) || fail "missing ${missing[*]}: apt-get install -y containerd runc containernetworking-plugins iptables conntrack socat iproute2"
  for i in "${node_images[@]}"; do
    [[ -f "$images/$i.tar" ]] || fail "no $images/$i.tar: run make images"
  done
}

network() {
  ip netns add "$ns"
  in_ns ip link set lo up
  # The node's address, on one end of a veth pair whose other end stays in
  # the namespace too (this kernel has no dummy interfaces).
  in_ns ip link add node0 type veth peer name node0-peer
  in_ns ip addr add "$NODE_IP/32" dev node0
  in_ns ip link set node0-peer up
  in_ns ip link set node0 up
  # The Service VIPs and anything else leave through node0: locally made
  # packets need a route before kube-proxy's DNAT rewrites them.
  in_ns ip route add default dev node0
  in_ns sysctl -qw net.ipv4.ip_forward=1
  in_ns sysctl -qw net.bridge.bridge-nf-call-iptables=1
  mkdir -p "$dir/cni"
  cat >"$dir/cni/10-bridge.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "kdns",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR"}]], "routes": [{"dst": "0.0.0.0/0"}],
              "dataDir": "$dir/cni-ipam"}},
    {"type": "loopback"}
  ]
}
EOF
  # What pods with dnsPolicy Default (kube-dns) get as resolv.conf: the
  # node's own nameserver, which nothing serves here.
  echo "nameserver $NODE_IP" >"$dir/resolv.conf"
}

control_plane() {
  NODE_IP="$NODE_IP" NODE_NAME="$NODE_NAME" in_ns "$root/hack/local-cluster.sh" up "$cp" >>"$dir/control-plane.log" 2>&1 ||
    fail "starting the control plane" "$dir/control-plane.log"
  # kubectl on the machine reaches the API server through a unix socket.
  start socat-node socat UNIX-LISTEN:"$dir/api.sock",fork,mode=600 TCP:127.0.0.1:6443
  until_ok "the socket" 10 test -S "$dir/api.sock" || fail "socat did not listen" "$dir/socat-node.log"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  socat TCP-LISTEN:"$port",bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:"$dir/api.sock" >>"$dir/socat-host.log" 2>&1 &
  echo $! >"$dir/socat-host.pid"
  sed "s|server: https://127.0.0.1:6443|server: https://127.0.0.1:$port|" "$cp/kubeconfig" >"$dir/kubeconfig"
  until_ok "the API server through the socket" 20 kubectl_node get --raw /readyz || fail "kubectl cannot reach the API server" "$dir/socat-host.log"

  local admin="$cp/kubeconfig"
  start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$admin" \
    --service-account-private-key-file="$cp/sa.key" --root-ca-file="$cp/serving.crt" \
    --use-service-account-credentials=false --leader-elect=false --allocate-node-cidrs=false \
    --bind-address=127.0.0.1 --controllers='*' --v=2
  start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$admin" --leader-elect=false --bind-address=127.0.0.1 --v=2
}

containerd_up() {
  mkdir -p "$ctrd"
  local version
  version="$(tar -xOf "$images/pause.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')"
  cat >"$ctrd/config.toml" <<EOF
version = 2
root = "$ctrd/root"
state = "$ctrd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctrd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$version"
  # This sandbox forbids lowering oom_score_adj: without it every pod's
  # sandbox fails (real-node.md).
  restrict_oom_score_adj = true
  enable_unprivileged_ports = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni"
EOF
  start containerd containerd --config "$ctrd/config.toml"
  until_ok "containerd" 30 ctr --address "$sock" version || fail "containerd did not start" "$dir/containerd.log"
  for i in "${node_images[@]}"; do
    ctr --address "$sock" -n k8s.io images import "$images/$i.tar" >>"$dir/images.log" 2>&1 || fail "importing $i.tar" "$dir/images.log"
  done
}

# The kernel settings the kubelet sets at start (it sets them unless told to
# refuse to start instead): not of a namespace, so they are the machine's;
# down puts them back.
kernel_tunables=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)

kubelet_up() {
  mkdir -p "$dir/kubelet" "$dir/pod-logs"
  [[ -f "$dir/sysctl.orig" ]] || for t in "${kernel_tunables[@]}"; do echo "$t=$(sysctl -n "$t")"; done >"$dir/sysctl.orig"
  # The kubelet's cgroups are under one of this node's, in every hierarchy.
  for h in /sys/fs/cgroup/*/; do
    [[ -d "$h" && "$h" != /sys/fs/cgroup/unified/ ]] && mkdir -p "$h$cgroup"
  done
  cat >"$dir/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# cgroup v1 only here: kubelet 1.35 refuses it unless told (real-node.md).
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: /$cgroup
containerRuntimeEndpoint: unix://$sock
address: $NODE_IP
healthzBindAddress: 127.0.0.1
readOnlyPort: 0
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
clusterDNS: [$CLUSTER_DNS]
clusterDomain: cluster.local
resolvConf: $dir/resolv.conf
podLogsDir: $dir/pod-logs
failSwapOn: false
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
EOF
  start kubelet "$bin/kubelet" --config="$dir/kubelet.yaml" --kubeconfig="$cp/kubelet.kubeconfig" \
    --root-dir="$dir/kubelet" --cert-dir="$dir/kubelet/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=2
  start kube-proxy "$bin/kube-proxy" --kubeconfig="$cp/kube-proxy.kubeconfig" --hostname-override="$NODE_NAME" \
    --proxy-mode=iptables --cluster-cidr="$POD_CIDR" --bind-address="$NODE_IP" \
    --conntrack-max-per-core=0 --conntrack-tcp-timeout-established=0 --conntrack-tcp-timeout-close-wait=0 \
    --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 --v=2
  until_ok "the node" 120 node_ready || fail "the node did not become Ready" "$dir/kubelet.log"
}

# The node's state in DIR: the cluster (etcd's data, certificates and
# tokens), containerd's images, containers and snapshots, the kubelet's pods
# and volumes, the pods' addresses. down removes it, and up (for a directory
# left by an older script): a node never resumes another's life. The logs
# (the pods' in DIR/pod-logs) stay until the next up, for a post-mortem.
state=(control-plane containerd kubelet kubelet.yaml cni cni-ipam manifests kubeconfig resolv.conf api.sock)

wipe_state() {
  # Nothing may be mounted under DIR any more: a volume bind-mounted there
  # would have the machine's files under it.
  if awk -v d="$dir/" 'index($2, d) == 1 {found = 1} END {exit !found}' /proc/mounts; then
    fail "mounts left under $dir, state kept: $(awk -v d="$dir/" 'index($2, d) == 1 {printf "%s ", $2}' /proc/mounts)"
  fi
  local s
  for s in "${state[@]}"; do rm -rf "${dir:?}/$s"; done
}

up() {
  [[ ! -f "$dir/env" ]] || fail "a node is running in $dir (run: $0 down $dir)"
  # An up that failed half-way leaves processes and the namespace.
  local f
  for f in "$dir"/*.pid "$cp"/*.pid; do
    if [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; then
      fail "$(basename "$f" .pid) of an earlier node still runs (run: $0 down $dir)"
    fi
  done
  if [[ -e "/run/netns/$ns" ]]; then
    fail "network namespace $ns of an earlier node is left (run: $0 down $dir)"
  fi
  preflight
  wipe_state
  rm -rf "$dir"/*.log "$dir"/*.pid "$dir/pod-logs"
  bin="$("$root/hack/build-control-plane.sh")"
  log "network namespace $ns, node $NODE_NAME at $NODE_IP"
  network
  control_plane
  log "control plane up; containerd"
  containerd_up
  log "kubelet and kube-proxy"
  kubelet_up
  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/kubeconfig
KUBECTL=$bin/kubectl
NODE_NETNS=$ns
NODE_IP=$NODE_IP
NODE_NAME=$NODE_NAME
CONTAINERD_SOCK=$sock
EOF
  echo "kubeconfig: $dir/kubeconfig"
  echo "node netns: $ns"
}

# pod_netns prints the network namespaces containerd made for the pods.
pod_netns() {
  [[ -S "$sock" ]] || return 0
  local c
  for c in $(ctr --address "$sock" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io containers info "$c" 2>/dev/null | python3 -c '
import json, sys
spec = json.load(sys.stdin).get("Spec") or {}
for n in (spec.get("linux") or {}).get("namespaces") or []:
    if n.get("type") == "network" and n.get("path", "").startswith("/var/run/netns/"):
        print(n["path"].rsplit("/", 1)[1])'
  done | sort -u
}

# forget_cni removes what the CNI library cached in /var/lib/cni/results
# for this node's pods, whose networks containerd could not tear down: the
# results of the bridge network (its host-local data directory is this
# node's) and of the loopback, by sandbox.
forget_cni() {
  local results=/var/lib/cni/results id
  [[ -d "$results" ]] || return 0
  for id in $(python3 - "$results" "$dir/cni-ipam" <<'PY'
import base64, glob, json, os, sys
results, ipam = sys.argv[1], sys.argv[2]
for path in glob.glob(os.path.join(results, "kdns-*")):
    try:
        with open(path) as f:
            c = json.load(f)
        if json.dumps(ipam) in base64.b64decode(c["config"]).decode():
            print(c["containerId"])
    except (OSError, ValueError, KeyError):
        pass
PY
  ); do
    rm -f "$results/kdns-$id-"* "$results/cni-loopback-$id-"*
  done
  rmdir "$results" /var/lib/cni 2>/dev/null || true
}

# forget_runtime removes what this node's containers leave outside DIR when
# killed: the shims' sockets in /run/containerd/s (named by the hash of
# containerd's socket, the namespace and the sandbox or container), runc's
# state of each container in /run/containerd/runc/k8s.io (its bundle is in
# DIR); and what the kubelet makes at fixed paths whatever its root
# directory, when no other kubelet runs: the device plugins' socket, and
# /var/lib/kubelet and /var/log/containers if that leaves them empty.
forget_runtime() {
  local t id runc=/run/containerd/runc/k8s.io
  for t in "$ctrd/state/io.containerd.runtime.v2.task/k8s.io"/*/; do
    [[ -d "$t" ]] || continue
    id="$(basename "$t")"
    rm -f "/run/containerd/s/$(printf '%s' "$sock/k8s.io/$id" | sha256sum | cut -d' ' -f1)"
  done
  for t in "$runc"/*/state.json; do
    if [[ -f "$t" ]] && grep -qF "\"bundle=$ctrd/" "$t"; then rm -rf "$(dirname "$t")"; fi
  done
  rmdir "$runc" /run/containerd/runc /run/containerd/s /run/containerd 2>/dev/null || true
  if ! pgrep -x kubelet >/dev/null; then
    rm -f /var/lib/kubelet/device-plugins/kubelet.sock
    rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers 2>/dev/null || true
  fi
}

# kill_pods kills every process in the node's cgroups: the pods'.
kill_pods() {
  local f p
  for _ in $(seq 20); do
    local left=0
    for f in $(find "/sys/fs/cgroup/pids/$cgroup" -name cgroup.procs 2>/dev/null); do
      for p in $(cat "$f" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; left=1; done
    done
    ((left)) || return 0
    sleep 0.2
  done
}

down() {
  # The kubelet first, so that nothing starts pods again; then the pods,
  # whose network namespaces containerd knows; then containerd and the
  # shims it leaves behind.
  stop kubelet
  local netns
  netns="$(pod_netns)"
  kill_pods
  stop kube-proxy
  stop containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null || true
  stop kube-scheduler
  stop kube-controller-manager
  stop socat-host
  stop socat-node
  if [[ -d "$cp" ]]; then
    "$root/hack/local-cluster.sh" down "$cp" >/dev/null 2>&1 || true
  fi
  local n
  for n in $netns; do ip netns delete "$n" 2>/dev/null || true; done
  forget_cni
  # Mounts under DIR (containerd's snapshots and sandboxes, the kubelet's
  # volumes), deepest first.
  local m
  for m in $(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  # The kubelet's cgroups, deepest first, in every hierarchy.
  for c in /sys/fs/cgroup/*/"$cgroup"; do
    [[ -d "$c" ]] || continue
    find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # The log links the kubelet makes in /var/log/containers for this node's pods.
  find /var/log/containers -maxdepth 1 -type l -lname "$dir/*" -delete 2>/dev/null || true
  forget_runtime
  if [[ -e "/run/netns/$ns" ]]; then
    ip netns delete "$ns"
  fi
  if [[ -f "$dir/sysctl.orig" ]]; then
    sysctl -qw $(cat "$dir/sysctl.orig") || true
    rm -f "$dir/sysctl.orig"
  fi
  # The control plane's logs stay with the node's.
  local l
  for l in "$cp"/*.log; do
    if [[ -f "$l" ]]; then mv "$l" "$dir/"; fi
  done
  wipe_state
  rm -f "$dir/env"
  echo "node down: $dir"
}

case "$cmd" in
up) up ;;
down) down ;;
env) cat "$dir/env" ;;
*) echo "usage: $0 up|down|env DIR" >&2; exit 2 ;;
esac
