package main

import (
	"context"
	"fmt"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestParsePerfSettings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []perfSetting
		bad  bool
	}{
		{in: "4:2:100,1:1:64,8:2:200", want: []perfSetting{{4, 2, 100}, {1, 1, 64}, {8, 2, 200}}},
		{in: " 4:2:100 , 4:2:100 ", want: []perfSetting{{4, 2, 100}}}, // repeats dropped
		{in: "-c 4 -T 2 -q 100; -q 64 -c 1 -T 1", want: []perfSetting{{4, 2, 100}, {1, 1, 64}}},
		{in: "", bad: true},
		{in: "4:2", bad: true},
		{in: "4:0:100", bad: true},
		{in: "-c 4 -T 2", bad: true},
		{in: "-c 4 -T 2 -q 100 -Q 5", bad: true},
		{in: "a:b:c", bad: true},
	} {
		got, err := parsePerfSettings(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error, got %v", tc.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	if s := (perfSetting{4, 2, 100}); s.String() != "-c 4 -T 2 -q 100" || s.tag() != "c4T2q100" {
		t.Errorf("String %q, tag %q", s.String(), s.tag())
	}
}

func TestParseConfigSettings(t *testing.T) {
	for _, k := range []string{"BENCH_QUICK", "BENCH_PERF_SETTINGS", "BENCH_ROUNDS", "BENCH_CLIENTS", "BENCH_THREADS", "BENCH_OUTSTANDING", "BENCH_CPU_RATE", "BENCH_PERF_DURATION"} {
		t.Setenv(k, "")
	}
	root := t.TempDir()
	cfg, err := parseConfig([]string{"--root", root})
	if err != nil {
		t.Fatal(err)
	}
	want := []perfSetting{{4, 2, 100}, {1, 1, 64}, {8, 2, 200}}
	if !slices.Equal(cfg.perfSettings, want) || cfg.rounds != 2 || cfg.cpuRate != 20000 || cfg.perfDuration != 4*time.Second {
		t.Errorf("defaults: settings %v, rounds %d, cpu rate %d, perf duration %s", cfg.perfSettings, cfg.rounds, cfg.cpuRate, cfg.perfDuration)
	}
	cfg, err = parseConfig([]string{"--root", root, "--clients=2", "--threads=1"})
	if err != nil || cfg.perfSettings[0] != (perfSetting{2, 1, 100}) || len(cfg.perfSettings) != 3 {
		t.Errorf("--clients=2 --threads=1: %v, %v", cfg.perfSettings, err)
	}
	cfg, err = parseConfig([]string{"--root", root, "--quick"})
	if err != nil || !slices.Equal(cfg.perfSettings, want[:1]) || cfg.rounds != 1 {
		t.Errorf("quick: %v rounds %d, %v", cfg.perfSettings, cfg.rounds, err)
	}
	t.Setenv("BENCH_PERF_SETTINGS", "1:1:10,2:2:20")
	t.Setenv("BENCH_ROUNDS", "3")
	t.Setenv("BENCH_CPU_RATE", "1000")
	cfg, err = parseConfig([]string{"--root", root})
	if err != nil || !slices.Equal(cfg.perfSettings, []perfSetting{{1, 1, 10}, {2, 2, 20}}) || cfg.rounds != 3 || cfg.cpuRate != 1000 {
		t.Errorf("from the environment: %v rounds %d cpu rate %d, %v", cfg.perfSettings, cfg.rounds, cfg.cpuRate, err)
	}
	if _, err := parseConfig([]string{"--root", root, "--rounds=0"}); err == nil {
		t.Error("--rounds=0 accepted")
	}
	if _, err := parseConfig([]string{"--root", root, "--perf-settings=1:1"}); err == nil {
		t.Error("--perf-settings=1:1 accepted")
	}
}

func TestBestAndWorst(t *testing.T) {
	runs := []*perfResult{{qps: 90}, {qps: 100}, nil, {qps: 80}}
	if best(runs).qps != 100 || worst(runs).qps != 80 || best(nil) != nil {
		t.Errorf("best %v worst %v", best(runs), worst(runs))
	}
	if got := satCell(runs); got != "100 (−20%)" {
		t.Errorf("satCell = %q", got)
	}
	if got := satCell(runs[1:2]); got != "100" {
		t.Errorf("satCell of one round = %q", got)
	}
}

func TestCPUSplit(t *testing.T) {
	busy, idle, total := parseStatLine("cpu  100 5 50 800 20 10 15 5 0 0")
	if busy != 160 || idle != 820 || total != 1005 {
		t.Errorf("parseStatLine: busy %d idle %d total %d", busy, idle, total)
	}
	a := cpuMark{total: 1000, idle: 500, server: 10}
	b := cpuMark{total: 3000, idle: 700, server: 1010} // 2000 ticks: 10 s of 2 CPUs
	s := split(a, b, 5*time.Second)
	if s.server != 0.5 || s.dnsperf != 0.25 || s.idle != 0.1 || s.serverSec != 10 {
		t.Errorf("split = %+v", s)
	}
	r := &perfResult{completed: 200000, cpu: cpuSplit{serverSec: 1.5}}
	if got := cpuPerM(r); math.Abs(got-7.5) > 1e-9 || cpuPerMCell(r) != "7.50" {
		t.Errorf("cpuPerM = %v", got)
	}
	if !math.IsNaN(cpuPerM(nil)) || cpuPerMCell(&perfResult{}) != "–" {
		t.Error("cpuPerM of no run")
	}
}

func TestStaticMMsg(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- serveStaticMMsg(ctx, addr, 2, 8, ready) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(5 * time.Second):
		t.Fatal("not ready after 5s")
	}
	for _, network := range []string{"udp", "tcp"} {
		c := &dns.Client{Net: network, Timeout: 2 * time.Second}
		for i := range 20 { // several source ports: both sockets get some
			name := fmt.Sprintf("q%d.example.", i)
			r, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
			if err != nil {
				t.Fatalf("%s %s: %v", network, name, err)
			}
			if len(r.Question) != 1 || r.Question[0].Name != name || len(r.Answer) != 1 || !r.Authoritative {
				t.Fatalf("%s %s: %v", network, name, r)
			}
			if a, ok := r.Answer[0].(*dns.A); !ok || !a.A.Equal(staticIP) || a.Hdr.Name != name {
				t.Fatalf("%s %s: answer %v", network, name, r.Answer[0])
			}
		}
	}
	// A datagram that is not DNS is dropped, and the socket keeps answering.
	u, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	u.Write([]byte{1, 2, 3})
	u.Close()
	if _, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(new(dns.Msg).SetQuestion("after.", dns.TypeA), addr); err != nil {
		t.Errorf("after garbage: %v", err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveStaticMMsg: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("did not stop within 5s")
	}
}
