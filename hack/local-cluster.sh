#!/usr/bin/env bash
# A real control plane on loopback: etcd and kube-apiserver, no controllers.
#
#   hack/local-cluster.sh up DIR     start (building the binaries first if needed);
#                                     writes DIR/kubeconfig and DIR/env, reuses DIR/etcd data
#   hack/local-cluster.sh down DIR   stop exactly the processes "up DIR" started
#   hack/local-cluster.sh apiserver-stop DIR / apiserver-start DIR
#                                     stop or start only kube-apiserver, on the same port
#                                     (tests of an API server outage)
#
# When DIR/audit-policy.yaml exists, kube-apiserver writes the audit events
# it selects to DIR/audit.log (the benchmark harness counts the lists of a
# relist that way).
#
# With NODE_IP set (hack/node.sh runs it so, inside the node's network
# namespace) the control plane is a node's: kube-apiserver listens on every
# address at port 6443, advertises NODE_IP (default/kubernetes gets it as
# its endpoint), runs the ServiceAccount admission and the Node authorizer,
# and its certificate names NODE_IP and the kubernetes Service; the tokens
# file also holds the kubelet's and kube-proxy's.
#
# Ports are free loopback ports picked at start. The service range is
# 10.254.0.0/16 (so default/kubernetes is 10.254.0.1, as in the walkthrough)
# plus fd00:10:254::/108 for dual-stack Services. Tokens in DIR/tokens.csv:
# "admin" (system:masters) and "kube-dns" (the kube-system/kube-dns service
# account, which has only what RBAC grants it).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cmd="${1:-}"
dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || { echo "usage: $0 up|down|apiserver-stop|apiserver-start DIR" >&2; exit 2; }
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

stop_pid() { # name: sends SIGTERM, waits up to 15s, then SIGKILL
  local f="$dir/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null && grep -q "$1" "/proc/$pid/cmdline" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  stop_pid kube-apiserver
  stop_pid etcd
  echo "stopped the control plane in $dir"
}

fail() {
  echo "local-cluster: $1 (log: $2)" >&2
  tail -n 15 "$2" >&2 || true
  down >/dev/null
  exit 1
}

