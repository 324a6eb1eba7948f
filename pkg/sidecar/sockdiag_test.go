package sidecar

import (
	"encoding/binary"
	"strings"
	"testing"
)

// nlmsg is a netlink message of type typ, padded to 4 bytes unless
// unpadded.
func nlmsg(typ uint16, payload []byte, unpadded bool) []byte {
	n := nlmsgHdrLen + len(payload)
	b := make([]byte, nlmsgHdrLen, n+3)
	binary.NativeEndian.PutUint32(b, uint32(n))
	binary.NativeEndian.PutUint16(b[4:], typ)
	b = append(b, payload...)
	for !unpadded && len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// diagMsg is an inet_diag_msg of a socket in state with local port sport
// and idiag_wqueue wqueue, plus extra bytes of attributes.
func diagMsg(state uint8, sport uint16, wqueue uint32, extra int) []byte {
	p := make([]byte, inetDiagMsgLen+extra)
	p[0], p[1] = 2, state
	binary.BigEndian.PutUint16(p[diagSportOff:], sport)
	binary.NativeEndian.PutUint32(p[diagWqueueOff:], wqueue)
	binary.NativeEndian.PutUint32(p[68:], 4242) // inode
	return p
}

func errMsg(errno int32) []byte {
	p := make([]byte, 4+nlmsgHdrLen)
	binary.NativeEndian.PutUint32(p, uint32(errno))
	return nlmsg(nlmsgError, p, false)
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}

func TestDiagListeners(t *testing.T) {
	done := nlmsg(nlmsgDone, []byte{0, 0, 0, 0}, false)
	tests := []struct {
		name     string
		in       [][]byte // datagrams
		n        int
		backlog  uint32
		finished bool
		err      string // in the error; "" for none
	}{
		{name: "two listeners of the port", in: [][]byte{
			cat(nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 32, 0), false),
				nlmsg(sockDiagByFamily, diagMsg(tcpListen, 10053, 4096, 8), false),
				nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 64, 3), false)),
			done,
		}, n: 2, backlog: 64, finished: true},
		{name: "other states and types are skipped", in: [][]byte{
			cat(nlmsg(sockDiagByFamily, diagMsg(tcpEstablished, 53, 9999, 0), false), nlmsg(1, nil, false), errMsg(0)),
			cat(nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 5, 0), false), done),
		}, n: 1, backlog: 5, finished: true},
		{name: "last message unpadded", in: [][]byte{nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 7, 1), true)}, n: 1, backlog: 7},
		{name: "empty datagram", in: [][]byte{{}}},
		{name: "done stops reading", in: [][]byte{cat(done, []byte{1, 2, 3})}, finished: true},

		{name: "kernel error", in: [][]byte{errMsg(-1)}, err: "kernel error 1"},
		{name: "short error", in: [][]byte{nlmsg(nlmsgError, []byte{1}, false)}, err: "error message of 1 bytes"},
		{name: "short header", in: [][]byte{make([]byte, 15)}, err: "15 bytes left, short of a message header"},
		{name: "length below the header", in: [][]byte{{8, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, err: "message length 8"},
		{name: "length past the end", in: [][]byte{nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 7, 0), false)[:60]}, err: "message length 88, 60 bytes left"},
		{name: "short inet_diag_msg", in: [][]byte{nlmsg(sockDiagByFamily, make([]byte, 71), false)}, err: "inet_diag_msg of 71 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := diagListeners{port: 53}
			var (
				finished bool
				err      error
			)
			for _, b := range tt.in {
				if finished, err = d.add(b); err != nil || finished {
					break
				}
			}
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || finished != tt.finished || d.n != tt.n || d.backlog != tt.backlog {
				t.Errorf("done %v, %d listeners, backlog %d, %v; want %v, %d, %d", finished, d.n, d.backlog, err, tt.finished, tt.n, tt.backlog)
			}
		})
	}
}
