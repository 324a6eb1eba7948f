package sidecar

import (
	"errors"
	"syscall"
	"testing"
	"time"
)

// loopback is a loopback address of one family, as the syscall package
// takes it.
type loopback struct {
	name   string
	family int
	addr   func(port int) syscall.Sockaddr
}

var loopbacks = []loopback{
	{name: "tcp", family: syscall.AF_INET, addr: func(port int) syscall.Sockaddr {
		return &syscall.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}
	}},
	{name: "tcp6", family: syscall.AF_INET6, addr: func(port int) syscall.Sockaddr {
		return &syscall.SockaddrInet6{Port: port, Addr: [16]byte{15: 1}}
	}},
}

// listenRaw listens on a free port of lo with the given backlog and never
// accepts by itself; it returns the socket and its port. Without the
// address family (no IPv6 in the kernel), the test is skipped.
func listenRaw(t *testing.T, lo loopback, backlog int) (fd, port int) {
	t.Helper()
	fd, err := syscall.Socket(lo.family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Skipf("no %s sockets: %v", lo.name, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, lo.addr(0)); errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Skipf("no %s loopback address: %v", lo.name, err)
	} else if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		port = sa.Port
	case *syscall.SockaddrInet6:
		port = sa.Port
	}
	return fd, port
}

// connectRaw starts n connections to port of lo without waiting for them:
// those the listener's accept queue has room for complete, the others'
// SYNs are dropped. They are closed when the test ends.
func connectRaw(t *testing.T, lo loopback, port, n int) {
	t.Helper()
	for range n {
		fd, err := syscall.Socket(lo.family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { syscall.Close(fd) })
		if err := syscall.Connect(fd, lo.addr(port)); err != nil && !errors.Is(err, syscall.EINPROGRESS) {
			t.Fatal(err)
		}
	}
}

// readUntil reads the real /proc/net for port until cond holds.
func readUntil(t *testing.T, port int, what string, cond func(TCPPortStats) bool) TCPPortStats {
	t.Helper()
	var st TCPPortStats
	eventually(t, 10*time.Second, what, func() bool {
		var err error
		if st, err = (ProcNet{}).TCPPort(uint16(port)); err != nil {
			t.Fatal(err)
		}
		return cond(st)
	})
	return st
}

// TestProcNetKernelAcceptQueue fills the accept queue of a real listener
// with backlog 2, which never accepts: the kernel queues backlog+1
// connections and drops the SYNs of the others, counting ListenOverflows.
// The reader sees the queue in /proc/net and the backlog through sock_diag.
func TestProcNetKernelAcceptQueue(t *testing.T) {
	for _, lo := range loopbacks {
		t.Run(lo.name, func(t *testing.T) {
			const backlog = 2
			_, port := listenRaw(t, lo, backlog)
			before, err := ProcNet{}.TCPPort(uint16(port))
			if err != nil {
				t.Fatal(err)
			}
			connectRaw(t, lo, port, backlog+3)
			st := readUntil(t, port, "a full accept queue and 2 drops", func(st TCPPortStats) bool {
				return st.AcceptQueue == backlog+1 && st.ListenOverflows >= before.ListenOverflows+2
			})
			// Before: an outgoing connection may have the same local port
			// on another address.
			if st.Connections != before.Connections {
				t.Errorf("%d connections, %d before: queued ones were counted as accepted", st.Connections, before.Connections)
			}
			if l4, l6 := st.Listen4, st.Listen6; (lo.name == "tcp") != (l4 == 1 && l6 == 0) || (lo.name == "tcp6") != (l4 == 0 && l6 == 1) {
				t.Errorf("listeners: %d in tcp, %d in tcp6", l4, l6)
			}
			n, b, err := listenBacklog(uint16(port), st.Listen4 > 0, st.Listen6 > 0)
			if err != nil || n != 1 || b != backlog {
				t.Errorf("listenBacklog = %d listeners, backlog %d, %v; want 1, %d", n, b, err, backlog)
			}
		})
	}
}

// TestProcNetKernelAccepted accepts one of two queued connections: it
// leaves the queue and counts as a connection.
func TestProcNetKernelAccepted(t *testing.T) {
	for _, lo := range loopbacks {
		t.Run(lo.name, func(t *testing.T) {
			ln, port := listenRaw(t, lo, 8)
			connectRaw(t, lo, port, 2)
			before := readUntil(t, port, "2 queued connections", func(st TCPPortStats) bool { return st.AcceptQueue == 2 })
			fd, _, err := syscall.Accept4(ln, syscall.SOCK_CLOEXEC)
			if err != nil {
				t.Fatal(err)
			}
			defer syscall.Close(fd)
			readUntil(t, port, "1 accepted and 1 queued", func(st TCPPortStats) bool {
				return st.Connections == before.Connections+1 && st.AcceptQueue == 1
			})
		})
	}
}
