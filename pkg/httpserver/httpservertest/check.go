// Package httpservertest checks, against a running server, that the limits
// of httpserver hold: the programs' tests start their real servers with
// Short limits and call Check on each of their addresses.
package httpservertest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/httpserver"
)

// bound is how long past a limit a check waits for the server to act.
const bound = 5 * time.Second

// Short returns httpserver.Default with timeouts short enough for tests;
// the header limit stays the real one.
func Short() httpserver.Limits {
	l := httpserver.Default()
	l.ReadHeaderTimeout = 1500 * time.Millisecond
	l.ReadTimeout = 3 * time.Second
	l.WriteTimeout = time.Second
	l.IdleTimeout = 500 * time.Millisecond
	return l
}

// Check runs the checks as subtests against the server at addr, whose
// limits are l; path must answer 200 to a GET.
func Check(t *testing.T, addr, path string, l httpserver.Limits) {
	t.Run("IdleClosed", func(t *testing.T) { IdleClosed(t, addr, path, l) })
	t.Run("HalfHeaderCut", func(t *testing.T) { HalfHeaderCut(t, addr, path, l) })
	t.Run("HeaderTooLarge", func(t *testing.T) { HeaderTooLarge(t, addr, path, l) })
	t.Run("AnswersBesideSlowClients", func(t *testing.T) { AnswersBesideSlowClients(t, addr, path, l) })
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, bound)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// get sends a GET of path with the extra header lines on c and reads the
// response.
func get(c net.Conn, br *bufio.Reader, path string, extra ...string) (*http.Response, error) {
	req := "GET " + path + " HTTP/1.1\r\nHost: test\r\nUser-Agent: httpservertest\r\n"
	for _, h := range extra {
		req += h + "\r\n"
	}
	if err := c.SetDeadline(time.Now().Add(bound)); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// closedBy waits until the server closes c or the deadline passes, and
// returns nil if it closed it.
func closedBy(c net.Conn, r io.Reader, deadline time.Time) error {
	if err := c.SetReadDeadline(deadline); err != nil {
		return err
	}
	var buf [64]byte
	n, err := r.Read(buf[:])
	switch {
	case n > 0:
		return fmt.Errorf("the server sent %q", buf[:n])
	case errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return nil
	case err == nil:
		return errors.New("read returned nothing")
	default:
		return err
	}
}

// IdleClosed makes a request on a connection kept alive and expects the
// server to close the connection once it has been idle for l.IdleTimeout,
// not before.
func IdleClosed(t *testing.T, addr, path string, l httpserver.Limits) {
	c := dial(t, addr)
	br := bufio.NewReader(c)
	start := time.Now() // before the request: the idle wait starts after its response
	resp, err := get(c, br, path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("GET %s: %s, close %v; want 200 kept alive", path, resp.Status, resp.Close)
	}
	if err := closedBy(c, br, start.Add(l.IdleTimeout+bound)); err != nil {
		t.Fatalf("idle connection not closed within %v of IdleTimeout %v: %v", bound, l.IdleTimeout, err)
	}
	if d := time.Since(start); d < l.IdleTimeout {
		t.Errorf("idle connection closed after %v, before IdleTimeout %v", d, l.IdleTimeout)
	}
}

// halfRequest is a GET whose headers do not end.
func halfRequest(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: test\r\nX-Slow: "
}

// HalfHeaderCut sends half a request and expects the server to close the
// connection without an answer after l.ReadHeaderTimeout, not before.
func HalfHeaderCut(t *testing.T, addr, path string, l httpserver.Limits) {
	start := time.Now() // before the dial: the server's wait starts after it
	c := dial(t, addr)
	if _, err := io.WriteString(c, halfRequest(path)); err != nil {
		t.Fatal(err)
	}
	if err := closedBy(c, c, start.Add(l.ReadHeaderTimeout+bound)); err != nil {
		t.Fatalf("connection with half a header not closed within %v of ReadHeaderTimeout %v: %v", bound, l.ReadHeaderTimeout, err)
	}
	if d := time.Since(start); d < l.ReadHeaderTimeout {
		t.Errorf("connection with half a header closed after %v, before ReadHeaderTimeout %v", d, l.ReadHeaderTimeout)
	}
}

// HeaderTooLarge expects 431 for headers beyond l.MaxHeaderBytes and the
// slack net/http adds to it (4 KiB), and 200 for headers just under it.
func HeaderTooLarge(t *testing.T, addr, path string, l httpserver.Limits) {
	for _, tc := range []struct {
		size int
		want int
	}{
		{l.MaxHeaderBytes - 1<<10, http.StatusOK},
		{l.MaxHeaderBytes + 4<<10 + 1<<10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		c := dial(t, addr)
		resp, err := get(c, bufio.NewReader(c), path, "X-Big: "+strings.Repeat("a", tc.size))
		if err != nil {
			t.Fatalf("GET %s with a header of %d bytes: %v", path, tc.size, err)
		}
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s with a header of %d bytes (MaxHeaderBytes %d): %s, want %d", path, tc.size, l.MaxHeaderBytes, resp.Status, tc.want)
		}
	}
}

// AnswersBesideSlowClients holds connections that sent half a request, and
// expects GETs of path on new connections, as the kubelet makes them, to
// answer 200 within the readiness probe's timeout (1 s) while those are
// still held.
func AnswersBesideSlowClients(t *testing.T, addr, path string, l httpserver.Limits) {
	const held = 64
	start := time.Now()
	var slow []net.Conn
	for range held {
		c := dial(t, addr)
		if _, err := io.WriteString(c, halfRequest(path)); err != nil {
			t.Fatal(err)
		}
		slow = append(slow, c)
	}

	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		t0 := time.Now()
		resp, err := probe.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s beside %d slow clients: %v", path, held, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s beside %d slow clients: %s", path, held, resp.Status)
		}
		t.Logf("GET %s beside %d slow clients: %v", path, held, time.Since(t0).Round(time.Microsecond))
	}

	// The slow clients held their connections all along, unless the
	// probes took so long that ReadHeaderTimeout passed.
	if d := time.Since(start); d >= l.ReadHeaderTimeout {
		t.Logf("the probes took %v, past ReadHeaderTimeout: the slow connections are not checked", d)
		return
	}
	for i, c := range slow {
		if err := closedBy(c, c, time.Now().Add(time.Millisecond)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("slow connection %d: %v, want still open", i, err)
		}
	}
}
