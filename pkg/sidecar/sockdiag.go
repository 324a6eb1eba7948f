package sidecar

import (
	"encoding/binary"
	"fmt"
)

// The backlog of a listen socket (the length its accept queue may reach
// before the kernel drops connection attempts) is in none of /proc/net's
// files: tcp's tx_queue of a LISTEN socket is not it. The kernel reports it
// through sock_diag netlink (what ss shows as Send-Q), as idiag_wqueue of a
// LISTEN socket. What follows is the part of that ABI we use
// (linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h).
const (
	nlmsgHdrLen      = 16 // struct nlmsghdr
	nlmsgError       = 2
	nlmsgDone        = 3
	sockDiagByFamily = 20
	// struct inet_diag_msg: family, state, timer, retrans (1 byte each),
	// then the socket id (sport and dport big-endian at 4 and 6, addresses,
	// interface, cookie: 48 bytes), expires, rqueue, wqueue, uid, inode.
	inetDiagMsgLen = 72
	diagSportOff   = 4
	diagWqueueOff  = 60
)

// diagListeners accumulates the listen sockets of one port seen in a
// sock_diag dump.
type diagListeners struct {
	port    uint16
	n       int    // listen sockets of the port
	backlog uint32 // the largest backlog among them
}

// add reads one datagram of a sock_diag dump of LISTEN sockets: netlink
// messages, each an inet_diag_msg. It reports whether the dump is done (an
// NLMSG_DONE message), and fails on an NLMSG_ERROR or a malformed message.
func (d *diagListeners) add(b []byte) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return false, fmt.Errorf("sock_diag: %d bytes left, short of a message header", len(b))
		}
		n := ne.Uint32(b)
		if n < nlmsgHdrLen || uint64(n) > uint64(len(b)) {
			return false, fmt.Errorf("sock_diag: message length %d, %d bytes left", n, len(b))
		}
		typ, payload := ne.Uint16(b[4:]), b[nlmsgHdrLen:n]
		switch typ {
		case nlmsgDone:
			return true, nil
		case nlmsgError:
			if len(payload) < 4 {
				return false, fmt.Errorf("sock_diag: error message of %d bytes", len(payload))
			}
			if errno := int32(ne.Uint32(payload)); errno != 0 {
				return false, fmt.Errorf("sock_diag: kernel error %d", -errno)
			}
		case sockDiagByFamily:
			if len(payload) < inetDiagMsgLen {
				return false, fmt.Errorf("sock_diag: inet_diag_msg of %d bytes, want %d", len(payload), inetDiagMsgLen)
			}
			if payload[1] == tcpListen && binary.BigEndian.Uint16(payload[diagSportOff:]) == d.port {
				d.n++
				d.backlog = max(d.backlog, ne.Uint32(payload[diagWqueueOff:]))
			}
		}
		// Messages are aligned to 4 bytes; the last one may lack its padding.
		next := (uint64(n) + 3) &^ 3
		b = b[min(next, uint64(len(b))):]
	}
	return false, nil
}
