// Command dnsmasq-nanny runs dnsmasq with the stub domains and upstream
// nameservers of the kube-dns ConfigMap, and has it reload them when they change.
package main

import (
	"context"
	"flag"
	"os"
	"strconv"

	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app"
	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app/options"
	"github.com/kubedns-go/kube-dns/pkg/cli"
)

func main() {
	o := options.NewNannyOptions()
	o.AddFlags(flag.CommandLine)
	cli.Main(cli.Command{
		Name:     "dnsmasq-nanny",
		Parse:    func() error { return o.Parse(flag.CommandLine, os.Args[1:]) },
		Version:  func() string { return strconv.FormatBool(o.PrintVersion) },
		Validate: o.Validate,
		LogFlags: func() { o.LogFlags(flag.CommandLine) },
		Run:      func(ctx context.Context) error { return app.Run(ctx, o) },
	})
}
