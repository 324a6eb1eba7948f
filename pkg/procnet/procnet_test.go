package procnet

import (
	"os"
	"path/filepath"
	"testing"
)

// The namespace's own /proc/net/snmp has the counter the lameduck reads;
// a file without it is an error naming the file. ParseCounter's cases are
// in pkg/sidecar's tests, which read TcpExt ListenOverflows through it.
func TestCounter(t *testing.T) {
	if _, err := Counter("/proc/net/snmp", "Udp", "InDatagrams"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "snmp")
	if err := os.WriteFile(path, []byte("Udp: InDatagrams NoPorts\nUdp: 7 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if v, err := Counter(path, "Udp", "InDatagrams"); err != nil || v != 7 {
		t.Errorf("Counter = %d, %v; want 7", v, err)
	}
	if _, err := Counter(path, "Udp", "OutDatagrams"); err == nil {
		t.Error("Counter of a missing field: no error")
	}
	if _, err := Counter(filepath.Join(t.TempDir(), "none"), "Udp", "InDatagrams"); err == nil {
		t.Error("Counter of a missing file: no error")
	}
}
