package sidecar

import (
	"strings"
	"testing"

	"github.com/kubedns-go/kube-dns/pkg/procnet"
)

// The fixtures under testdata/procnet are the /proc/net of a kube-dns pod
// (IP 10.244.1.7): dnsmasq listens on 0.0.0.0:53 and [::]:53, kubedns on
// [::]:10053, the sidecar on 0.0.0.0:10054; dnsmasq's own connections to
// kubedns and to an upstream server on port 53 start from ephemeral ports.
// Port 53 also has a CLOSE_WAIT, a TIME_WAIT and a SYN_RECV socket, none of
// which counts.
func TestProcNetFixtures(t *testing.T) {
	tests := []struct {
		name string
		port uint16
		want TCPPortStats
		err  string // in the error; "" for none
	}{
		{name: "idle", port: 53, want: TCPPortStats{Connections: 4, Listen4: 1, Listen6: 1}},
		// 18 accepted over IPv4 and 2 over IPv6; 33 waiting in the IPv4
		// accept queue and 1 in the IPv6 one.
		{name: "full", port: 53, want: TCPPortStats{Connections: 20, AcceptQueue: 34, Listen4: 1, Listen6: 1, ListenOverflows: 1523}},
		{name: "full", port: 10053, want: TCPPortStats{Connections: 1, Listen6: 1, ListenOverflows: 1523}},
		{name: "full", port: 10054, want: TCPPortStats{Connections: 1, Listen4: 1, ListenOverflows: 1523}},
		{name: "full", port: 5353, want: TCPPortStats{ListenOverflows: 1523}},
		{name: "no-tcp6", port: 53, want: TCPPortStats{Connections: 5, AcceptQueue: 2, Listen4: 1, ListenOverflows: 7}},
		{name: "malformed", port: 53, err: "testdata/procnet/malformed/tcp6: line 4: 5 fields, want at least 10"},
		{name: "missing", port: 53, err: "testdata/procnet/missing/tcp: no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProcNet{Root: "testdata/procnet/" + tt.name}.TCPPort(tt.port)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				if got != (TCPPortStats{}) {
					t.Errorf("a failed read returned %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("port %d: %+v, want %+v", tt.port, got, tt.want)
			}
		})
	}
}

const (
	tcpHeader  = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	tcp6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	listen53   = "   0: 00000000:0035 00000000:0000 0A 00000000:00000005 00:00000000 00000000  1001        0 101 1 ffff8a0c10008340 100 0 0 10 0\n"
	conn53     = "   1: 0701F40A:0035 0100F40A:9C93 01 00000000:00000000 00:00000000 00000000  1001        0 102 1 ffff8a0c1000af00 20 4 30 10 -1\n"
)

