// Package sidecar probes the DNS servers of the kube-dns pod, polls dnsmasq's
// cache statistics, and serves both as health checks and Prometheus metrics.
package sidecar
