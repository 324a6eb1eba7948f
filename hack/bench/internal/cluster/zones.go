package cluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app"
	"github.com/kubedns-go/kube-dns/cmd/kube-dns/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dns/records"
	"github.com/kubedns-go/kube-dns/pkg/dns/watch"
	"github.com/kubedns-go/kube-dns/pkg/kubeclient"
)

// The authoritative contenders (Knot DNS, NSD) serve zone files of the
// snapshot kube-dns itself builds from what the API server holds: the
// harness reads the cluster through kube-dns's client and watch package at
// kube-dns's defaults (--ttl=30, the negative TTL equal to it,
// kube-system/kube-dns as the DNS Service) and writes each zone with
// records.Snapshot.WriteZone, which says what a zone file cannot hold.

// recordsConfig is kube-dns's record configuration at its defaults,
// derived from its flags as kube-dns derives it.
func recordsConfig() *records.Config { return app.RecordsConfig(options.NewKubeDNSConfig()) }

// SnapshotOf lists what the API server holds as kube-dns does, and returns
// the first snapshot published from it.
func SnapshotOf(ctx context.Context, client kubeclient.Interface) (*records.Snapshot, error) {
	published := make(chan struct{}, 1)
	c, err := watch.New(client, watch.Options{Records: recordsConfig(), Notify: func() {
		select {
		case published <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	select {
	case <-published:
		cancel()
		<-done
		return c.Snapshot(), nil
	case err := <-done:
		cancel()
		return nil, fmt.Errorf("watch: %w", err)
	}
}

// ZoneFiles are the written zones of one N.
type ZoneFiles struct {
	Dir     string
	Apexes  []string
	Records int
	Took    time.Duration // reading the objects and writing the files
}

// ZoneFile is the file name of a zone, as Knot's default "%s.zone" names it.
func ZoneFile(apex string) string { return strings.TrimSuffix(apex, ".") + ".zone" }

// WriteZones writes every zone of the snapshot into dir (absolute).
func WriteZones(snap *records.Snapshot, dir string) (*ZoneFiles, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	zf := &ZoneFiles{Dir: dir}
	for _, apex := range snap.Config().Zones() {
		if apex == "" {
			continue
		}
		var b strings.Builder
		if err := snap.WriteZone(&b, apex); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, ZoneFile(apex)), []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		zf.Apexes = append(zf.Apexes, apex)
		zf.Records += strings.Count(b.String(), "\n") - 1 // but the heading comment
	}
	return zf, nil
}

// WriteZones writes the zones of what the cluster holds into dir.
func (c *Cluster) WriteZones(ctx context.Context, dir string) (*ZoneFiles, error) {
	start := time.Now()
	client, err := kubeclient.New(c.rest)
	if err != nil {
		return nil, err
	}
	snap, err := SnapshotOf(ctx, client)
	if err != nil {
		return nil, err
	}
	zf, err := WriteZones(snap, dir)
	if err == nil {
		zf.Took = time.Since(start)
	}
	return zf, err
}