func TestParseTCP(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		addrLen int
		conns   int
		queue   uint64
		listen  int
		err     string // in the error; "" for none
	}{
		{name: "listener and connection", in: tcpHeader + listen53 + conn53, addrLen: 8, conns: 1, queue: 5, listen: 1},
		{name: "header only", in: tcpHeader, addrLen: 8},
		{name: "blank lines", in: tcpHeader + "\n" + listen53 + "  \n", addrLen: 8, queue: 5, listen: 1},
		{name: "lower-case hex", in: tcpHeader + strings.ReplaceAll(listen53, "0A 00000000:00000005", "0a 00000000:0000000a"), addrLen: 8, queue: 10, listen: 1},
		{name: "not yet accepted", in: tcpHeader + strings.Replace(conn53, " 102 ", " 0 ", 1), addrLen: 8},
		{name: "outgoing to port 53", in: tcpHeader + "   1: 0701F40A:B656 08080808:0035 01 00000000:00000000 00:00000000 00000000  1001        0 58380 1 0 20 4 30 10 -1\n", addrLen: 8},
		{name: "TIME_WAIT has 12 fields", in: tcpHeader + "  57: 0701F40A:0035 0A04F40A:CB68 06 00000000:00000000 03:00001234 00000000     0        0 0 3 ffff8a0c10027600\n", addrLen: 8},
		{name: "tcp6", in: tcp6Header + "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000002 00:00000000 00000000  1001        0 58692 1 0 100 0 0 10 0\n" +
			"   3: B80D0120000000000000000007000000:0035 B80D0120000000000000000000000097:B5A0 01 00000000:00000000 00:00000000 00000000  1001        0 58705 1 0 20 4 30 10 -1\n",
			addrLen: 32, conns: 1, queue: 2, listen: 1},

		{name: "empty", in: "", addrLen: 8, err: "empty"},
		{name: "no header", in: listen53, addrLen: 8, err: "line 1"},
		{name: "tcp6 line in tcp", in: tcp6Header + "   0: 00000000000000000000000000000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000002 00:00000000 00000000  1001        0 1 1 0\n", addrLen: 8, err: "line 2: local address"},
		{name: "truncated", in: tcpHeader + listen53[:60] + "\n", addrLen: 8, err: "line 2: 6 fields, want at least 10"},
		{name: "no slot colon", in: tcpHeader + strings.Replace(listen53, "0:", "0 ", 1), addrLen: 8, err: "slot"},
		{name: "port not hex", in: tcpHeader + strings.Replace(listen53, ":0035", ":00G5", 1), addrLen: 8, err: "port is not hex"},
		{name: "port too long", in: tcpHeader + strings.Replace(listen53, ":0035", ":00035", 1), addrLen: 8, err: "local address"},
		{name: "address not hex", in: tcpHeader + strings.Replace(listen53, "00000000:0035", "0000000Z:0035", 1), addrLen: 8, err: "address is not hex"},
		{name: "remote address", in: tcpHeader + strings.Replace(listen53, "00000000:0000", "00000000-0000", 1), addrLen: 8, err: "remote address"},
		{name: "state", in: tcpHeader + strings.Replace(listen53, " 0A ", " 0AA ", 1), addrLen: 8, err: "state"},
		{name: "queues without colon", in: tcpHeader + strings.Replace(listen53, "00000000:00000005", "0000000000000005", 1), addrLen: 8, err: "tx:rx"},
		{name: "tx_queue", in: tcpHeader + strings.Replace(listen53, "00000000:00000005", "-1:00000005", 1), addrLen: 8, err: "tx_queue"},
		{name: "rx_queue too big", in: tcpHeader + strings.Replace(listen53, "00000000:00000005", "00000000:100000000", 1), addrLen: 8, err: "rx_queue"},
		{name: "inode", in: tcpHeader + strings.Replace(listen53, " 101 ", " x ", 1), addrLen: 8, err: "inode"},
		{name: "bad line after good ones", in: tcpHeader + listen53 + conn53 + "garbage\n", addrLen: 8, err: "line 4"},
		{name: "overlong line", in: tcpHeader + strings.Repeat("x", 70000), addrLen: 8, err: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := TCPPortStats{Connections: 100, AcceptQueue: 100}
			listen, err := parseTCP(strings.NewReader(tt.in), 53, tt.addrLen, &st)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want one containing %q", err, tt.err)
				}
				if st.Connections != 100 || st.AcceptQueue != 100 {
					t.Errorf("a failed parse changed the stats: %+v", st)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Connections != 100+tt.conns || st.AcceptQueue != 100+tt.queue || listen != tt.listen {
				t.Errorf("added %d connections, %d queued, %d listeners; want %d, %d, %d",
					st.Connections-100, st.AcceptQueue-100, listen, tt.conns, tt.queue, tt.listen)
			}
		})
	}
}

func TestParseNetstat(t *testing.T) {
	const ip = "IpExt: InNoRoutes InTruncatedPkts\nIpExt: 0 0\n"
	tests := []struct {
		name string
		in   string
		want uint64
		err  string // in the error; "" for none
	}{
		{name: "first section", in: "TcpExt: ListenDrops ListenOverflows\nTcpExt: 9 7\n" + ip, want: 7},
		{name: "after another section", in: ip + "TcpExt: ListenOverflows\nTcpExt: 18446744073709551615\n", want: 1<<64 - 1},
		{name: "trailing spaces", in: "TcpExt: A ListenOverflows \nTcpExt: 1 2 \n", want: 2},

		{name: "empty", in: "", err: "no TcpExt section"},
		{name: "no section", in: ip, err: "no TcpExt section"},
		{name: "no field", in: "TcpExt: ListenDrops\nTcpExt: 9\n", err: "TcpExt has no ListenOverflows"},
		{name: "header alone", in: ip + "TcpExt: ListenOverflows\n", err: "line 3: header without a line of values"},
		{name: "values of another section", in: "TcpExt: ListenOverflows\nIpExt: 7\n", err: "lines 1-2"},
		{name: "no colon", in: "TcpExt ListenOverflows\nTcpExt 7\n", err: "lines 1-2"},
		{name: "more names than values", in: "TcpExt: A ListenOverflows\nTcpExt: 7\n", err: "2 names but 1 values"},
		{name: "negative", in: "TcpExt: ListenOverflows\nTcpExt: -7\n", err: "is not a count"},
		{name: "too big", in: "TcpExt: ListenOverflows\nTcpExt: 18446744073709551616\n", err: "is not a count"},
		{name: "other sections' values are not checked", in: "IpExt: A B\nIpExt: 1\nTcpExt: ListenOverflows\nTcpExt: 7\n", want: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := procnet.ParseCounter(strings.NewReader(tt.in), "TcpExt", "ListenOverflows")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}
