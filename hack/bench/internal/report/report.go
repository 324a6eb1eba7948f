package report

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// machine is the report's description of where it ran.
type machine struct{ rows [][2]string }

func Machine(cfg *measure.Config) machine {
	var m machine
	add := func(k, v string) { m.rows = append(m.rows, [2]string{k, v}) }
	add("CPU", cpuInfo())
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				add("memory", fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20)))
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		add("kernel", "Linux "+strings.TrimSpace(string(b)))
	}
	add("Go", firstLine(command(cfg.Root, "go", "version"), runtime.Version()))
	add("kube-dns", firstLine(command(cfg.Root, filepath.Join(cfg.Root, "_output/bin/kube-dns"), "--version"), "?"))
	add("kube-apiserver", firstLine(command(cfg.Root, filepath.Join(cfg.Root, "_output/bin/v1.35.4/kube-apiserver"), "--version"), "?"))
	add("CoreDNS", strings.ReplaceAll(command(cfg.Root, cfg.Coredns, "-version"), "\n", " "))
	add("dnsmasq", firstLine(command(cfg.Root, "/usr/sbin/dnsmasq", "--version"), "?"))
	for _, s := range [][3]string{{"Knot DNS", "knotd", "-V"}, {"NSD", "nsd", "-v"}} {
		if bin, err := proc.LookBin(s[1]); err == nil {
			add(s[0], firstLine(command(cfg.Root, bin, s[2]), "?"))
		} else {
			add(s[0], "not installed")
		}
	}
	dnsperf := "?"
	for _, line := range strings.Split(command(cfg.Root, "dnsperf", "-h"), "\n") {
		if v, ok := strings.CutPrefix(line, "Version"); ok {
			dnsperf = "dnsperf " + strings.TrimSpace(v)
		}
	}
	add("dnsperf", dnsperf)
	add("project commit", commit(cfg.Root))
	return m
}

// cpuInfo is the CPU model and the number of logical CPUs.
func cpuInfo() string {
	model, cores := "", 0
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch strings.TrimSpace(k) {
		case "model name":
			model = cmp.Or(model, strings.TrimSpace(v))
		case "processor":
			cores++
		}
	}
	return fmt.Sprintf("%s, %d logical CPUs", model, cores)
}

