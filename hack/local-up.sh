#!/usr/bin/env bash
# The pod on one machine: a real control plane on loopback holding the
# walkthrough's objects, and the programs of the pod reading it, on loopback
# ports (no root needed).
#
#   hack/local-up.sh up     (make local-up)
#   hack/local-up.sh down   (make local-down)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${LOCAL_DIR:-$root/_output/local}"
bin="$root/_output/bin"
DNS_PORT="${DNS_PORT:-10053}" HEALTHZ_PORT="${HEALTHZ_PORT:-8081}" METRICS_PORT="${METRICS_PORT:-10055}"
DNSMASQ_PORT="${DNSMASQ_PORT:-1053}" # the pod's port 53, moved to a port that needs no root
SIDECAR_PORT="${SIDECAR_PORT:-10054}"

stop() { # name
  local f="$dir/$1.pid" pid
  [[ -f "$f" ]] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  stop sidecar
  stop dnsmasq-nanny
  stop kube-dns
  "$root/hack/local-cluster.sh" down "$dir"
}

up() {
  for b in kube-dns dnsmasq-nanny sidecar; do
    [[ -x "$bin/$b" ]] || { echo "local-up: $bin/$b is missing: run make build" >&2; exit 1; }
  done
  command -v dig >/dev/null || { echo "local-up: dig is missing: run hack/install-deps.sh local (make local-up does)" >&2; exit 1; }
  [[ -x /usr/sbin/dnsmasq ]] || { echo "local-up: /usr/sbin/dnsmasq is missing: run hack/install-deps.sh local (make local-up does)" >&2; exit 1; }
  if [[ -f "$dir/kube-dns.pid" ]] && kill -0 "$(cat "$dir/kube-dns.pid")" 2>/dev/null; then
    echo "local-up: already running (make local-down stops it)" >&2
    exit 1
  fi
  "$root/hack/local-cluster.sh" up "$dir"
  # shellcheck disable=SC1091
  source "$dir/env"
  for f in hack/testdata/seed.yaml cluster/kube-dns-rbac.yaml; do
    "$KUBECTL" --kubeconfig "$KUBECONFIG" apply -f "$root/$f" >"$dir/apply.log" 2>&1 ||
      { echo "local-up: kubectl apply -f $f failed; log: $dir/apply.log" >&2; cat "$dir/apply.log" >&2; down; exit 1; }
  done

  # kubedns, as the add-on runs it, but as the kube-dns service account over a kubeconfig.
  PROMETHEUS_PORT="$METRICS_PORT" "$bin/kube-dns" --kubecfg-file="$KUBEDNS_KUBECONFIG" \
    --domain=cluster.local. --dns-bind-address=127.0.0.1 --dns-port="$DNS_PORT" \
    --healthz-port="$HEALTHZ_PORT" --v=2 >"$dir/kube-dns.log" 2>&1 &
  echo $! >"$dir/kube-dns.pid"
  for _ in $(seq 300); do
    curl -fsS "http://127.0.0.1:$HEALTHZ_PORT/readiness" >/dev/null 2>&1 && break
    kill -0 "$(cat "$dir/kube-dns.pid")" 2>/dev/null || { echo "local-up: kube-dns exited; log: $dir/kube-dns.log" >&2; tail -n 20 "$dir/kube-dns.log" >&2; down; exit 1; }
    sleep 0.1
  done
  curl -fsS "http://127.0.0.1:$HEALTHZ_PORT/readiness" >/dev/null 2>&1 ||
    { echo "local-up: kube-dns not ready after 30s; log: $dir/kube-dns.log" >&2; down; exit 1; }

  # dnsmasq in front of it, as the pod's port 53, supervised by the nanny and
  # following the ConfigMap's files in $dir/config (write stubDomains there).
  mkdir -p "$dir/config"
  "$bin/dnsmasq-nanny" -v=2 -logtostderr -configDir="$dir/config" -restartDnsmasq=true \
    -kubednsServer="127.0.0.1:$DNS_PORT" -- \
    -k --cache-size=1000 --no-negcache --dns-forward-max=1500 --max-tcp-connections=1000 --log-facility=- \
    --server="/cluster.local/127.0.0.1#$DNS_PORT" --server="/in-addr.arpa/127.0.0.1#$DNS_PORT" \
    --server="/ip6.arpa/127.0.0.1#$DNS_PORT" \
    --port="$DNSMASQ_PORT" --listen-address=127.0.0.1 --bind-interfaces --no-hosts --pid-file= \
    >"$dir/dnsmasq-nanny.log" 2>&1 &
  echo $! >"$dir/dnsmasq-nanny.pid"
  for _ in $(seq 100); do
    [[ -n "$(dig +short +time=1 +tries=1 @127.0.0.1 -p "$DNSMASQ_PORT" my-nginx.default.svc.cluster.local 2>/dev/null)" ]] && break
    kill -0 "$(cat "$dir/dnsmasq-nanny.pid")" 2>/dev/null || { echo "local-up: dnsmasq-nanny exited; log: $dir/dnsmasq-nanny.log" >&2; tail -n 20 "$dir/dnsmasq-nanny.log" >&2; down; exit 1; }
    sleep 0.1
  done

  # The sidecar, with the manifest's probes.
  "$bin/sidecar" --v=2 --logtostderr \
    --probe="kubedns,127.0.0.1:$DNS_PORT,kubernetes.default.svc.cluster.local.,5,SRV" \
    --probe="dnsmasq,127.0.0.1:$DNSMASQ_PORT,kubernetes.default.svc.cluster.local.,5,SRV" \
    --dnsmasq-addr=127.0.0.1 --dnsmasq-port="$DNSMASQ_PORT" --dnsmasq-max-tcp-connections=1000 \
    --prometheus-addr=127.0.0.1 --prometheus-port="$SIDECAR_PORT" >"$dir/sidecar.log" 2>&1 &
  echo $! >"$dir/sidecar.pid"
  # Up means the liveness checks pass: each probe runs first within its
  # 5 s interval, and until then its health check answers 503.
  local deadline=$((SECONDS + 30)) check out code
  for check in kubedns dnsmasq; do
    while :; do
      out="$(curl -s -w '\n%{http_code}' --max-time 2 "http://127.0.0.1:$SIDECAR_PORT/healthcheck/$check" 2>/dev/null)" || true
      code="${out##*$'\n'}"
      [[ "$code" == 200 ]] && break
      kill -0 "$(cat "$dir/sidecar.pid")" 2>/dev/null || { echo "local-up: sidecar exited; log: $dir/sidecar.log" >&2; tail -n 20 "$dir/sidecar.log" >&2; down; exit 1; }
      if ((SECONDS >= deadline)); then
        echo "local-up: http://127.0.0.1:$SIDECAR_PORT/healthcheck/$check answers ${code:-nothing} $(head -n 1 <<<"$out"), not 200, after 30s; logs: $dir/sidecar.log, $dir/kube-dns.log, $dir/dnsmasq-nanny.log" >&2
        tail -n 20 "$dir/sidecar.log" >&2
        down
        exit 1
      fi
      sleep 0.2
    done
  done

  cat <<MSG

kube-dns is up on 127.0.0.1:$DNS_PORT (UDP and TCP), reading $API_SERVER;
dnsmasq (the pod's port 53) on 127.0.0.1:$DNSMASQ_PORT in front of it.
Try:
  dig @127.0.0.1 -p $DNS_PORT my-nginx.default.svc.cluster.local
  dig @127.0.0.1 -p $DNSMASQ_PORT my-nginx.default.svc.cluster.local
  dig @127.0.0.1 -p $DNS_PORT kubernetes.default.svc.cluster.local SRV
  dig @127.0.0.1 -p $DNS_PORT kube-dns.kube-system.svc.cluster.local
  dig @127.0.0.1 -p $DNS_PORT -x 10.254.32.162
  curl http://127.0.0.1:$HEALTHZ_PORT/readiness
  curl http://127.0.0.1:$METRICS_PORT/metrics
  curl http://127.0.0.1:$SIDECAR_PORT/healthcheck/kubedns
  curl http://127.0.0.1:$SIDECAR_PORT/healthcheck/dnsmasq
  curl http://127.0.0.1:$SIDECAR_PORT/metrics
  $KUBECTL --kubeconfig $KUBECONFIG get services -A
Logs: $dir/kube-dns.log, $dir/dnsmasq-nanny.log, $dir/sidecar.log, $dir/kube-apiserver.log, $dir/etcd.log
These are the programs started by hand. For the product as users run it, our
images under a real kubelet with kube-proxy's Service VIPs: make node-up.
ConfigMap files (stubDomains, upstreamNameservers): $dir/config
Stop: make local-down
MSG
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
