// Package dnsmasq runs dnsmasq as a child process for the dnsmasq-nanny,
// rendering its --server arguments from the kube-dns configuration and
// restarting it when that configuration changes or when it dies.
package dnsmasq
