package sidecar

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kubedns-go/kube-dns/pkg/procnet"
)

// FuzzParseProbe feeds arbitrary --probe values to ParseProbe: it never
// panics, and a probe it accepts is valid and reads back from its String
// unchanged.
func FuzzParseProbe(f *testing.F) {
	for _, seed := range []string{
		"kubedns,127.0.0.1:10053,kubernetes.default.svc.cluster.local.,5,SRV",
		"dnsmasq,127.0.0.1:53,kubernetes.default.svc.cluster.local,5,A",
		"v6,[::1]:53,x.,1,aaaa",
		"l,127.0.0.1,name",
		"l,127.0.0.1,name,,",
		"bad label,127.0.0.1,x",
		"l,::1,x",
		"l,127.0.0.1:0,x,0",
		"l,127.0.0.1:70000,x,86401,MX",
		"l, 127.0.0.1 , x , 2 , any",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseProbe(s)
		if err != nil {
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseProbe(%q) accepted an invalid probe %+v: %v", s, p, err)
		}
		q, err := ParseProbe(p.String())
		if err != nil || q != p {
			t.Fatalf("ParseProbe(%q) = %+v; its String %q reads back as %+v, %v", s, p, p.String(), q, err)
		}
	})
}

// FuzzParseTCPState feeds arbitrary bytes to the parsers of the TCP state:
// the socket tables of /proc/net/tcp and tcp6, /proc/net/netstat, and a
// sock_diag datagram. None panics, a count never exceeds what the input
// could hold, and a table that parses takes one more line as it should.
func FuzzParseTCPState(f *testing.F) {
	// The first lines of the fixtures: small inputs keep the fuzzer fast.
	for _, name := range []string{"full/tcp", "full/tcp6", "malformed/tcp6", "idle/netstat"} {
		b, err := os.ReadFile(filepath.Join("testdata/procnet", name))
		if err != nil {
			f.Fatal(err)
		}
		lines := strings.SplitAfter(string(b), "\n")
		f.Add([]byte(strings.Join(lines[:min(len(lines), 5)], "")))
	}
	f.Add([]byte(tcpHeader + listen53 + conn53))
	f.Add([]byte("TcpExt: ListenDrops ListenOverflows\nTcpExt: 9 7\n"))
	f.Add(cat(nlmsg(sockDiagByFamily, diagMsg(tcpListen, 53, 32, 4), false), errMsg(0), nlmsg(nlmsgDone, []byte{0, 0, 0, 0}, false)))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := string(b)
		lines := strings.Count(s, "\n") + 1
		for _, addrLen := range []int{8, 32} {
			var st TCPPortStats
			listen, err := parseTCP(strings.NewReader(s), 53, addrLen, &st)
			if err != nil {
				continue
			}
			if st.Connections+listen > lines || st.AcceptQueue > uint64(listen)*(1<<32-1) {
				t.Fatalf("%d lines gave %d connections, %d listeners, %d queued", lines, st.Connections, listen, st.AcceptQueue)
			}
			if addrLen != 8 || !strings.HasSuffix(s, "\n") {
				continue
			}
			more := st
			listen2, err := parseTCP(strings.NewReader(s+conn53), 53, addrLen, &more)
			if err != nil || more.Connections != 2*st.Connections+1 || listen2 != listen {
				t.Fatalf("with one more connection: %+v, %d listeners, %v; before %+v, %d listeners", more, listen2, err, st, listen)
			}
		}
		if v, err := procnet.ParseCounter(strings.NewReader(s), "TcpExt", "ListenOverflows"); err == nil && !strings.Contains(s, strconv.FormatUint(v, 10)) {
			t.Fatalf("ListenOverflows %d is not in the input", v)
		}
		d := diagListeners{port: 53}
		if _, err := d.add(b); err == nil && d.n > len(b)/(nlmsgHdrLen+inetDiagMsgLen) {
			t.Fatalf("%d listeners in %d bytes", d.n, len(b))
		}
	})
}