// commit is the project's commit, and whether the tree has changes.
func commit(root string) string {
	c := strings.TrimSpace(command(root, "git", "rev-parse", "HEAD"))
	if c == "" {
		return "?"
	}
	if strings.TrimSpace(command(root, "git", "status", "--porcelain", "--untracked-files=no")) != "" {
		c += " (with uncommitted changes)"
	}
	return c
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

func firstLine(s, def string) string {
	s, _, _ = strings.Cut(s, "\n")
	if s = strings.TrimSpace(s); s == "" {
		return def
	}
	return s
}

func Markdown(cfg *measure.Config, m machine, targets []Target, sizes []*measure.Size, took time.Duration, runErr error) string {
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
	p("Run %s%s; it took %s. Written by `hack/bench` (see its README.md); raw dnsperf outputs and server logs in `%s`. Before/after comparisons that decisions rest on are kept by hand in [history.md](history.md), as this file is rewritten whole.\n\n",
		time.Now().Format("2006-01-02 15:04 MST"), mode, took.Round(time.Second), relPath(cfg.Root, cfg.RunDir))
	if runErr != nil {
		p("**The run stopped early:** %v\n\n", runErr)
	}
	p("## Machine\n\n| | |\n|---|---|\n")
	for _, r := range m.rows {
		p("| %s | %s |\n", r[0], r[1])
	}
	p("\nEverything runs on this machine over loopback: the control plane (etcd, kube-apiserver), the server under test and dnsperf share its CPUs.\n\n")

	renderMethod(&b, cfg)
	for _, sr := range sizes {
		renderSize(&b, cfg, sr)
	}
	renderSizing(&b, cfg, sizes)
	renderStarts(&b, sizes)
	renderRelist(&b, sizes)
	renderTargets(&b, cfg, targets, sizes)
	renderProfiles(&b, cfg, sizes)
	renderDnsmasq(&b, sizes)

	p("## Commands\n\n")
	p("Ports are free loopback ports picked at each start.\n\n```\n")
	p("make bench   # make build control-plane coredns, then: _output/bin/kubedns-bench --coredns=_output/bin/coredns-v1.14.7/coredns\n")
	last := sizes[len(sizes)-1]
	for _, r := range last.Results {
		if r.Skip != "" {
			continue
		}
		p("\n# %s\n", r.C.Name)
		for _, c := range r.Commands {
			p("%s\n", c)
		}
	}
	p("```\n")
	return b.String()
}

func relPath(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}

func renderSize(b *strings.Builder, cfg *measure.Config, sr *measure.Size) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	p("## N = %d\n\n", sr.N)
	p("Control plane start and load: %s; the hits file holds %d queries.\n\n", sr.LoadTime.Round(100*time.Millisecond), sr.Queries)
	p("| contender | hits QPS | misses QPS | lost (hits/misses) | p50 / p99 at %d qps | CPU s / M answers at %d qps | RSS sync | RSS load | start | propagation p50 / p99 | other CPU |\n", cfg.Rate, cfg.CPURate)
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	var notes []string
	for _, r := range sr.Results {
		if r.Skip != "" {
			p("| %s | skipped |  |  |  |  |  |  |  |  |  |\n", r.C.Name)
			notes = append(notes, fmt.Sprintf("%s: skipped: %s", r.C.Name, r.Skip))
			continue
		}
		if r.Err != nil {
			notes = append(notes, fmt.Sprintf("%s: failed: %v", r.C.Name, r.Err))
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.C.Name,
			qps(r.Hits), qps(r.Misses), lost(r.Hits, r.Misses), fixedLatency(r.Fixed), CPUPerMCell(r.CPU),
			withAnon(r.RSSSync, r.AnonSync), withAnon(r.RSSLoad, r.AnonLoad), measure.Dur(r.StartToAnswer), propagationCell(r.Prop), otherCPU(r))
		notes = append(notes, cpuNotes(cfg, r)...)
		for _, run := range []struct {
			name string
			r    *measure.Perf
		}{{"hits", r.Hits}, {"misses", r.Misses}, {"fixed-rate", r.Fixed}, {"cpu-rate", r.CPU}} {
			if run.r != nil && run.r.Foreign > measure.NoisyCPU {
				notes = append(notes, fmt.Sprintf("%s: other processes took %.0f%% of a CPU during the least disturbed of %d %s runs; its numbers are unreliable",
					r.C.Name, 100*run.r.Foreign, run.r.Attempts, run.name))
			}
		}
		if r.Hits != nil && r.Hits.OkShare("NOERROR") < 1 {
			notes = append(notes, fmt.Sprintf("%s: hits answered %s", r.C.Name, rcodes(r.Hits)))
		}
		if r.Misses != nil && (r.C.ReadsAPI || r.C.Zone) && r.Misses.OkShare("NXDOMAIN") < 1 {
			notes = append(notes, fmt.Sprintf("%s: misses answered %s", r.C.Name, rcodes(r.Misses)))
		}
		if r.Prop != nil && r.Prop.Load != nil && r.Prop.Load.Lost > 0 {
			notes = append(notes, fmt.Sprintf("%s: %d queries of the load during propagation lost", r.C.Name, r.Prop.Load.Lost))
		}
	}
	p("\n")
	for _, r := range sr.Results {
		p("- %s: %s\n", r.C.Name, r.C.Desc)
	}
	for _, n := range notes {
		p("- **%s**\n", n)
	}
	p("\n")
	renderSettings(b, cfg, sr)
}

