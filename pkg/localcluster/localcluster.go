// Package localcluster reads what hack/local-cluster.sh leaves for the
// programs that use the local control plane: the integration tests and the
// benchmark harness.
package localcluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Root walks up from the working directory to the repository root, the
// directory holding hack/local-cluster.sh.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack/local-cluster.sh")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("no hack/local-cluster.sh above the working directory: run inside the repository")
		}
		dir = up
	}
}

// ReadEnv reads the KEY=value lines of the env file local-cluster.sh writes
// into its directory, and checks that the variables every user needs are set.
func ReadEnv(dir string) (map[string]string, error) {
	path := filepath.Join(dir, "env")
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, k := range []string{"KUBECONFIG", "KUBEDNS_KUBECONFIG", "KUBECTL"} {
		if vars[k] == "" {
			return nil, fmt.Errorf("%s has no %s", path, k)
		}
	}
	return vars, nil
}
