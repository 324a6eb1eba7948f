package integration

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	nannyoptions "github.com/kubedns-go/kube-dns/cmd/dnsmasq-nanny/app/options"
	"github.com/kubedns-go/kube-dns/pkg/dnsmasq/dnsmasqtest"
)

// mounted is an emptyDir volume mounted by a container.
type mounted struct {
	path string
	size int64 // the sizeLimit in bytes; 0 without one
	vol  *corev1.EmptyDirVolumeSource
}

// emptyDirMounts returns the emptyDir volumes c mounts.
func emptyDirMounts(t *testing.T, spec *corev1.PodSpec, c *corev1.Container) []mounted {
	t.Helper()
	var out []mounted
	for _, m := range c.VolumeMounts {
		for i := range spec.Volumes {
			v := &spec.Volumes[i]
			if v.Name != m.Name || v.EmptyDir == nil {
				continue
			}
			mt := mounted{path: m.MountPath, vol: v.EmptyDir}
			if v.EmptyDir.SizeLimit != nil {
				mt.size = v.EmptyDir.SizeLimit.Value()
			}
			if m.ReadOnly {
				t.Errorf("%s: emptyDir %s mounted read-only", c.Name, v.Name)
			}
			out = append(out, mt)
		}
	}
	return out
}

// nannyArgs parses the dnsmasq container's arguments as dnsmasq-nanny does,
// and returns its options (validated, dnsmasq's arguments in DnsmasqArgs)
// and the names of the flags given. Call preserveKlog first.
func nannyArgs(t *testing.T, c *corev1.Container) (*nannyoptions.NannyOptions, map[string]bool) {
	t.Helper()
	no := nannyoptions.NewNannyOptions()
	fs := flag.NewFlagSet("dnsmasq-nanny", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	no.AddFlags(fs)
	if err := no.Parse(fs, c.Args); err != nil {
		t.Fatalf("dnsmasq-nanny %v: %v", c.Args, err)
	}
	if err := no.Validate(); err != nil {
		t.Errorf("dnsmasq-nanny %v: %v", c.Args, err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return no, given
}

// TestManifestServersFileDir: the nanny writes dnsmasq's servers file into a
// small memory-backed emptyDir, the only writable place under the
// container's read-only root.
func TestManifestServersFileDir(t *testing.T) {
	dir := renderManifests(t)
	var d appsv1.Deployment
	loadManifest(t, filepath.Join(dir, kubeDNSManifest)).decode(t, "Deployment kube-system/kube-dns", &d)
	c := container(t, &d.Spec.Template.Spec, "dnsmasq")
	preserveKlog(t)
	no, given := nannyArgs(t, c)
	// Unless given, the directory is the container's $TMPDIR, else /tmp.
	serversDir := envOf(c)("TMPDIR")
	if serversDir == "" {
		serversDir = "/tmp"
	}
	if given["serversFileDir"] {
		serversDir = no.ServersFileDir
	}
	var found *mounted
	for _, m := range emptyDirMounts(t, &d.Spec.Template.Spec, c) {
		if m.path == serversDir {
			found = &m
		}
	}
	switch {
	case found == nil:
		t.Fatalf("dnsmasq: the servers file goes into %s, which is no emptyDir mount: under the read-only root every change would restart dnsmasq", serversDir)
	case found.vol.Medium != corev1.StorageMediumMemory:
		t.Errorf("the emptyDir at %s has medium %q, want Memory", serversDir, found.vol.Medium)
	case found.size <= 0 || found.size > 16<<20:
		t.Errorf("the emptyDir at %s has sizeLimit %d bytes, want a small one", serversDir, found.size)
	}
}

// TestManifestDnsmasqSecurityContext runs the dnsmasq container's command,
// the real dnsmasq-nanny with the manifest's arguments and the real dnsmasq,
// the way the kubelet would: in a network namespace of its own with the pod's
// sysctls, a read-only root filesystem, the container's user and group, no
// new privileges, and only the capabilities the container adds. dnsmasq must
// bind port 53 and keep running. Needs root (to make the namespaces); the
// other tests do not.
func TestManifestDnsmasqSecurityContext(t *testing.T) {
	requireCluster(t) // for the nanny binary TestMain builds
	if os.Geteuid() != 0 {
		t.Skip("not root: cannot make the namespaces that stand in for the container")
	}
	dnsmasqtest.Require(t)
	for _, tool := range []string{"unshare", "setpriv", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s (util-linux)", tool)
		}
	}
	dir := renderManifests(t)
	var d appsv1.Deployment
	loadManifest(t, filepath.Join(dir, kubeDNSManifest)).decode(t, "Deployment kube-system/kube-dns", &d)
	c := container(t, &d.Spec.Template.Spec, "dnsmasq")
	psc, sc := d.Spec.Template.Spec.SecurityContext, c.SecurityContext
	if sc == nil || sc.RunAsUser == nil || sc.RunAsGroup == nil {
		t.Fatalf("dnsmasq: no runAsUser/runAsGroup in %+v", sc)
	}
	caps := []string{"-all"}
	if sc.Capabilities != nil {
		for _, c := range sc.Capabilities.Add {
			caps = append(caps, "+"+strings.ToLower(string(c)))
		}
	}
	var script strings.Builder
	// The nanny's binary is opened first: an emptyDir mounted below may
	// hide the directory it is in (/tmp).
	script.WriteString("set -e\nexec 9<\"$1\"\nshift\n")
	for _, s := range psc.Sysctls {
		fmt.Fprintf(&script, "echo %s > /proc/sys/%s\n", s.Value, strings.ReplaceAll(s.Name, ".", "/"))
	}
	if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		// In this mount namespace only: the machine's / stays writable.
		script.WriteString("mount --make-rprivate /\nmount -o remount,bind,ro /\n")
		for _, p := range []string{"/run", "/var/run", "/tmp"} {
			fmt.Fprintf(&script, "if mountpoint -q %s; then mount -o remount,bind,ro %s; fi\n", p, p)
		}
	}
	// The container's emptyDirs, as the kubelet makes them (0777).
	for _, m := range emptyDirMounts(t, &d.Spec.Template.Spec, c) {
		fmt.Fprintf(&script, "mount -t tmpfs -o size=%d,mode=0777 tmpfs %s\n", m.size, m.path)
	}
	nnp := ""
	if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
		nnp = "--no-new-privs"
	}
	fmt.Fprintf(&script, `exec setpriv --reuid=%d --regid=%d --clear-groups %s --bounding-set=%s --inh-caps=-all -- /proc/self/fd/9 "$@"`+"\n",
		*sc.RunAsUser, *sc.RunAsGroup, nnp, strings.Join(caps, ","))

	logPath := filepath.Join(env.dir, "TestManifestDnsmasqSecurityContext.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	// No --fork: the nanny is this process, and gets the test's SIGTERM.
	args := append([]string{"--net", "--mount", "--", "sh", "-c", script.String(), "sh", env.nanny}, c.Args...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logFile.Close() }()
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	defer func() {
		if t.Failed() {
			t.Logf("setup:\n%s\nlog:\n%s", script.String(), logText())
		}
	}()
	started := regexp.MustCompile(`dnsmasq\[\d+\]: started, version`)
	if _, err := eventually(10*time.Second, func() error {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("%w: exited: %v", errStop, err)
		default:
		}
		if !started.MatchString(logText()) {
			return errors.New("dnsmasq has not said it started")
		}
		return nil
	}); err != nil {
		if strings.Contains(logText(), "unshare failed") {
			t.Skipf("cannot make namespaces here: %s", logText())
		}
		t.Fatalf("dnsmasq under the container's security context: %v", err)
	}
	// Started means bound to port 53; still running a second later means it
	// did not die changing user or writing its pid file either.
	select {
	case err := <-exited:
		t.Fatalf("dnsmasq-nanny exited after dnsmasq started: %v", err)
	case <-time.After(time.Second):
	}
	// The servers file in use: written by the nanny and read by dnsmasq, as
	// the container's user, in the emptyDir.
	if !strings.Contains(logText(), "--servers-file=") || strings.Contains(logText(), "Cannot write dnsmasq's servers file") {
		t.Errorf("dnsmasq runs without the servers file")
	}
	for _, bad := range []string{"FAILED to start up", "Permission denied", "exited", "Operation not permitted", "cannot read"} {
		if strings.Contains(logText(), bad) {
			t.Errorf("log says %q", bad)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("dnsmasq-nanny exited with %v after SIGTERM", err)
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("dnsmasq-nanny did not exit after SIGTERM")
	}
}
