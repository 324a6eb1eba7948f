// Package config parses and validates the kube-dns ConfigMap (stubDomains,
// upstreamNameservers, federations) and delivers its valid versions from a
// mounted directory, the API server, or a fixed value.
package config
