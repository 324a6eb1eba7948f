package measure

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Config is what one run measures; every field has an env knob (see
// README.md) that a flag of the same meaning overrides.
type Config struct {
	Root        string // repository root
	Sizes       []int
	Duration    time.Duration // each fixed-rate dnsperf run
	Rate        int           // queries per second of the fixed-rate runs
	Clients     int           // dnsperf -c
	Threads     int           // dnsperf -T for the saturating runs
	Outstanding int           // dnsperf -q
	// The saturating runs: each setting in each round, perfDuration long;
	// the first setting is the main table's.
	PerfSettings []PerfSetting
	Rounds       int
	PerfDuration time.Duration
	CPURate      int // qps of the run that measures CPU per answer
	// skip holds the contenders that cannot run here, with the reason
	// (preflight).
	skip        map[string]string
	PropCount   int           // Services created one by one under load
	PropTimeout time.Duration // how long one of them may take to be answered
	Contenders  []string
	Only        []string // measurements (see measurements); start and RSS after sync always
	Out         string   // the report; also copied into the run directory
	Coredns     string   // the CoreDNS binary
	Baseline    string   // another kube-dns binary, the kubedns-baseline contender
	BaselineEnv []string // its environment, added
	Quick       bool
	RunDir      string // _output/bench/run-<timestamp>
	StartRuns   int    // starts of each contender; the median is reported
}

// Measures reports whether the run includes measurement m.
func (c *Config) Measures(m string) bool { return slices.Contains(c.Only, m) }

// Measurements are the names --only accepts; start and RSS after sync are
// always measured.
var Measurements = []string{"dnsperf", "propagation", "relist", "profile"}

// Sizing is the measurement of the sizing series (--only=sizing): kubedns's
// start, RSS after sync and after a short load, and relist peak, at each N.
const Sizing = "sizing"

// Preflight checks every program a run needs, naming how to get it.
func Preflight(cfg *Config) error {
	need := map[string]string{
		filepath.Join(cfg.Root, "_output/bin/kube-dns"):               "make build",
		filepath.Join(cfg.Root, "_output/bin/dnsmasq-nanny"):          "make build",
		filepath.Join(cfg.Root, "_output/bin/v1.35.4/kube-apiserver"): "make control-plane",
		filepath.Join(cfg.Root, "_output/bin/v1.35.4/etcd"):           "make control-plane",
		filepath.Join(cfg.Root, "_output/bin/v1.35.4/kubectl"):        "make control-plane",
		"/usr/sbin/dnsmasq": "apt-get install -y dnsmasq-base",
	}
	for _, c := range cfg.Contenders {
		if c == "coredns" || c == "coredns-cache" {
			need[cfg.Coredns] = "hack/build-coredns.sh"
		}
	}
	for path, how := range need {
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is missing: run %s", path, how)
		}
	}
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return errors.New("dnsperf is missing: apt-get install -y dnsperf")
	}
	// The other servers are optional: a contender whose program is missing
	// is skipped, and the report says why.
	cfg.skip = map[string]string{}
	if slices.Contains(cfg.Contenders, "kubedns-baseline") && cfg.Baseline == "" {
		cfg.skip["kubedns-baseline"] = "no --baseline-kubedns binary given"
		proc.Logf("skipping kubedns-baseline: %s", cfg.skip["kubedns-baseline"])
	}
	for _, c := range contender.All() {
		if c.Bin == "" || !slices.Contains(cfg.Contenders, c.Name) {
			continue
		}
		if _, err := proc.LookBin(c.Bin); err != nil {
			cfg.skip[c.Name] = fmt.Sprintf("%s is missing (Debian package %s: apt-get install -y %s)", c.Bin, c.Pkg, c.Pkg)
			proc.Logf("skipping %s: %s", c.Name, cfg.skip[c.Name])
		}
	}
	return nil
}