// otherCPU is the most CPU other processes took during one of the
// contender's dnsperf runs, as a share of one CPU.
func otherCPU(r *measure.Result) string {
	worst, seen := 0.0, false
	for _, x := range []*measure.Perf{r.Hits, r.Misses, r.Fixed, r.CPU} {
		if x != nil {
			worst, seen = max(worst, x.Foreign), true
		}
	}
	if !seen {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*worst)
}

func rcodes(r *measure.Perf) string {
	var parts []string
	for k, v := range r.Rcodes {
		parts = append(parts, fmt.Sprintf("%s %d", k, v))
	}
	return strings.Join(parts, ", ") + fmt.Sprintf(" of %d", r.Completed)
}

func qps(r *measure.Perf) string {
	if r == nil {
		return "–"
	}
	return measure.Thousands(r.QPS)
}

func lost(h, m *measure.Perf) string {
	if h == nil || m == nil {
		return "–"
	}
	return fmt.Sprintf("%d / %d", h.Lost, m.Lost)
}

func fixedLatency(r *measure.Perf) string {
	if r == nil || len(r.Latencies) == 0 {
		return "–"
	}
	return measure.Ms(measure.Percentile(r.Latencies, 50)) + " / " + measure.Ms(measure.Percentile(r.Latencies, 99))
}

func propagationCell(p *measure.PropResult) string {
	if p == nil {
		return "–"
	}
	xs := p.All()
	s := measure.Ms(measure.Percentile(xs, 50)) + " / " + measure.Ms(measure.Percentile(xs, 99))
	switch {
	case p.Skipped > 0:
		s += fmt.Sprintf(" (%d of %d not answered, %d not tried)", p.Timeouts, len(p.Samples), p.Skipped)
	case p.Timeouts > 0:
		s += fmt.Sprintf(" (%d of %d not answered)", p.Timeouts, len(xs))
	}
	return strings.ReplaceAll(s, "lost", "timeout")
}

func find(sr *measure.Size, name string) *measure.Result {
	for _, r := range sr.Results {
		if r.C.Name == name && r.Err == nil && r.Skip == "" {
			return r
		}
	}
	return nil
}

// renderDnsmasq compares the pod's dnsmasq settings: what negative caching
// and a larger cache change.
func renderDnsmasq(b *strings.Builder, sizes []*measure.Size) {
	names := []string{"pod", "pod-negcache", "pod-negcache-cache10k"}
	ran := false
	for _, sr := range sizes {
		for _, name := range names {
			ran = ran || find(sr, name) != nil
		}
	}
	if !ran {
		return
	}
	fmt.Fprintf(b, "## dnsmasq settings in the pod\n\n`pod` uses the manifest's `--cache-size=1000 --no-negcache`; the variants replace them.\n\n")
	fmt.Fprintf(b, "| N | variant | hits QPS | misses QPS | p99 at fixed rate | RSS load | propagation p50 / p99 |\n|--:|---|--:|--:|--:|--:|--:|\n")
	for _, sr := range sizes {
		for _, name := range names {
			r := find(sr, name)
			if r == nil {
				continue
			}
			p99 := "–"
			if r.Fixed != nil && len(r.Fixed.Latencies) > 0 {
				p99 = measure.Ms(measure.Percentile(r.Fixed.Latencies, 99))
			}
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %s | %s |\n", sr.N, name, qps(r.Hits), qps(r.Misses), p99, measure.MiB(r.RSSLoad), propagationCell(r.Prop))
		}
	}
	b.WriteString("\nWith negative caching on, a name asked for before the server has seen its Service gets an NXDOMAIN that is then cached: dnsmasq keeps a negative answer for its SOA's TTL and minimum (kube-dns's `--negative-ttl`, 5 s in the variants; dnsmasq's own `--neg-ttl` only applies to negative answers without an SOA, which kube-dns never sends), CoreDNS's `cache` for up to 30 s. The propagation poll starts as soon as the create call returns, often before the watch event has arrived, so those rows can show Services answered only after that time, or not within the timeout; each contender's `propagation.log` lists the first reply for every Service.\n\n")
}