up() {
  if [[ -f "$dir/kube-apiserver.pid" ]] && kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null; then
    echo "a control plane is already running in $dir (run: $0 down $dir)" >&2
    exit 1
  fi
  local bin
  bin="$("$root/hack/build-control-plane.sh")"

  # Credentials, made once per directory.
  local san="IP:127.0.0.1,DNS:localhost"
  if [[ -n "${NODE_IP:-}" ]]; then
    san+=",IP:$NODE_IP,IP:10.254.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  fi
  if [[ ! -f "$dir/serving.crt" ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=127.0.0.1" \
      -addext "subjectAltName=$san" \
      -keyout "$dir/serving.key" -out "$dir/serving.crt" 2>"$dir/openssl.log" || fail "making the serving certificate" "$dir/openssl.log"
    openssl genrsa -out "$dir/sa.key" 2048 2>>"$dir/openssl.log" || fail "making the service-account key" "$dir/openssl.log"
    openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>>"$dir/openssl.log" || fail "making the service-account key" "$dir/openssl.log"
    {
      echo "admin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' '),admin,admin,\"system:masters\""
      echo "kube-dns-$(od -An -N8 -tx8 /dev/urandom | tr -d ' '),system:serviceaccount:kube-system:kube-dns,kube-dns,\"system:serviceaccounts,system:serviceaccounts:kube-system\""
      if [[ -n "${NODE_IP:-}" ]]; then
        echo "kubelet-$(od -An -N8 -tx8 /dev/urandom | tr -d ' '),system:node:${NODE_NAME:-kdns-node},kubelet,\"system:nodes\""
        echo "kube-proxy-$(od -An -N8 -tx8 /dev/urandom | tr -d ' '),system:kube-proxy,kube-proxy"
      fi
    } >"$dir/tokens.csv"
  fi
  local admin_token kubedns_token
  admin_token="$(grep ',admin,admin,' "$dir/tokens.csv" | cut -d, -f1)"
  kubedns_token="$(grep ',kube-dns,' "$dir/tokens.csv" | cut -d, -f1)"

  local etcd_port peer_port api_port
  etcd_port="$(free_port)"; peer_port="$(free_port)"; api_port="$(free_port)"
  [[ -z "${NODE_IP:-}" ]] || api_port=6443

  "$bin/etcd" --name default --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "default=http://127.0.0.1:$peer_port" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 >"$dir/etcd.log" 2>&1 &
  echo $! >"$dir/etcd.pid"
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 && break
    kill -0 "$(cat "$dir/etcd.pid")" 2>/dev/null || fail "etcd exited" "$dir/etcd.log"
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$etcd_port/health" >/dev/null 2>&1 || fail "etcd did not become healthy" "$dir/etcd.log"

  echo "api_port=$api_port etcd_port=$etcd_port node_ip=${NODE_IP:-}" >"$dir/ports"
  start_apiserver
  write_kubeconfig "$dir/kubeconfig" "$api_port" "$admin_token" admin
  write_kubeconfig "$dir/kube-dns.kubeconfig" "$api_port" "$kubedns_token" kube-dns
  if [[ -n "${NODE_IP:-}" ]]; then
    write_kubeconfig "$dir/kubelet.kubeconfig" "$api_port" "$(grep ',kubelet,' "$dir/tokens.csv" | cut -d, -f1)" kubelet
    write_kubeconfig "$dir/kube-proxy.kubeconfig" "$api_port" "$(grep ',kube-proxy$' "$dir/tokens.csv" | cut -d, -f1)" kube-proxy
  fi
  cat >"$dir/env" <<ENV
KUBECONFIG=$dir/kubeconfig
KUBEDNS_KUBECONFIG=$dir/kube-dns.kubeconfig
API_SERVER=https://127.0.0.1:$api_port
ETCD_SERVER=http://127.0.0.1:$etcd_port
KUBECTL=$bin/kubectl
KUBE_APISERVER=$bin/kube-apiserver
ETCD=$bin/etcd
ENV
  echo "control plane up: kube-apiserver https://127.0.0.1:$api_port, kubeconfig $dir/kubeconfig, logs $dir/*.log"
}

start_apiserver() {
  local bin api_port etcd_port admin_token
  bin="$("$root/hack/build-control-plane.sh")"
  eval "$(cat "$dir/ports")"
  admin_token="$(grep ',admin,admin,' "$dir/tokens.csv" | cut -d, -f1)"
  local audit=()
  if [[ -f "$dir/audit-policy.yaml" ]]; then
    audit=(--audit-policy-file="$dir/audit-policy.yaml" --audit-log-path="$dir/audit.log" --audit-log-maxsize=100)
  fi
  # Without a node: loopback only, no endpoints for default/kubernetes, no
  # service-account tokens mounted. With one (NODE_IP): what a kubelet's
  # pods need.
  local mode=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --authorization-mode=RBAC
    --disable-admission-plugins=ServiceAccount --endpoint-reconciler-type=none)
  if [[ -n "${node_ip:-}" ]]; then
    mode=(--bind-address=0.0.0.0 --advertise-address="$node_ip" --authorization-mode=Node,RBAC
      --kubelet-preferred-address-types=InternalIP)
  fi
  "$bin/kube-apiserver" "${audit[@]}" "${mode[@]}" --secure-port="$api_port" \
    --etcd-servers="http://127.0.0.1:$etcd_port" \
    --tls-cert-file="$dir/serving.crt" --tls-private-key-file="$dir/serving.key" \
    --token-auth-file="$dir/tokens.csv" \
    --service-cluster-ip-range=10.254.0.0/16,fd00:10:254::/108 \
    --service-account-issuer=https://kubernetes.default.svc --service-account-key-file="$dir/sa.pub" \
    --service-account-signing-key-file="$dir/sa.key" \
    --enable-priority-and-fairness=false --max-requests-inflight=2000 --max-mutating-requests-inflight=1000 \
    >>"$dir/kube-apiserver.log" 2>&1 &
  echo $! >"$dir/kube-apiserver.pid"
  local ok=""
  for _ in $(seq 600); do
    if curl -fsSk -H "Authorization: Bearer $admin_token" "https://127.0.0.1:$api_port/readyz" >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null || fail "kube-apiserver exited" "$dir/kube-apiserver.log"
    sleep 0.1
  done
  [[ -n "$ok" ]] || fail "kube-apiserver not ready after 60s" "$dir/kube-apiserver.log"

}

write_kubeconfig() { # file port token user
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$2
    certificate-authority: $dir/serving.crt
users:
- name: $4
  user:
    token: $3
contexts:
- name: local
  context: {cluster: local, user: $4}
current-context: local
KC
}

case "$cmd" in
  up) up ;;
  down) down ;;
  apiserver-stop) stop_pid kube-apiserver; echo "kube-apiserver stopped" ;;
  apiserver-start) start_apiserver; echo "kube-apiserver started" ;;
  *) echo "usage: $0 up|down|apiserver-stop|apiserver-start DIR" >&2; exit 2 ;;
esac
