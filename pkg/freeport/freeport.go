// Package freeport picks ports for the tests and tools that start servers
// on loopback: free for both UDP and TCP, and below the kernel's ephemeral
// range, so that no client connection made meanwhile (a server's own, to
// the API server) can take the port before the server listens on it, as
// one picked by binding port 0 can.
package freeport

import (
	"errors"
	"math/rand/v2"
	"net"
	"strconv"
)

// Below the ephemeral range of Linux (ip_local_port_range, 32768 on by
// default) and above the ports of well-known services.
const (
	low  = 20000
	high = 32000
)

// On returns a port free for both UDP and TCP on ip.
func On(ip string) (int, error) {
	for range 200 {
		port := low + rand.IntN(high-low)
		addr := net.JoinHostPort(ip, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", addr)
		l.Close()
		if err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("freeport: no port free for both UDP and TCP on " + ip)
}

// Loopback returns a port free for both UDP and TCP on 127.0.0.1.
func Loopback() (int, error) { return On("127.0.0.1") }

// LoopbackIP returns 127.0.0.<n> when a socket can be bound to it (Linux
// routes all of 127/8 to lo), else 127.0.0.1: tests that need servers on
// distinct addresses fall back to distinct ports on one.
func LoopbackIP(n byte) string {
	ip := net.IPv4(127, 0, 0, n).String()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return "127.0.0.1"
	}
	pc.Close()
	return ip
}
