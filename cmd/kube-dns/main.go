// Command kube-dns serves cluster DNS records from the Kubernetes API.
package main

import (
	"context"
	"os"

	"github.com/spf13/pflag"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app"
	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/cli"
)

func main() {
	cfg := options.NewKubeDNSConfig()
	cfg.AddFlags(pflag.CommandLine)
	cli.Main(cli.Command{
		Name:    "kube-dns",
		Parse:   func() error { pflag.Parse(); return nil },
		Version: func() string { return cfg.PrintVersion },
		Validate: func() error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			return cfg.LoadEnv(os.Getenv)
		},
		LogFlags: func() { cfg.LogFlags(pflag.CommandLine) },
		Run:      func(ctx context.Context) error { return app.Run(ctx, cfg) },
	})
}
