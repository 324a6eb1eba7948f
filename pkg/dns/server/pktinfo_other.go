//go:build !linux

package server

import (
	"net"
	"syscall"
)

// enablePacketInfo is Linux-only; elsewhere replies leave from the address
// the kernel picks, which is the queried one unless the host is multi-homed
// and the socket is bound to a wildcard address.
func enablePacketInfo(*net.UDPConn) {}

func sourceOOB(_, _ []byte) []byte { return nil }

// serve reads one datagram at a time.
func (l *udpLoop) serve(stopping func() bool) error { return l.serveOne(stopping) }

// socketCount: one socket, read by one loop, outside Linux.
func socketCount(int) int { return 1 }

// ReusePort does nothing outside Linux, where kubedns binds one socket.
func ReusePort(_, _ string, _ syscall.RawConn) error { return nil }
