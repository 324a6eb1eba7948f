// Package dnsmasq runs dnsmasq as a child process for the dnsmasq-nanny,
// writing its servers from the kube-dns configuration into a servers file
// that it has dnsmasq reload (SIGHUP) when they change, and restarting
// dnsmasq when it dies. Stub servers given by name are looked up in the
// background, so that dnsmasq never waits for them, and a configuration
// dnsmasq refuses is replaced by the last one it accepted.
package dnsmasq
