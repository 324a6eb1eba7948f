package server

import "github.com/kubedns-go/kube-dns/pkg/dns/dnsname"

// hasWildcard reports whether some label of name is "*".
func hasWildcard(name string) bool {
	for {
		if dnsname.FirstLabel(name) == "*" {
			return true
		}
		if name = dnsname.Parent(name); name == "" {
			return false
		}
	}
}
