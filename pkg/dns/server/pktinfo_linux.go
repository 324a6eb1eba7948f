package server

import (
	"encoding/binary"
	"net"
	"syscall"
)

// enablePacketInfo asks the kernel for the destination address of each query,
// so that replies leave from it even on a socket bound to a wildcard address.
func enablePacketInfo(conn *net.UDPConn) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
	})
}

// sourceOOB turns the packet-info control message of a query into the one
// that sends the reply from the query's destination address, written into
// buf. It returns nil when there is none.
func sourceOOB(oob, buf []byte) []byte {
	const hdr = syscall.SizeofCmsghdr
	for len(oob) >= hdr {
		l := cmsgLen(oob)
		if l < hdr || l > len(oob) {
			return nil
		}
		level := int32(binary.NativeEndian.Uint32(oob[hdr-8:]))
		typ := int32(binary.NativeEndian.Uint32(oob[hdr-4:]))
		data := oob[hdr:l]
		switch {
		case level == syscall.IPPROTO_IP && typ == syscall.IP_PKTINFO && len(data) >= syscall.SizeofInet4Pktinfo:
			// in_pktinfo{ifindex, spec_dst, addr}: reply from addr, any interface.
			out := buf[:syscall.CmsgSpace(syscall.SizeofInet4Pktinfo)]
			clear(out)
			putCmsgHdr(out, syscall.SizeofInet4Pktinfo, syscall.IPPROTO_IP, syscall.IP_PKTINFO)
			copy(out[hdr+4:hdr+8], data[8:12])
			return out
		case level == syscall.IPPROTO_IPV6 && typ == syscall.IPV6_PKTINFO && len(data) >= syscall.SizeofInet6Pktinfo:
			// in6_pktinfo{addr, ifindex}: reply from addr, any interface.
			out := buf[:syscall.CmsgSpace(syscall.SizeofInet6Pktinfo)]
			clear(out)
			putCmsgHdr(out, syscall.SizeofInet6Pktinfo, syscall.IPPROTO_IPV6, syscall.IPV6_PKTINFO)
			copy(out[hdr:hdr+16], data[:16])
			return out
		}
		next := syscall.CmsgSpace(l - hdr)
		if next >= len(oob) {
			return nil
		}
		oob = oob[next:]
	}
	return nil
}

// cmsgLen reads the length field of a control message header: a size_t,
// 8 bytes on 64-bit platforms and 4 on 32-bit ones.
func cmsgLen(b []byte) int {
	if syscall.SizeofCmsghdr == 16 {
		return int(binary.NativeEndian.Uint64(b))
	}
	return int(binary.NativeEndian.Uint32(b))
}

func putCmsgHdr(b []byte, dataLen int, level, typ int) {
	const hdr = syscall.SizeofCmsghdr
	if hdr == 16 {
		binary.NativeEndian.PutUint64(b, uint64(syscall.CmsgLen(dataLen)))
	} else {
		binary.NativeEndian.PutUint32(b, uint32(syscall.CmsgLen(dataLen)))
	}
	binary.NativeEndian.PutUint32(b[hdr-8:], uint32(level))
	binary.NativeEndian.PutUint32(b[hdr-4:], uint32(typ))
}
