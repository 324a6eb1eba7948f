// Package cliflags holds the command-line conventions that kube-dns and the
// sidecar share with the original programs: "_" and "-" alike in flag names,
// klog's flags (as glog's were), and --version[=raw].
package cliflags

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
)

// WordSepNormalize makes "_" and "-" interchangeable in flag names.
func WordSepNormalize(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
}

// AddKlog registers klog's flags (--v, --vmodule, --logtostderr, ...) on fs.
// It uses a fresh Go FlagSet each time: InitFlags binds its flags to klog's
// global settings, so every copy drives the same logger and fs may be any
// number of fresh flag sets (tests make many).
func AddKlog(fs *pflag.FlagSet) {
	goFS := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(goFS)
	fs.AddGoFlagSet(goFS)
}

// AddVersion registers --version[=raw], storing "true", "false" or "raw" in p.
func AddVersion(fs *pflag.FlagSet, p *string) {
	fs.Var(versionValue{p}, "version", "Print version information and quit; --version=raw prints the bare version")
	fs.Lookup("version").NoOptDefVal = "true"
}

// versionValue accepts "raw" or any strconv.ParseBool spelling, normalized.
type versionValue struct{ p *string }

func (v versionValue) Set(s string) error {
	if s == "raw" {
		*v.p = "raw"
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not one of true, false, raw", s)
	}
	*v.p = strconv.FormatBool(b)
	return nil
}

func (v versionValue) String() string   { return *v.p }
func (v versionValue) Type() string     { return "version" }
func (v versionValue) IsBoolFlag() bool { return true }

// CheckShared tells bad (flag, format, args) what is wrong with the flags
// kube-dns and the sidecar share: a --version other than true, false or raw
// (possible when set in code), a --log-flush-frequency that is not
// positive.
func CheckShared(version string, logFlush time.Duration, bad func(flag, format string, args ...any)) {
	switch version {
	case "true", "false", "raw":
	default:
		bad("version", "%q is not one of true, false, raw", version)
	}
	if logFlush <= 0 {
		bad("log-flush-frequency", "must be positive, got %v", logFlush)
	}
}
