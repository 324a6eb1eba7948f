// Command dnsmasq-nanny runs dnsmasq with the stub domains and upstream
// nameservers of the kube-dns ConfigMap, and has it reload them when they change.
package main

import (
	"flag"
	"fmt"
	"os"

	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app"
	"github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app/options"
	"github.com/kubedns-go/kube-dns/pkg/signals"
	"github.com/kubedns-go/kube-dns/pkg/version"
)

func main() {
	o := options.NewNannyOptions()
	o.AddFlags(flag.CommandLine)
	if err := o.Parse(flag.CommandLine, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if o.PrintVersion {
		fmt.Println(version.String("dnsmasq-nanny"))
		return
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	klog.InfoS("Starting", "version", version.String("dnsmasq-nanny"))
	o.LogFlags(flag.CommandLine)
	if err := app.Run(signals.Context(), o); err != nil {
		klog.ErrorS(err, "dnsmasq-nanny failed")
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	}
	klog.Flush()
}
