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

// Config is what one run measures; README.md says what each flag is.
type Config struct {
	Root  string // repository root
	Sizes []int
	// The saturating runs: each setting in each round, PerfDuration long;
	// the first setting is the main table's, and its -c and -q are the
	// fixed-rate runs' (at Rate, and at CPURate for the CPU per answer).
	PerfSettings      []PerfSetting
	Rounds            int
	PerfDuration      time.Duration
	Duration          time.Duration // each fixed-rate dnsperf run
	Rate, CPURate     int
	StartRuns         int           // starts of each contender; the median is reported
	PropCount         int           // Services created one by one under load
	PropTimeout       time.Duration // how long one of them may take to be answered
	Contenders        []string
	Only              []string // measurements (see Measurements); start and RSS after sync always
	Out               string   // the report; also copied into the run directory
	Coredns, Baseline string   // the CoreDNS binary, and another kube-dns for kubedns-baseline
	BaselineEnv       []string // added to kubedns-baseline's environment
	Quick             bool
	RunDir            string            // _output/bench/run-<timestamp>
	skip              map[string]string // contenders that cannot run here, and why (Preflight)
}

// Measures reports whether the run includes measurement m.
func (c *Config) Measures(m string) bool { return slices.Contains(c.Only, m) }

// Measurements are the names --only accepts; start and RSS after sync are
// always measured.
var Measurements = []string{"dnsperf", "propagation", "relist", "profile"}

// Sizing is the measurement of the sizing series (--only=sizing): kubedns's
// start, RSS after sync and after a short load, and relist peak, at each N.
const Sizing = "sizing"

// Preflight checks every program a run needs, naming how to get it. The
// other servers are optional: a contender whose program is missing is
// skipped, and the report says why.
func Preflight(cfg *Config) error {
	need := map[string]string{
		"_output/bin/kube-dns": "make build", "_output/bin/dnsmasq-nanny": "make build",
		"_output/bin/v1.35.4/kube-apiserver": "make control-plane", "_output/bin/v1.35.4/etcd": "make control-plane",
		"_output/bin/v1.35.4/kubectl": "make control-plane", "/usr/sbin/dnsmasq": "apt-get install -y dnsmasq-base",
	}
	if slices.Contains(cfg.Contenders, "coredns") || slices.Contains(cfg.Contenders, "coredns-cache") {
		need[cfg.Coredns] = "hack/build-coredns.sh"
	}
	for path, how := range need {
		if !filepath.IsAbs(path) {
			path = filepath.Join(cfg.Root, path)
		}
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("%s is missing: run %s", path, how)
		}
	}
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return errors.New("dnsperf is missing: apt-get install -y dnsperf")
	}
	cfg.skip = map[string]string{}
	if cfg.Baseline == "" {
		cfg.skip["kubedns-baseline"] = "no --baseline-kubedns binary given"
	}
	for _, c := range contender.All() {
		if _, err := proc.LookBin(c.Bin); c.Bin != "" && err != nil {
			cfg.skip[c.Name] = fmt.Sprintf("%s is missing (Debian package %s: apt-get install -y %s)", c.Bin, c.Pkg, c.Pkg)
		}
		if cfg.skip[c.Name] != "" && slices.Contains(cfg.Contenders, c.Name) {
			proc.Logf("skipping %s: %s", c.Name, cfg.skip[c.Name])
		}
	}
	return nil
}
