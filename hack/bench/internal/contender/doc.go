// Package contender starts the DNS servers under test (kube-dns alone and in
// its pod behind dnsmasq, CoreDNS, Knot DNS, NSD and the static-answer
// servers) and probes them for their first answer.
package contender
