package contender

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/kubedns-go/kube-dns/hack/bench/internal/cluster"
	"github.com/kubedns-go/kube-dns/hack/bench/internal/proc"
)

// Contender is one DNS server set-up under test.
type Contender struct {
	Name, Desc string
	ReadsAPI   bool // serves the cluster's Services (propagation is measured)
	Zone       bool // serves the zone files of kube-dns's snapshot (cluster.WriteZones)
	// Bin is a program the contender needs and Pkg the Debian package that
	// has it: without it the contender is skipped, with a note.
	Bin, Pkg string
	// Relist: one process whose peak RSS through a relist is measured,
	// reading the API as User.
	Relist bool
	User   string
	// optIn: run only when named in --contenders.
	optIn bool
	Start func(ctx context.Context, e *Env) (*Server, error)
}

// Env is what a contender's start needs.
type Env struct {
	// Root is the repository, Coredns the CoreDNS binary, Baseline and
	// BaselineEnv the kubedns-baseline binary and its environment.
	Root, Coredns, Baseline string
	BaselineEnv             []string
	Cl                      *cluster.Cluster
	Dir                     string             // this contender's logs and files
	Zones                   *cluster.ZoneFiles // for the contenders that serve zone files
	N                       int                // the number of Services
}

// Names are the contenders run by default (all but the opt-in
// ones), or with all, every one.
func Names(all bool) []string {
	var names []string
	for _, c := range All() {
		if all || !c.optIn {
			names = append(names, c.Name)
		}
	}
	return names
}

// All are the contenders, in the order they run.
func All() []Contender {
	// The manifest's dnsmasq arguments; the variants replace them.
	manifest := []string{"--cache-size=1000", "--no-negcache", "--dns-forward-max=1500"}
	return []Contender{
		{Name: "kubedns", Desc: "kube-dns alone", ReadsAPI: true, Start: startKubeDNS(),
			Relist: true, User: "system:serviceaccount:kube-system:kube-dns"},
		{Name: "kubedns-watchlist", Desc: "kube-dns alone, streaming its initial lists (KUBE_FEATURE_WatchListClient=true) rather than listing them", ReadsAPI: true,
			Start: startKubeDNSWith("", []string{"KUBE_FEATURE_WatchListClient=true"}), Relist: true, User: "system:serviceaccount:kube-system:kube-dns", optIn: true},
		{Name: "kubedns-baseline", Desc: "kube-dns alone, another build of it to compare with (--baseline-kubedns, environment --baseline-env)", ReadsAPI: true,
			Start: startKubeDNSWith("baseline", nil), Relist: true, User: "system:serviceaccount:kube-system:kube-dns", optIn: true},
		{Name: "kubedns-reuseport", Desc: "kube-dns alone, --dns-udp-sockets=0: a UDP socket per CPU (SO_REUSEPORT), each read by its own loop", ReadsAPI: true,
			Start: startKubeDNS("--dns-udp-sockets=0")},
		{Name: "pod", Desc: "dnsmasq (nanny, manifest args: --cache-size=1000 --no-negcache --dns-forward-max=1500) → kube-dns", ReadsAPI: true,
			Start: podPath(manifest)},
		{Name: "pod-negcache", Desc: "as pod, negative answers cached for 5 s: dnsmasq without --no-negcache, kube-dns --negative-ttl=5", ReadsAPI: true,
			Start: podPath([]string{"--cache-size=1000", "--dns-forward-max=1500"}, "--negative-ttl=5")},
		{Name: "pod-negcache-cache10k", Desc: "as pod-negcache, and dnsmasq --cache-size=10000", ReadsAPI: true,
			Start: podPath([]string{"--cache-size=10000", "--dns-forward-max=1500"}, "--negative-ttl=5")},
		{Name: "coredns", Desc: "CoreDNS (version above), kubernetes plugin", ReadsAPI: true, Start: coreDNS(false),
			Relist: true, User: "admin"},
		{Name: "coredns-cache", Desc: "CoreDNS (version above), kubernetes plugin + cache 30", ReadsAPI: true, Start: coreDNS(true)},
		{Name: "knot", Desc: "Knot DNS (version above) serving zone files of the records kube-dns serves, written from the API server's objects", Zone: true,
			Bin: "knotd", Pkg: "knot", Start: startKnot},
		{Name: "nsd", Desc: "NSD (version above) serving the same zone files", Zone: true, Bin: "nsd", Pkg: "nsd", Start: startNSD},
		{Name: "static", Desc: "miekg/dns server answering one fixed A record (the limit)", Start: startStatic("static")},
		{Name: "static-mmsg", Desc: "the same answer from one SO_REUSEPORT UDP socket per CPU, read and written in batches (recvmmsg/sendmmsg), the machine's limit",
			Start: startStatic("static-mmsg")},
	}
}

// Server is a started contender: the processes and the DNS address.
type Server struct {
	Addr     string // 127.0.0.1:port, UDP
	Metrics  string // kube-dns's Prometheus address, host:port, or ""
	Procs    []*proc.Proc
	Commands []string // as a shell would show them, for the report
}

func (s *Server) add(p *proc.Proc) {
	s.Procs = append(s.Procs, p)
	s.Commands = append(s.Commands, p.CommandLine)
}

// Exited reports the first process that is no longer running.
func (s *Server) Exited() error {
	for _, p := range s.Procs {
		select {
		case <-p.Done:
			return fmt.Errorf("%s exited (%v); log: %s", p.Name, p.Err, p.LogPath)
		default:
		}
	}
	return nil
}

