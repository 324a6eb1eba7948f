package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// kubeconfigWithOtherCA writes a copy of kubedns's kubeconfig whose CA is a
// fresh one that did not sign the API server's certificate.
func kubeconfigWithOtherCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "not the API server's CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	caPath := filepath.Join(dir, "other-ca.crt")
	if err := os.WriteFile(caPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.LoadFromFile(env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthority, c.CertificateAuthorityData = caPath, nil
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// metricValue returns the value of the sample named exactly series (name and
// labels, as exposed) in a Prometheus text exposition, or -1 when absent.
func metricValue(exposition, series string) float64 {
	for _, l := range strings.Split(exposition, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// linesWith returns the lines of text that contain every one of words.
func linesWith(text string, words ...string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(l, w)
		}
		if all {
			out = append(out, l)
		}
	}
	return out
}

// TestUntrustedCA runs kube-dns with a kubeconfig whose CA did not sign the
// API server's certificate. That is no outage: kube-dns must not retry it
// every second as if the API server were away, but say what is wrong once per
// resource, in words naming the certificate, count every failed call, keep
// readiness 503 and exit 1 at --initial-sync-timeout naming what did not sync.
func TestUntrustedCA(t *testing.T) {
	requireCluster(t)
	const syncTimeout = "8s"
	k := startKubeDNS(t, "--kubecfg-file="+kubeconfigWithOtherCA(t), "--config-map=kube-dns",
		"--initial-sync-timeout="+syncTimeout)
	resources := []string{"services", "namespaces", "endpointslices", "configmaps"}
	const words = "certificate is not trusted by the CA"

	// Every resource says so, and the reflectors' own retries (client-go
	// backs off from 0.8 s) are counted: the one line is not one attempt.
	reported := func() error {
		log := k.log()
		for _, r := range resources {
			if len(linesWith(log, words, `resource="`+r+`"`)) == 0 {
				return fmt.Errorf("no line naming the untrusted certificate for %s", r)
			}
		}
		body, err := httpGetBody("http://" + k.metrics + "/metrics")
		if err != nil {
			return err
		}
		for _, r := range resources {
			series := `kubedns_api_errors_total{cause="tls",resource="` + r + `"}`
			if v := metricValue(body, series); v < 3 {
				return fmt.Errorf("%s = %v, want at least 3 failed calls", series, v)
			}
		}
		return nil
	}
	if _, err := eventually(20*time.Second, func() error {
		err := reported()
		select {
		case exit := <-k.exited:
			k.exited <- exit
			if err != nil {
				return fmt.Errorf("%w: kube-dns exited (%v) before: %v", errStop, exit, err)
			}
		default:
		}
		return err
	}); err != nil {
		t.Fatalf("%v\nlog:\n%s", err, k.log())
	}
	resp, err := http.Get("http://" + k.healthz + "/readiness")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readiness %d with an untrusted API server certificate, want 503", resp.StatusCode)
	}

	select {
	case err = <-k.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("kube-dns did not give up at --initial-sync-timeout")
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1", err)
	}
	log := k.log()
	if !strings.Contains(log, "not synced within "+syncTimeout+": services, namespaces, endpointslices") {
		t.Errorf("the final error does not name the caches that did not sync:\n%s", log)
	}
	// Over the whole run (several attempts per resource), one line each.
	for _, r := range resources {
		if got := linesWith(log, words, `resource="`+r+`"`); len(got) != 1 {
			t.Errorf("%s: %d lines naming the certificate, want 1:\n%s", r, len(got), strings.Join(got, "\n"))
		}
	}
	t.Logf("reported:\n%s", strings.Join(linesWith(log, words), "\n"))
	if got := linesWith(log, "x509"); len(got) != len(resources) {
		t.Errorf("%d lines mention x509, want one per resource:\n%s", len(got), strings.Join(got, "\n"))
	}
	if strings.Contains(log, "goroutine ") || strings.Contains(log, "panic") {
		t.Errorf("stack trace in the log:\n%s", log)
	}
}
