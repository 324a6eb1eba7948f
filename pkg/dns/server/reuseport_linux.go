package server

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// socketCount is how many UDP sockets Listen binds for a request of n: n, or
// one per CPU the process may use when n is 0. The kernel spreads the
// clients (by their address and port) over a SO_REUSEPORT group, so queries
// are read and answered on several CPUs without the loops sharing a socket's
// queue or lock. It costs CPU at moderate rates, where each loop wakes for
// fewer queries (hack/bench/results.md: the kubedns-reuseport row), so
// kubedns binds one unless --dns-udp-sockets says otherwise.
func socketCount(n int) int {
	if n <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return n
}

// ReusePort, a net.ListenConfig Control, sets SO_REUSEPORT before bind. Only sockets of the same user can
// join a group; a socket bound without it still makes the bind fail.
func ReusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}
