package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kubedns-go/kube-dns/pkg/freeport"
)

// contender is one DNS server set-up under test.
type contender struct {
	name, desc string
	readsAPI   bool // serves the cluster's Services (propagation is measured)
	zone       bool // serves the zone files written from the API (zonefile.go)
	// bin is a program the contender needs and pkg the Debian package that
	// has it: without it the contender is skipped, with a note.
	bin, pkg string
	// relist: one process whose peak RSS through a relist is measured,
	// reading the API as user.
	relist bool
	user   string
	// optIn: run only when named in --contenders.
	optIn bool
	start func(ctx context.Context, e *benchEnv) (*server, error)
}

// benchEnv is what a contender's start needs.
type benchEnv struct {
	cfg   *config
	cl    *cluster
	dir   string     // this contender's logs and files
	zones *zoneFiles // for the contenders that serve zone files
	n     int        // the number of Services
}

// contenderNames are the contenders run by default (all but the opt-in
// ones), or with all, every one.
func contenderNames(all bool) []string {
	var names []string
	for _, c := range allContenders() {
		if all || !c.optIn {
			names = append(names, c.name)
		}
	}
	return names
}

func allContenders() []contender {
	// The manifest's dnsmasq arguments; the variants replace them.
	manifest := []string{"--cache-size=1000", "--no-negcache", "--dns-forward-max=1500"}
	return []contender{
		{name: "kubedns", desc: "kube-dns alone", readsAPI: true, start: startKubeDNS(),
			relist: true, user: "system:serviceaccount:kube-system:kube-dns"},
		{name: "kubedns-watchlist", desc: "kube-dns alone, streaming its initial lists (KUBE_FEATURE_WatchListClient=true) rather than listing them", readsAPI: true,
			start: startKubeDNSWith("", []string{"KUBE_FEATURE_WatchListClient=true"}), relist: true, user: "system:serviceaccount:kube-system:kube-dns", optIn: true},
		{name: "kubedns-baseline", desc: "kube-dns alone, another build of it to compare with (--baseline-kubedns, environment --baseline-env)", readsAPI: true,
			start: startKubeDNSWith("baseline", nil), relist: true, user: "system:serviceaccount:kube-system:kube-dns", optIn: true},
		{name: "kubedns-reuseport", desc: "kube-dns alone, --dns-udp-sockets=0: a UDP socket per CPU (SO_REUSEPORT), each read by its own loop", readsAPI: true,
			start: startKubeDNS("--dns-udp-sockets=0")},
		{name: "pod", desc: "dnsmasq (nanny, manifest args: --cache-size=1000 --no-negcache --dns-forward-max=1500) → kube-dns", readsAPI: true,
			start: podPath(manifest)},
		{name: "pod-negcache", desc: "as pod, negative answers cached for 5 s: dnsmasq without --no-negcache, kube-dns --negative-ttl=5", readsAPI: true,
			start: podPath([]string{"--cache-size=1000", "--dns-forward-max=1500"}, "--negative-ttl=5")},
		{name: "pod-negcache-cache10k", desc: "as pod-negcache, and dnsmasq --cache-size=10000", readsAPI: true,
			start: podPath([]string{"--cache-size=10000", "--dns-forward-max=1500"}, "--negative-ttl=5")},
		{name: "coredns", desc: "CoreDNS (version above), kubernetes plugin", readsAPI: true, start: coreDNS(false),
			relist: true, user: "admin"},
		{name: "coredns-cache", desc: "CoreDNS (version above), kubernetes plugin + cache 30", readsAPI: true, start: coreDNS(true)},
		{name: "knot", desc: "Knot DNS (version above) serving zone files of the records kube-dns serves, written from the API server's objects", zone: true,
			bin: "knotd", pkg: "knot", start: startKnot},
		{name: "nsd", desc: "NSD (version above) serving the same zone files", zone: true, bin: "nsd", pkg: "nsd", start: startNSD},
		{name: "static", desc: "miekg/dns server answering one fixed A record (the limit)", start: startStatic("static")},
		{name: "static-mmsg", desc: "the same answer from one SO_REUSEPORT UDP socket per CPU, read and written in batches (recvmmsg/sendmmsg), the machine's limit",
			start: startStatic("static-mmsg")},
	}
}

