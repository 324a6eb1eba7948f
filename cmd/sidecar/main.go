// Command sidecar probes kubedns and dnsmasq, and exports their health and
// dnsmasq's cache statistics over HTTP.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/sidecar/app"
	"github.com/kubedns-go/kube-dns/cmd/sidecar/app/options"
	"github.com/kubedns-go/kube-dns/pkg/signals"
	"github.com/kubedns-go/kube-dns/pkg/version"
)

func main() {
	o := options.NewSidecarOptions()
	o.AddFlags(pflag.CommandLine)
	pflag.Parse()
	switch o.PrintVersion {
	case "raw":
		fmt.Println(version.Version)
		return
	case "true":
		fmt.Println(version.String("sidecar"))
		return
	}
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	klog.InfoS("Starting", "version", version.String("sidecar"))
	o.LogFlags(pflag.CommandLine)
	if err := app.Run(signals.Context(), o); err != nil {
		klog.ErrorS(err, "sidecar failed")
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	}
	klog.Flush()
}
