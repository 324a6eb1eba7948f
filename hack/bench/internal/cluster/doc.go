// Package cluster runs the benchmark's control plane (hack/local-cluster.sh),
// loads it with N Services and their EndpointSlices, writes dnsperf's query
// files, and writes the zone files of kube-dns's own snapshot of it for the
// authoritative contenders.
package cluster