// server is a started contender: the processes and the DNS address.
type server struct {
	addr     string // 127.0.0.1:port, UDP
	metrics  string // kube-dns's Prometheus address, host:port, or ""
	procs    []*proc
	commands []string // as a shell would show them, for the report
}

func (s *server) add(p *proc) {
	s.procs = append(s.procs, p)
	s.commands = append(s.commands, p.commandLine)
}

// exited reports the first process that is no longer running.
func (s *server) exited() error {
	for _, p := range s.procs {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited (%v); log: %s", p.name, p.err, p.logPath)
		default:
		}
	}
	return nil
}

// stop stops the processes, last started first.
func (s *server) stop() {
	for i := len(s.procs) - 1; i >= 0; i-- {
		s.procs[i].stop()
	}
}

// rss sums VmRSS (KiB) over the processes and their descendants (the
// nanny's dnsmasq).
func (s *server) rss() int64 {
	var total int64
	for _, p := range s.procs {
		for _, pid := range append([]int{p.cmd.Process.Pid}, descendants(p.cmd.Process.Pid)...) {
			total += vmRSS(pid)
		}
	}
	return total
}

func vmRSS(pid int) int64 { return procStatus(pid, "VmRSS:") }

// descendants lists the children of pid, their children, and so on.
func descendants(pid int) []int {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// proc is one process the harness started.
type proc struct {
	name, logPath, commandLine string
	cmd                        *exec.Cmd
	done                       chan struct{}
	err                        error // after done
}

// startProc starts bin with args, its output in dir/<name>.log. The process
// gets its own process group, so a Ctrl-C reaches only the harness, which
// stops it in order; if the harness dies, the kernel kills it.
func startProc(dir, name string, env []string, bin string, args ...string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{}),
		commandLine: strings.TrimSpace(strings.Join(env, " ") + " " + shellJoin(append([]string{bin}, args...)))}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM, waits up to 10 s, then kills the process and any
