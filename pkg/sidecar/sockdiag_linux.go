package sidecar

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// sockDiagTimeout bounds each wait for the kernel's answer.
const sockDiagTimeout = 2 * time.Second

// listenBacklog returns the number of LISTEN sockets of the local TCP port,
// over IPv4 and or IPv6, and the largest of their backlogs, asking the
// kernel through sock_diag netlink, which needs no privilege. (A kernel
// without IPv6 refuses IPv6 dumps: ask only for the families that have
// listeners in /proc/net.)
func listenBacklog(port uint16, v4, v6 bool) (n int, backlog uint32, err error) {
	d := diagListeners{port: port}
	for _, f := range []struct {
		family uint8
		want   bool
	}{{syscall.AF_INET, v4}, {syscall.AF_INET6, v6}} {
		if !f.want {
			continue
		}
		if err := dumpListeners(f.family, &d); err != nil {
			return 0, 0, err
		}
	}
	return d.n, d.backlog, nil
}

// dumpListeners asks for every TCP LISTEN socket of family and adds those
// of d's port to d.
func dumpListeners(family uint8, d *diagListeners) error {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, syscall.NETLINK_INET_DIAG)
	if err != nil {
		return fmt.Errorf("sock_diag: socket: %w", err)
	}
	defer syscall.Close(fd)
	tv := syscall.NsecToTimeval(sockDiagTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		return fmt.Errorf("sock_diag: receive timeout: %w", err)
	}

	// struct nlmsghdr, then struct inet_diag_req_v2: family, protocol,
	// extensions, padding, the states wanted (a bit mask), and a socket id
	// left zero: a dump ignores it.
	const reqLen = nlmsgHdrLen + 56
	req := make([]byte, reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], reqLen)
	ne.PutUint16(req[4:], sockDiagByFamily)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST|syscall.NLM_F_DUMP)
	ne.PutUint32(req[8:], 1) // sequence number
	req[16], req[17] = family, syscall.IPPROTO_TCP
	ne.PutUint32(req[20:], 1<<tcpListen)
	if err := syscall.Sendto(fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return fmt.Errorf("sock_diag: send: %w", err)
	}

	buf := make([]byte, 64<<10)
	for {
		n, _, flags, _, err := syscall.Recvmsg(fd, buf, nil, 0)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return fmt.Errorf("sock_diag: receive: %w", err)
		case flags&syscall.MSG_TRUNC != 0:
			return errors.New("sock_diag: a datagram did not fit the buffer")
		case n == 0:
			return errors.New("sock_diag: the dump ended without NLMSG_DONE")
		}
		done, err := d.add(buf[:n])
		if err != nil || done {
			return err
		}
	}
}
