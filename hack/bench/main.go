// Command bench measures kubedns against the pod path (dnsmasq in front of
// it), CoreDNS, Knot DNS and NSD (serving zone files of the same records)
// and static-answer servers, against one real kube-apiserver that holds N
// Services, and writes a markdown report and an SVG chart. README.md in this
// directory says what it measures and how to run it.
//
//	bench [flags]                      the whole comparison (make bench)
//	bench --only=sizing --sizes=…      kubedns's start and memory against the number of Services
//	bench static -addr HOST:PORT       the static-answer server, one of the contenders
//	bench static-mmsg -addr HOST:PORT  the same with a socket per CPU and recvmmsg/sendmmsg
//
// The parts: internal/cluster (the control plane and its Services),
// internal/contender (the servers), internal/measure (what is measured),
// internal/report (markdown, targets, chart), internal/proc (processes).
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/contender"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
)

// defaultTargets is targets.txt, what --targets reads by default.
//
//go:embed targets.txt
var defaultTargets string

func main() {
	if len(os.Args) > 1 && (os.Args[1] == "static" || os.Args[1] == "static-mmsg") {
		if err := contender.RunStatic(os.Args[1], os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
			os.Exit(1)
		}
		return
	}
	r, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the harness at once
	}()
	err = r.run(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runner is one run: what to measure and the targets to check.
type runner struct {
	cfg     *measure.Config
	targets []report.Target
}

// run measures every size, writes the report and the chart, and prints the
// report.
func (r *runner) run(ctx context.Context) error {
	cfg := r.cfg
	if err := measure.Preflight(cfg); err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.RunDir, 0o755); err != nil {
		return err
	}
	proc.Logf("raw outputs and logs in %s", cfg.RunDir)
	started := time.Now()
	var sizes []*measure.Size
	var runErr error
	for _, n := range cfg.Sizes {
		sr, err := measure.AtSize(ctx, cfg, n)
		if sr != nil {
			sizes = append(sizes, sr)
		}
		if err != nil {
			runErr = fmt.Errorf("N=%d: %w", n, err)
			break
		}
	}
	if len(sizes) == 0 {
		return runErr
	}
	md := report.Markdown(cfg, report.Machine(cfg), r.targets, sizes, time.Since(started), runErr)
	outs := []string{filepath.Join(cfg.RunDir, "results.md")}
	if cfg.Out != "" && ctx.Err() == nil { // an interrupted run leaves the last report alone
		outs = append(outs, cfg.Out)
	}
	for _, out := range outs {
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(filepath.Dir(out), "chart.svg"), []byte(report.Chart(sizes)), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md)
	proc.Logf("report and chart.svg written to %v (%s)", outs, time.Since(started).Round(time.Second))
	return runErr
}