// Stop stops the processes, last started first.
func (s *Server) Stop() {
	for i := len(s.Procs) - 1; i >= 0; i-- {
		s.Procs[i].Stop()
	}
}

// RSS sums VmRSS and RssAnon (KiB) over the processes and their descendants (the
// nanny's dnsmasq).
func (s *Server) RSS() (rss, anon int64) {
	for _, pid := range s.PIDs() {
		kb := proc.Status(pid, "VmRSS:", "RssAnon:")
		rss, anon = rss+kb[0], anon+kb[1]
	}
	return rss, anon
}

// runKubeDNS starts kube-dns as the add-on runs it, reading the API as the
// kube-dns service account. --lameduck=0s only shortens its stop.
func runKubeDNS(s *Server, e *Env, extra ...string) (dnsPort int, err error) {
	return runKubeDNSWith(s, e, filepath.Join(e.Root, "_output/bin/kube-dns"), nil, extra...)
}

// runKubeDNSWith is runKubeDNS with the binary bin and environment env.
func runKubeDNSWith(s *Server, e *Env, bin string, env []string, extra ...string) (dnsPort int, err error) {
	ports, err := proc.FreePorts(3)
	if err != nil {
		return 0, err
	}
	args := append([]string{
		"--kubecfg-file=" + e.Cl.Env["KUBEDNS_KUBECONFIG"], "--domain=cluster.local.",
		"--dns-bind-address=127.0.0.1", "--dns-port=" + strconv.Itoa(ports[0]),
		"--healthz-port=" + strconv.Itoa(ports[1]), "--lameduck=0s", "--v=2"}, extra...)
	p, err := proc.Start(e.Dir, "kube-dns", append([]string{"PROMETHEUS_PORT=" + strconv.Itoa(ports[2])}, env...), bin, args...)
	if err != nil {
		return 0, err
	}
	s.add(p)
	s.Metrics = "127.0.0.1:" + strconv.Itoa(ports[2])
	return ports[0], nil
}

// startKubeDNS starts kube-dns alone, with args added to the usual ones.
func startKubeDNS(args ...string) func(context.Context, *Env) (*Server, error) {
	return startKubeDNSWith("", nil, args...)
}

// startKubeDNSWith is startKubeDNS with the environment env added and,
// when which is "baseline", the --baseline-kubedns binary.
func startKubeDNSWith(which string, env []string, args ...string) func(context.Context, *Env) (*Server, error) {
	return func(_ context.Context, e *Env) (*Server, error) {
		bin := filepath.Join(e.Root, "_output/bin/kube-dns")
		if which == "baseline" {
			bin, env = e.Baseline, append(env, e.BaselineEnv...)
		}
		s := &Server{}
		port, err := runKubeDNSWith(s, e, bin, env, args...)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		return s, err
	}
}

// podPath starts kube-dns and, at the same moment, the nanny running the real
// dnsmasq in front of it with the manifest's arguments, cache set to cache.
// --no-resolv and --no-hosts keep dnsmasq off this machine's resolver and
// hosts file (so no query leaves loopback), --pid-file= off /run.
func podPath(cache []string, kubednsArgs ...string) func(context.Context, *Env) (*Server, error) {
	return func(_ context.Context, e *Env) (*Server, error) {
		s := &Server{}
		kubedns, err := runKubeDNS(s, e, kubednsArgs...)
		if err != nil {
			return s, err
		}
		ports, err := proc.FreePorts(1)
		if err != nil {
			return s, err
		}
		configDir := filepath.Join(e.Dir, "config")
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
		p, err := proc.Start(e.Dir, "dnsmasq-nanny", nil, filepath.Join(e.Root, "_output/bin/dnsmasq-nanny"), args...)
		if err != nil {
			return s, err
		}
		s.add(p)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		return s, nil
	}
}

// coreDNS starts CoreDNS with the kubernetes plugin reading the API as admin,
// with or without its cache plugin.
func coreDNS(cache bool) func(context.Context, *Env) (*Server, error) {
	return func(_ context.Context, e *Env) (*Server, error) {
		s := &Server{}
		ports, err := proc.FreePorts(1)
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
`, ports[0], e.Cl.Env["KUBECONFIG"])
		if cache {
			corefile += "    cache 30\n"
		}
		corefile += "}\n"
		path := filepath.Join(e.Dir, "Corefile")
		if err := os.WriteFile(path, []byte(corefile), 0o644); err != nil {
			return s, err
		}
		p, err := proc.Start(e.Dir, "coredns", nil, e.Coredns, "-conf", path)
		if err != nil {
			return s, err
		}
		s.add(p)
		s.Commands = append(s.Commands, "# "+path+":\n"+corefile)
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		return s, nil
	}
}

// startStatic starts one of this program's static modes (static,
// static-mmsg).
func startStatic(mode string) func(context.Context, *Env) (*Server, error) {
	return func(_ context.Context, e *Env) (*Server, error) {
		s := &Server{}
		self, err := os.Executable()
		if err != nil {
			return s, err
		}
		ports, err := proc.FreePorts(1)
		if err != nil {
			return s, err
		}
		s.Addr = fmt.Sprintf("127.0.0.1:%d", ports[0])
		p, err := proc.Start(e.Dir, mode, nil, self, mode, "-addr", s.Addr)
		if err != nil {
			return s, err
		}
		s.add(p)
		return s, nil
	}
}