// descendant it left behind (the processes seen before it was stopped, by
// PID and start time, so a reused PID is left alone).
func (p *proc) stop() {
	kids := map[int]string{}
	for _, pid := range descendants(p.cmd.Process.Pid) {
		kids[pid] = startTime(pid)
	}
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			logf("%s did not stop within 10s of SIGTERM; killing it", p.name)
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	for pid, started := range kids {
		if started != "" && startTime(pid) == started {
			logf("%s left process %d behind; killing it", p.name, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// startTime is field 22 of /proc/<pid>/stat ("" when the process is gone).
func startTime(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; count after its ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 20 || f[0] == "Z" {
		return ""
	}
	return f[19]
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " #'\"$") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// freePort returns a loopback port that is free for both UDP and TCP.
// freePort returns a loopback port free for both UDP and TCP.
func freePort() (int, error) { return freeport.Loopback() }

func freePorts(n int) ([]int, error) {
	var ports []int
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	return ports, nil
}

// runKubeDNS starts kube-dns as the add-on runs it, reading the API as the
// kube-dns service account. --lameduck=0s only shortens its stop.
func runKubeDNS(s *server, e *benchEnv, extra ...string) (dnsPort int, err error) {
	return runKubeDNSWith(s, e, filepath.Join(e.cfg.root, "_output/bin/kube-dns"), nil, extra...)
}

// runKubeDNSWith is runKubeDNS with the binary bin and environment env.
func runKubeDNSWith(s *server, e *benchEnv, bin string, env []string, extra ...string) (dnsPort int, err error) {
	ports, err := freePorts(3)
	if err != nil {
		return 0, err
	}
	args := append([]string{
		"--kubecfg-file=" + e.cl.env["KUBEDNS_KUBECONFIG"], "--domain=cluster.local.",
		"--dns-bind-address=127.0.0.1", "--dns-port=" + strconv.Itoa(ports[0]),
		"--healthz-port=" + strconv.Itoa(ports[1]), "--lameduck=0s", "--v=2"}, extra...)
	p, err := startProc(e.dir, "kube-dns", append([]string{"PROMETHEUS_PORT=" + strconv.Itoa(ports[2])}, env...), bin, args...)
	if err != nil {
		return 0, err
	}
	s.add(p)
	s.metrics = "127.0.0.1:" + strconv.Itoa(ports[2])
	return ports[0], nil
}

// startKubeDNS starts kube-dns alone, with args added to the usual ones.
func startKubeDNS(args ...string) func(context.Context, *benchEnv) (*server, error) {
	return startKubeDNSWith("", nil, args...)
}

// startKubeDNSWith is startKubeDNS with the environment env added and,
// when which is "baseline", the --baseline-kubedns binary.
func startKubeDNSWith(which string, env []string, args ...string) func(context.Context, *benchEnv) (*server, error) {
	return func(_ context.Context, e *benchEnv) (*server, error) {
		bin := filepath.Join(e.cfg.root, "_output/bin/kube-dns")
		if which == "baseline" {
			bin, env = e.cfg.baseline, append(env, e.cfg.baselineEnv...)
		}
		s := &server{}
		port, err := runKubeDNSWith(s, e, bin, env, args...)
		s.addr = fmt.Sprintf("127.0.0.1:%d", port)
		return s, err
	}
}

// podPath starts kube-dns and, at the same moment, the nanny running the real
// dnsmasq in front of it with the manifest's arguments, cache set to cache.
// --no-resolv and --no-hosts keep dnsmasq off this machine's resolver and
// hosts file (so no query leaves loopback), --pid-file= off /run.
func podPath(cache []string, kubednsArgs ...string) func(context.Context, *benchEnv) (*server, error) {
	return func(_ context.Context, e *benchEnv) (*server, error) {
		s := &server{}
		kubedns, err := runKubeDNS(s, e, kubednsArgs...)
		if err != nil {
			return s, err
		}
		ports, err := freePorts(1)
		if err != nil {
			return s, err
		}
		configDir := filepath.Join(e.dir, "config")
		if err := os.MkdirAll(configDir, 0o755); err != nil {
			return s, err
		}
		up := fmt.Sprintf("127.0.0.1#%d", kubedns)
		args := []string{"-v=2", "-logtostderr", "-configDir=" + configDir, "-restartDnsmasq=true", "-lameduck=0s",
			"-clusterDomain=cluster.local", fmt.Sprintf("-kubednsServer=127.0.0.1:%d", kubedns), "--", "-k"}
		args = append(args, cache...)
		args = append(args, "--dns-loop-detect", "--log-facility=-",
			"--server=/cluster.local/"+up, "--server=/in-addr.arpa/"+up, "--server=/ip6.arpa/"+up,
			"--port="+strconv.Itoa(ports[0]), "--listen-address=127.0.0.1", "--bind-interfaces",
			"--no-resolv", "--no-hosts", "--pid-file=")
		p, err := startProc(e.dir, "dnsmasq-nanny", nil, filepath.Join(e.cfg.root, "_output/bin/dnsmasq-nanny"), args...)
		if err != nil {
			return s, err
		}
		s.add(p)
		s.addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		return s, nil
	}
}

// coreDNS starts CoreDNS with the kubernetes plugin reading the API as admin,
// with or without its cache plugin.
func coreDNS(cache bool) func(context.Context, *benchEnv) (*server, error) {
	return func(_ context.Context, e *benchEnv) (*server, error) {
		s := &server{}
		ports, err := freePorts(1)
		if err != nil {
			return s, err
		}
		corefile := fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
`, ports[0], e.cl.env["KUBECONFIG"])
		if cache {
			corefile += "    cache 30\n"
		}
		corefile += "}\n"
		path := filepath.Join(e.dir, "Corefile")
		if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
			return s, err
		}
		p, err := startProc(e.dir, "coredns", nil, e.cfg.coredns, "-conf", path)
		if err != nil {
			return s, err
		}
		s.add(p)
		s.commands = append(s.commands, "# "+path+":\n"+corefile)
		s.addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		return s, nil
	}
}

// startStatic starts one of this program's static modes (static,
// static-mmsg).
func startStatic(mode string) func(context.Context, *benchEnv) (*server, error) {
	return func(_ context.Context, e *benchEnv) (*server, error) {
		s := &server{}
		self, err := os.Executable()
		if err != nil {
			return s, err
		}
		ports, err := freePorts(1)
		if err != nil {
			return s, err
		}
		s.addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		p, err := startProc(e.dir, mode, nil, self, mode, "-addr", s.addr)
		if err != nil {
			return s, err
		}
		s.add(p)
		return s, nil
	}
}

// lookBin finds a program on PATH or, as a user's PATH may not hold them,
// in the sbin directories.
func lookBin(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}
