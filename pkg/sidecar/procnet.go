package sidecar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kubedns-go/kube-dns/pkg/procnet"
)

// TCP states as /proc/net/tcp writes them (include/net/tcp_states.h).
const (
	tcpEstablished = 0x01
	tcpListen      = 0x0A
)

// TCPPortStats is what the network namespace's socket tables say about one
// local TCP port.
type TCPPortStats struct {
	// Connections counts the ESTABLISHED sockets of the port that a process
	// holds: connections accepted by the server and not yet closed. The
	// connections still waiting in the accept queue are ESTABLISHED too,
	// but belong to no process yet (inode 0); they are in AcceptQueue.
	Connections int
	// AcceptQueue sums the accept queues of the port's LISTEN sockets
	// (their rx_queue): connections the kernel has completed and the server
	// has not accepted yet.
	AcceptQueue uint64
	// Listen4 and Listen6 count the port's LISTEN sockets in tcp and tcp6.
	Listen4, Listen6 int
	// ListenOverflows is the namespace's TcpExt ListenOverflows: connection
	// attempts dropped because an accept queue, any listener's, was full.
	ListenOverflows uint64
}

// ProcNet reads the TCP state of a network namespace from the files of its
// /proc/net: tcp, tcp6 and netstat.
type ProcNet struct {
	// Root is the directory of the files: "/proc/net" when empty, which is
	// the reading process's namespace (the pod's, for a container).
	Root string
}

func (p ProcNet) path(name string) string {
	if p.Root == "" {
		return filepath.Join("/proc/net", name)
	}
	return filepath.Join(p.Root, name)
}

// TCPPort reads the state of the local TCP port from tcp, tcp6 (a kernel
// without IPv6 has none) and netstat. Any line it cannot read fails the
// whole read: the counts would be wrong.
func (p ProcNet) TCPPort(port uint16) (TCPPortStats, error) {
	var st TCPPortStats
	for _, t := range []struct {
		name    string
		addrLen int
		listen  *int
	}{{"tcp", 8, &st.Listen4}, {"tcp6", 32, &st.Listen6}} {
		err := p.read(t.name, func(r io.Reader) error {
			var err error
			*t.listen, err = parseTCP(r, port, t.addrLen, &st)
			return err
		})
		if t.name == "tcp6" && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return TCPPortStats{}, err
		}
	}
	err := p.read("netstat", func(r io.Reader) error {
		var err error
		st.ListenOverflows, err = procnet.ParseCounter(r, "TcpExt", "ListenOverflows")
		return err
	})
	if err != nil {
		return TCPPortStats{}, err
	}
	return st, nil
}

// read opens the file name and hands it to parse.
func (p ProcNet) read(name string, parse func(io.Reader) error) error {
	f, err := os.Open(p.path(name))
	if err != nil {
		return fmt.Errorf("sidecar: %w", err)
	}
	defer f.Close()
	if err := parse(f); err != nil {
		return fmt.Errorf("sidecar: %s: %w", p.path(name), err)
	}
	return nil
}

// parseTCP reads a /proc/net/tcp or tcp6 table, whose addresses have
// addrLen hex digits (8 or 32), and adds to st the connections and accept
// queues of the local port. It returns the number of LISTEN sockets of the
// port. Lines look like
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	 0: 0100007F:0035 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 12218 ...
//
// For a LISTEN socket rx_queue is its accept queue's length; its tx_queue
// is not the backlog (that only sock_diag reports, see listenBacklog).
func parseTCP(r io.Reader, port uint16, addrLen int, st *TCPPortStats) (listen int, err error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return 0, err
		}
		return 0, errors.New("empty, want a header line")
	}
	if h := strings.Fields(sc.Text()); len(h) < 3 || h[0] != "sl" || h[1] != "local_address" {
		return 0, fmt.Errorf("line 1: %.40q is not the header of a TCP table", sc.Text())
	}
	var (
		conns int
		queue uint64
	)
	for n := 2; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		s, err := parseTCPLine(f, addrLen)
		if err != nil {
			return 0, fmt.Errorf("line %d: %w", n, err)
		}
		if s.port != port {
			continue
		}
		switch s.state {
		case tcpEstablished:
			if s.inode != 0 {
				conns++
			}
		case tcpListen:
			listen++
			queue += s.rxQueue
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	st.Connections += conns
	st.AcceptQueue += queue
	return listen, nil
}

// tcpSocket is the part of a socket table line parseTCP uses.
type tcpSocket struct {
	port    uint16 // local port
	state   uint8
	rxQueue uint64
	inode   uint64
}

// parseTCPLine checks the fields of a table line up to its inode, the tenth.
func parseTCPLine(f []string, addrLen int) (tcpSocket, error) {
	var s tcpSocket
	if len(f) < 10 {
		return s, fmt.Errorf("%d fields, want at least 10", len(f))
	}
	if !strings.HasSuffix(f[0], ":") {
		return s, fmt.Errorf("slot %.20q does not end in ':'", f[0])
	}
	port, err := parseHexEndpoint(f[1], addrLen)
	if err != nil {
		return s, fmt.Errorf("local address: %w", err)
	}
	if _, err := parseHexEndpoint(f[2], addrLen); err != nil {
		return s, fmt.Errorf("remote address: %w", err)
	}
	state, err := strconv.ParseUint(f[3], 16, 8)
	if err != nil || len(f[3]) != 2 {
		return s, fmt.Errorf("state %.20q is not two hex digits", f[3])
	}
	tx, rx, ok := strings.Cut(f[4], ":")
	if !ok {
		return s, fmt.Errorf("queues %.20q are not tx:rx", f[4])
	}
	if _, err := strconv.ParseUint(tx, 16, 32); err != nil {
		return s, fmt.Errorf("tx_queue %.20q is not hex", tx)
	}
	rxQueue, err := strconv.ParseUint(rx, 16, 32)
	if err != nil {
		return s, fmt.Errorf("rx_queue %.20q is not hex", rx)
	}
	inode, err := strconv.ParseUint(f[9], 10, 64)
	if err != nil {
		return s, fmt.Errorf("inode %.20q is not a number", f[9])
	}
	return tcpSocket{port: port, state: uint8(state), rxQueue: rxQueue, inode: inode}, nil
}

// parseHexEndpoint checks an "ADDRESS:PORT" of the tables, the address in
// addrLen hex digits and the port in 4, and returns the port.
func parseHexEndpoint(s string, addrLen int) (uint16, error) {
	addr, port, ok := strings.Cut(s, ":")
	if !ok || len(addr) != addrLen || len(port) != 4 {
		return 0, fmt.Errorf("%.50q is not %d hex digits:4 hex digits", s, addrLen)
	}
	for _, c := range addr {
		if !isHex(c) {
			return 0, fmt.Errorf("%.50q: address is not hex", s)
		}
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return 0, fmt.Errorf("%.50q: port is not hex", s)
	}
	return uint16(p), nil
}

func isHex(c rune) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
