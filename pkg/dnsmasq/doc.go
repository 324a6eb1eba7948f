// Package dnsmasq runs dnsmasq as a child process for the dnsmasq-nanny,
// writing its servers from the kube-dns configuration into a servers file
// that it has dnsmasq reload (SIGHUP) when they change, and restarting
// dnsmasq when it dies.
package dnsmasq
