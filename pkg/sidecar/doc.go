// Package sidecar probes the DNS servers of the kube-dns pod, polls dnsmasq's
// cache statistics and the state of its TCP port, and serves them as health
// checks and Prometheus metrics.
package sidecar
