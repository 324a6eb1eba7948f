// Package app wires the dnsmasq-nanny together: the configuration directory,
// the stub server resolver and the dnsmasq process.
package app

import (
	"context"

	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/config"
	"github.com/kubedns-go/kube-dns/pkg/dns/nameservers"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq"
	"github.com/kubedns-go/kube-dns/pkg/lameduck"
)

// Run runs dnsmasq under the nanny until ctx is cancelled, then stops it and
// returns nil; it returns an error when dnsmasq keeps failing.
func Run(ctx context.Context, o *options.NannyOptions) error {
	n, err := dnsmasq.New(NannyOptions(o))
	if err != nil {
		return err
	}
	return n.Run(ctx)
}

// NannyOptions derives the nanny's settings from the flags.
func NannyOptions(o *options.NannyOptions) dnsmasq.Options {
	// The nanny serves no metrics (the sidecar exports dnsmasq's); the
	// configuration counters go nowhere.
	var src config.Source = config.NewStatic(config.Default())
	if o.ConfigDir != "" {
		src = config.NewDirSource(o.ConfigDir, o.SyncInterval, nil)
	}
	return dnsmasq.Options{
		Exec:            o.DnsmasqExec,
		Args:            o.DnsmasqArgs,
		Source:          src,
		Resolver:        nameservers.NewResolver(o.KubednsServer, o.ClusterDomain),
		RestartOnChange: o.RestartDnsmasq,
		ServersDir:      o.ServersFileDir,
		SyncInterval:    o.SyncInterval,
		LogInterval:     o.LogInterval,
		Lameduck:        o.Lameduck,
		LameduckMax:     o.LameduckMax,
		Received:        lameduck.UDPReceived,
	}
}
