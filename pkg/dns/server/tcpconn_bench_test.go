package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// clientEnv, when set ("addr conns idle|busy"), makes TestTCPClientProcess
// the client side of BenchmarkTCPConnections, in a process of its own so
// that the benchmark's figures are the server's alone.
const clientEnv = "KUBEDNS_TCP_BENCH_CLIENT"

// BenchmarkTCPConnections measures what the server holds per TCP
// connection: Go memory (heap in use and stacks, after a collection) and
// goroutines, with 500 clients open at once, either idle after a first
// query (idle) or each pipelining batches of 10 queries without pause
// (busy). The kernel's share, ~3.7 KiB a socket (tcp_sock, inode, file,
// dentry, epoll item in /proc/slabinfo), is not counted.
//
//	go test -run '^$' -bench TCPConnections -benchtime 5x ./pkg/dns/server
func BenchmarkTCPConnections(b *testing.B) {
	const conns = 500
	for _, mode := range []string{"idle", "busy"} {
		b.Run(mode, func(b *testing.B) {
			addr, _, reg := startTCP(b, relaxed(2*conns), false)
			var heap, stack, goroutines float64
			for b.Loop() {
				base, baseG := live(), runtime.NumGoroutine()
				stop := startClients(b, addr, conns, mode)
				eventually(b, "all open", func() bool { return metric(b, reg, openConns) == conns })
				var peak runtime.MemStats
				for range 5 { // busy: the state in flight varies
					if ms := live(); ms.HeapInuse+ms.StackInuse > peak.HeapInuse+peak.StackInuse {
						peak = ms
					}
					time.Sleep(20 * time.Millisecond)
				}
				heap += (float64(peak.HeapInuse) - float64(base.HeapInuse)) / conns
				stack += (float64(peak.StackInuse) - float64(base.StackInuse)) / conns
				goroutines += float64(runtime.NumGoroutine()-baseG) / conns
				stop()
				eventually(b, "all closed", func() bool { return metric(b, reg, openConns) == 0 })
			}
			n := float64(b.N)
			b.ReportMetric((heap+stack)/n, "B/conn")
			b.ReportMetric(heap/n, "heap-B/conn")
			b.ReportMetric(stack/n, "stack-B/conn")
			b.ReportMetric(goroutines/n, "goroutines/conn")
		})
	}
}

// live returns the memory statistics after a collection.
func live() runtime.MemStats {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms
}

// startClients runs the client process and waits until its conns
// connections have each had an answer; stop ends it.
func startClients(b *testing.B, addr string, conns int, mode string) (stop func()) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTCPClientProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %s", clientEnv, addr, conns, mode))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "ready" {
	}
	if sc.Err() != nil {
		b.Fatal(sc.Err())
	}
	return func() {
		in.Close() // the client exits at the end of its input
		if err := cmd.Wait(); err != nil {
			b.Fatalf("client process: %v", err)
		}
	}
}

// TestTCPClientProcess is the client process of BenchmarkTCPConnections;
// it does nothing in a test run.
func TestTCPClientProcess(t *testing.T) {
	args := strings.Fields(os.Getenv(clientEnv))
	if len(args) != 3 {
		t.Skip("the client of BenchmarkTCPConnections")
	}
	addr, mode := args[0], args[2]
	n, _ := strconv.Atoi(args[1])
	stopped := make(chan struct{}) // closed at the end of stdin
	var ready, done sync.WaitGroup
	var failed sync.Once
	fail := func(err error) { failed.Do(func() { t.Error(err) }) }
	for range n {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			c, err := net.Dial("tcp", addr)
			if err == nil {
				defer c.Close()
				err = pipeline(&dns.Conn{Conn: c}, 10)
			}
			ready.Done()
			for err == nil {
				if mode == "idle" {
					<-stopped
					return
				}
				select {
				case <-stopped:
					return
				default:
					err = pipeline(&dns.Conn{Conn: c}, 10)
				}
			}
			fail(err)
		}()
	}
	ready.Wait()
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	close(stopped)
	done.Wait()
}
