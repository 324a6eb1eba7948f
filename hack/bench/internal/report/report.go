// Package report writes a run's results as markdown, with its targets, and
// as an SVG chart.
package report

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Machine describes where the run is made: rows of the report's Machine
// table.
func Machine(cfg *measure.Config) [][]string {
	model, cpus, mem := "", 0, ""
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name":
			model = cmp.Or(model, strings.TrimSpace(v))
		case "processor":
			cpus++
		}
	}
	b, _ = os.ReadFile("/proc/meminfo")
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			var kb int64
			fmt.Sscan(v, &kb)
			mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	b, _ = os.ReadFile("/proc/sys/kernel/osrelease")
	rows := [][]string{{"CPU", fmt.Sprintf("%s, %d logical CPUs", model, cpus)}, {"memory", mem}, {"kernel", "Linux " + strings.TrimSpace(string(b))}}
	for _, v := range [][]string{{"Go", "go", "version"}, {"kube-dns", filepath.Join(cfg.Root, "_output/bin/kube-dns"), "--version"},
		{"kube-apiserver", filepath.Join(cfg.Root, "_output/bin/v1.35.4/kube-apiserver"), "--version"}, {"CoreDNS", cfg.Coredns, "-version"},
		{"dnsmasq", "/usr/sbin/dnsmasq", "--version"}, {"Knot DNS", "knotd", "-V"}, {"NSD", "nsd", "-v"}} {
		out := "not installed"
		if bin, err := proc.LookBin(v[1]); err == nil {
			out = command(cfg.Root, bin, v[2])
			if v[0] != "CoreDNS" { // whose version is on two lines
				out, _, _ = strings.Cut(out, "\n")
			}
		}
		rows = append(rows, []string{v[0], cmp.Or(strings.ReplaceAll(out, "\n", " "), "?")})
	}
	dnsperf := "?"
	for line := range strings.Lines(command(cfg.Root, "dnsperf", "-h")) {
		if v, ok := strings.CutPrefix(line, "Version"); ok {
			dnsperf = "dnsperf " + strings.TrimSpace(v)
		}
	}
	commit := cmp.Or(command(cfg.Root, "git", "rev-parse", "HEAD"), "?")
	if command(cfg.Root, "git", "status", "--porcelain", "--untracked-files=no") != "" {
		commit += " (with uncommitted changes)"
	}
	return append(rows, []string{"dnsperf", dnsperf}, []string{"project commit", commit})
}

// command runs a version query; "" when it fails. GIT_OPTIONAL_LOCKS=0 keeps
// git status from writing the index.
func command(dir, name string, args ...string) string {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_OPTIONAL_LOCKS=0")
	out, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(out))
}

// table writes a markdown table: align has an l or r per column.
func table(b *strings.Builder, align string, head []string, rows [][]string) {
	row := func(cells []string) { fmt.Fprintf(b, "| %s |\n", strings.Join(cells, " | ")) }
	row(head)
	for _, a := range align {
		b.WriteString(map[rune]string{'l': "|---", 'r': "|--:"}[a])
	}
	b.WriteString("|\n")
	for _, r := range rows {
		row(r)
	}
	b.WriteString("\n")
}

// Markdown is the report of a run.
func Markdown(cfg *measure.Config, machine [][]string, targets []Target, sizes []*measure.Size, took time.Duration, runErr error) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# kube-dns benchmark\n\n")
	mode := ""
	if cfg.Quick {
		mode = " in quick mode (a smoke test; not for comparison)"
	}
	if len(cfg.Only) < len(measure.Measurements) {
		mode += fmt.Sprintf(", measuring start, RSS and %s only (`--only=%s`)", strings.Join(cfg.Only, ", "), strings.Join(cfg.Only, ","))
	}
	run, _ := filepath.Rel(cfg.Root, cfg.RunDir)
	p("Run %s%s; it took %s. Written by `hack/bench` (see its README.md); raw dnsperf outputs and server logs in `%s`. Before/after comparisons that decisions rest on are kept by hand in [history.md](history.md), as this file is rewritten whole.\n\n",
		time.Now().Format("2006-01-02 15:04 MST"), mode, took.Round(time.Second), run)
	if runErr != nil {
		p("**The run stopped early:** %v\n\n", runErr)
	}
	p("## Machine\n\n")
	table(&b, "ll", []string{"", ""}, machine)
	p("Everything runs on this machine over loopback: the control plane (etcd, kube-apiserver), the server under test and dnsperf share its CPUs.\n\n")
	rounds := "one round"
	if cfg.Rounds > 1 {
		rounds = fmt.Sprintf("the best of %d rounds", cfg.Rounds)
	}
	var settings []string
	for _, s := range cfg.PerfSettings {
		settings = append(settings, "`"+s.String()+"`")
	}
	args := measure.DnsperfArgs(measure.PerfRun{Addr: "127.0.0.1:PORT", Queries: "hits.txt", Duration: cfg.PerfDuration, Setting: cfg.PerfSettings[0]})
	p("## Method\n\nWhat each figure is: hack/bench/README.md, *Measurements*. Each contender runs alone on this machine, over loopback, beside the control plane and dnsperf. This run:\n\n")
	p("- **QPS**: dnsperf saturating the server for %s (`dnsperf %s`), at each of %s, %s (rounds outermost); **lost**: no answer within 2 s.\n",
		cfg.PerfDuration, strings.Join(args, " "), strings.Join(settings, ", "), rounds)
	p("- **p50/p99**: hits at %d qps for %s; **CPU s / M answers**: hits at %d qps for %s, the server's CPU time per million answers; **CPU split**: server / dnsperf / idle as shares of all %d CPUs.\n",
		cfg.Rate, cfg.Duration, cfg.CPURate, cfg.Duration, runtime.NumCPU())
	p("- **RSS**: VmRSS (its anonymous part RssAnon in parentheses) summed over the contender's processes, 1 s after the first answer (*sync*) and after the load (*load*); **start**: the median of %d starts to the first answer, round robin over the contenders.\n", cfg.StartRuns)
	p("- **propagation**: %d Services created one at a time under %d qps of hits, each polled until answered (given up after %s); **other CPU**: the most that processes outside the benchmark took during one of the row's dnsperf runs, a run over %.0f%% of a CPU repeated (twice at most).\n\n",
		cfg.PropCount, cfg.Rate, cfg.PropTimeout, 100*measure.NoisyCPU)
	for _, sr := range sizes {
		renderSize(&b, cfg, sr)
	}
	renderSizing(&b, cfg, sizes)
	renderStarts(&b, sizes)
	renderRelist(&b, sizes)
	renderTargets(&b, cfg, targets, sizes)
	renderProfiles(&b, cfg, sizes)
	renderDnsmasq(&b, sizes)
	p("## Commands\n\nPorts are free loopback ports picked at each start.\n\n```\n")
	p("make bench   # make build control-plane coredns, then: _output/bin/kubedns-bench --coredns=_output/bin/coredns-v1.14.7/coredns\n")
	for _, r := range sizes[len(sizes)-1].Results {
		if r.Skip == "" {
			p("\n# %s\n%s", r.C.Name, strings.Join(append(r.Commands, ""), "\n"))
		}
	}
	p("```\n")
	return b.String()
}

// find is the result of contender name at one N, nil unless it ran.
func find(sr *measure.Size, name string) *measure.Result {
	for _, r := range sr.Results {
		if r.C.Name == name && r.Err == nil && r.Skip == "" {
			return r
		}
	}
	return nil
}
