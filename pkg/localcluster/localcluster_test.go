package localcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadEnv(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "env"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("KUBECONFIG=/a/kubeconfig\nKUBEDNS_KUBECONFIG=/a/kube-dns.kubeconfig\nKUBECTL=/bin/kubectl\nAPI_SERVER=https://127.0.0.1:1\n# comment\n")
	vars, err := ReadEnv(dir)
	if err != nil {
		t.Fatal(err)
	}
	if vars["API_SERVER"] != "https://127.0.0.1:1" || vars["KUBECTL"] != "/bin/kubectl" {
		t.Errorf("vars %v", vars)
	}
	write("KUBECONFIG=/a/kubeconfig\n")
	if _, err := ReadEnv(dir); err == nil || !strings.Contains(err.Error(), "KUBEDNS_KUBECONFIG") {
		t.Errorf("missing variable: err %v", err)
	}
	if _, err := ReadEnv(filepath.Join(dir, "nope")); err == nil {
		t.Error("no env file: no error")
	}
}

func TestRoot(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("root %s has no go.mod", root)
	}
}
