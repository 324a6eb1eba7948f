// Command sidecar probes kubedns and dnsmasq, and exports their health and
// dnsmasq's cache statistics over HTTP.
package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/kubedns-go/kube-dns/cmd/sidecar/app"
	"github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/cli"
)

func main() {
	o := options.NewSidecarOptions()
	o.AddFlags(pflag.CommandLine)
	cli.Main(cli.Command{
		Name:     "sidecar",
		Parse:    func() error { pflag.Parse(); return nil },
		Version:  func() string { return o.PrintVersion },
		Validate: o.Validate,
		LogFlags: func() { o.LogFlags(pflag.CommandLine) },
		Run:      func(ctx context.Context) error { return app.Run(ctx, o) },
	})
}
