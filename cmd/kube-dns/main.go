// Command kube-dns serves cluster DNS records from the Kubernetes API.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app"
	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/signals"
	"github.com/kubedns-go/kube-dns/pkg/version"
)

func main() {
	cfg := options.NewKubeDNSConfig()
	cfg.AddFlags(pflag.CommandLine)
	pflag.Parse()
	switch cfg.PrintVersion {
	case "raw":
		fmt.Println(version.Version)
		return
	case "true":
		fmt.Println(version.String("kube-dns"))
		return
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := cfg.LoadEnv(os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	klog.InfoS("Starting", "version", version.String("kube-dns"))
	cfg.LogFlags(pflag.CommandLine)
	if err := app.Run(signals.Context(), cfg); err != nil {
		klog.ErrorS(err, "kube-dns failed")
		klog.FlushAndExit(klog.ExitFlushTimeout, 1)
	}
	klog.Flush()
}
