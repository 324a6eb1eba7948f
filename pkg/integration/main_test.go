package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kubedns-go/kube-dns/pkg/localcluster"
)

// env is the control plane every test shares.
var env struct {
	skip       string // why the tests cannot run, when they cannot
	root       string // repository root
	dir        string // control-plane directory (kubeconfigs, logs)
	vars       map[string]string
	kubeDNS    string // the kube-dns binary under test
	nanny      string // the dnsmasq-nanny binary under test
	sidecar    string // the sidecar binary under test
	admin      kubernetes.Interface
	kubeconfig string // kubedns's own kubeconfig: the kube-system/kube-dns service account
}

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := localcluster.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	env.root = root
	version := os.Getenv("K8S_VERSION")
	if version == "" {
		version = "v1.35.4"
	}
	bin := filepath.Join(root, "_output", "bin", version)
	if _, err := os.Stat(filepath.Join(bin, "kube-apiserver")); err != nil {
		env.skip = fmt.Sprintf("no kube-apiserver in %s: run hack/build-control-plane.sh (make test does)", bin)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "kubedns-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.dir = dir

	if out, err := exec.Command(filepath.Join(root, "hack", "local-cluster.sh"), "up", dir).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "starting the control plane: %v\n%s", err, out)
		return 1
	}
	defer func() {
		if out, err := exec.Command(filepath.Join(root, "hack", "local-cluster.sh"), "down", dir).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "stopping the control plane: %v\n%s", err, out)
		}
	}()
	if err := setup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func setup() error {
	vars, err := localcluster.ReadEnv(env.dir)
	if err != nil {
		return err
	}
	env.vars = vars
	env.kubeconfig = vars["KUBEDNS_KUBECONFIG"]
	cfg, err := clientcmd.BuildConfigFromFlags("", vars["KUBECONFIG"])
	if err != nil {
		return fmt.Errorf("admin kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = 200, 400
	if env.admin, err = kubernetes.NewForConfig(cfg); err != nil {
		return err
	}
	env.kubeDNS = filepath.Join(env.dir, "kube-dns")
	env.nanny = filepath.Join(env.dir, "dnsmasq-nanny")
	env.sidecar = filepath.Join(env.dir, "sidecar")
	for bin, pkg := range map[string]string{env.kubeDNS: "./cmd/kube-dns", env.nanny: "./cmd/dnsmasq-nanny", env.sidecar: "./cmd/sidecar"} {
		build := exec.Command("go", "build", "-o", bin, pkg)
		build.Dir = env.root
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("building %s: %v\n%s", pkg, err, out)
		}
	}
	// The objects of the walkthrough, and the RBAC that cluster/ ships.
	for _, f := range []string{"hack/testdata/seed.yaml", "cluster/kube-dns-rbac.yaml"} {
		if err := kubectl("apply", "-f", filepath.Join(env.root, f)); err != nil {
			return err
		}
	}
	return nil
}

func kubectl(args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.vars["KUBECTL"], append([]string{"--kubeconfig", env.vars["KUBECONFIG"]}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// requireCluster skips the test, saying why, when there is no control plane.
func requireCluster(t *testing.T) {
	t.Helper()
	if env.skip != "" {
		t.Skip(env.skip)
	}
}
