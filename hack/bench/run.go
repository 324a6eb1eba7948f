package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/measure"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/report"
)

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
	dirs := []string{cfg.RunDir}
	if cfg.Out != "" && ctx.Err() == nil { // an interrupted run leaves the last report alone
		dirs = append(dirs, filepath.Dir(cfg.Out))
	}
	for i, dir := range dirs {
		name := "results.md"
		if i > 0 {
			name = filepath.Base(cfg.Out)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(md), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "chart.svg"), []byte(report.Chart(sizes)), 0o644); err != nil {
			return err
		}
	}
	fmt.Print(md)
	proc.Logf("report and chart.svg written to %v (%s)", dirs, time.Since(started).Round(time.Second))
	return runErr
}
