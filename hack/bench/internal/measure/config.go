package measure

import (
	"slices"
	"time"
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
