// Package contender starts the DNS servers under test (kube-dns alone and in
// its pod behind dnsmasq, CoreDNS, Knot DNS, NSD and the static-answer
// servers) and probes them for their first answer.
package contender

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"

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
	// User, when set, is who the contender reads the API as, and its one
	// process's peak RSS through a relist is measured.
	User  string
	optIn bool // run only when named in --contenders
	Start func(e *Env) (*Server, error)
}

// Env is what a contender's start needs.
type Env struct {
	// Root is the repository, Coredns the CoreDNS binary, Baseline and
	// BaselineEnv the kubedns-baseline binary and its environment.
	Root, Coredns, Baseline string
	BaselineEnv             []string
	Cl                      *cluster.Cluster
	Dir                     string             // this contender's logs and files (absolute)
	Zones                   *cluster.ZoneFiles // for the contenders that serve zone files
}

// Names are the contenders run by default (all but the opt-in ones), or
// with all, every one.
func Names(all bool) []string {
	var names []string
	for _, c := range All() {
		if all || !c.optIn {
			names = append(names, c.Name)
		}
	}
	return names
}

const kubeDNSUser = "system:serviceaccount:kube-system:kube-dns"

// All are the contenders, in the order they run.
func All() []Contender {
	return []Contender{
		{Name: "kubedns", Desc: "kube-dns alone", ReadsAPI: true, User: kubeDNSUser, Start: kubeDNS(false, nil)},
		{Name: "kubedns-watchlist", Desc: "kube-dns alone, streaming its initial lists (KUBE_FEATURE_WatchListClient=true) rather than listing them",
			ReadsAPI: true, User: kubeDNSUser, optIn: true, Start: kubeDNS(false, []string{"KUBE_FEATURE_WatchListClient=true"})},
		{Name: "kubedns-baseline", Desc: "kube-dns alone, another build of it to compare with (--baseline-kubedns, environment --baseline-env)",
			ReadsAPI: true, User: kubeDNSUser, optIn: true, Start: kubeDNS(true, nil)},
		{Name: "kubedns-reuseport", Desc: "kube-dns alone, --dns-udp-sockets=0: a UDP socket per CPU (SO_REUSEPORT), each read by its own loop",
			ReadsAPI: true, Start: kubeDNS(false, nil, "--dns-udp-sockets=0")},
		{Name: "pod", Desc: "dnsmasq (nanny, manifest args: --cache-size=1000 --no-negcache --dns-forward-max=1500) → kube-dns",
			ReadsAPI: true, Start: pod("--cache-size=1000 --no-negcache", nil)},
		{Name: "pod-negcache", Desc: "as pod, negative answers cached for 5 s: dnsmasq without --no-negcache, kube-dns --negative-ttl=5",
			ReadsAPI: true, Start: pod("--cache-size=1000", []string{"--negative-ttl=5"})},
		{Name: "pod-negcache-cache10k", Desc: "as pod-negcache, and dnsmasq --cache-size=10000",
			ReadsAPI: true, Start: pod("--cache-size=10000", []string{"--negative-ttl=5"})},
		{Name: "coredns", Desc: "CoreDNS (version above), kubernetes plugin", ReadsAPI: true, User: "admin", Start: coreDNS("")},
		{Name: "coredns-cache", Desc: "CoreDNS (version above), kubernetes plugin + cache 30", ReadsAPI: true, Start: coreDNS("    cache 30\n")},
		{Name: "knot", Desc: "Knot DNS (version above) serving zone files of the records kube-dns serves, written from the API server's objects",
			Zone: true, Bin: "knotd", Pkg: "knot", Start: startKnot},
		{Name: "nsd", Desc: "NSD (version above) serving the same zone files", Zone: true, Bin: "nsd", Pkg: "nsd", Start: startNSD},
		{Name: "static", Desc: "miekg/dns server answering one fixed A record (the limit)", Start: static("static")},
		{Name: "static-mmsg", Desc: "the same answer from one SO_REUSEPORT UDP socket per CPU, read and written in batches (recvmmsg/sendmmsg), the machine's limit",
			Start: static("static-mmsg")},
	}
}

// Server is a started contender: the processes and the DNS address.
type Server struct {
	Addr     string // 127.0.0.1:port, UDP
	Metrics  string // kube-dns's Prometheus address, host:port, or ""
	Procs    []*proc.Proc
	Commands []string // as a shell would show them, for the report
}

// start starts a process of the server, its log in dir.
func (s *Server) start(dir, name string, env []string, bin string, args ...string) error {
	p, err := proc.Start(dir, name, env, bin, args...)
	if err != nil {
		return err
	}
	s.Procs = append(s.Procs, p)
	s.Commands = append(s.Commands, p.CommandLine)
	return nil
}

// writeConf writes a configuration file, shown with the commands.
func (s *Server) writeConf(path, text string) error {
	s.Commands = append(s.Commands, "# "+path+":\n"+text)
	return os.WriteFile(path, []byte(text), 0o644)
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

// RSS sums VmRSS and RssAnon (KiB) over the processes and their
// descendants (the nanny's dnsmasq).
func (s *Server) RSS() (rss, anon int64) {
	for _, pid := range s.PIDs() {
		kb := proc.Status(pid, "VmRSS:", "RssAnon:")
		rss, anon = rss+kb[0], anon+kb[1]
	}
	return rss, anon
}

// HWM is the peak RSS (VmHWM) summed over the server's processes.
func (s *Server) HWM() (kib int64) {
	for _, pid := range s.PIDs() {
		kib += proc.Status(pid, "VmHWM:")[0]
	}
	return kib
}

// PIDs lists the server's processes and their descendants.
func (s *Server) PIDs() []int {
	var out []int
	for _, p := range s.Procs {
		out = append(out, p.Cmd.Process.Pid)
		out = append(out, proc.Descendants(p.Cmd.Process.Pid)...)
	}
	return out
}

// startServer allocates ports (the first the DNS port) and calls run.
func startServer(ports int, run func(s *Server, ports []int) error) (*Server, error) {
	s := &Server{}
	p, err := proc.FreePorts(ports)
	if err != nil {
		return s, err
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(p[0])
	return s, run(s, p)
}

// runKubeDNS starts kube-dns as the add-on runs it, reading the API as the
// kube-dns service account, on port dns (--lameduck=0s only shortens its
// stop): the built binary, or with baseline the --baseline-kubedns one.
func runKubeDNS(s *Server, e *Env, dns int, baseline bool, env []string, extra ...string) error {
	ports, err := proc.FreePorts(2)
	if err != nil {
		return err
	}
	bin := filepath.Join(e.Root, "_output/bin/kube-dns")
	if baseline {
		bin, env = e.Baseline, append(env, e.BaselineEnv...)
	}
	s.Metrics = "127.0.0.1:" + strconv.Itoa(ports[1])
	return s.start(e.Dir, "kube-dns", append([]string{"PROMETHEUS_PORT=" + strconv.Itoa(ports[1])}, env...), bin, append([]string{
		"--kubecfg-file=" + e.Cl.Env["KUBEDNS_KUBECONFIG"], "--domain=cluster.local.",
		"--dns-bind-address=127.0.0.1", "--dns-port=" + strconv.Itoa(dns),
		"--healthz-port=" + strconv.Itoa(ports[0]), "--lameduck=0s", "--v=2"}, extra...)...)
}

// kubeDNS starts kube-dns alone, with env and args added to the usual ones.
func kubeDNS(baseline bool, env []string, args ...string) func(*Env) (*Server, error) {
	return func(e *Env) (*Server, error) {
		return startServer(1, func(s *Server, p []int) error { return runKubeDNS(s, e, p[0], baseline, env, args...) })
	}
}

// pod starts kube-dns (with kubednsArgs) and, at the same moment, the nanny
// running the real dnsmasq in front of it with the manifest's arguments,
// its cache ones replaced by cache. --no-resolv and --no-hosts keep dnsmasq
// off this machine's resolver and hosts file (so no query leaves
// loopback), --pid-file= off /run.
func pod(cache string, kubednsArgs []string) func(*Env) (*Server, error) {
	return func(e *Env) (*Server, error) {
		return startServer(2, func(s *Server, p []int) error {
			if err := runKubeDNS(s, e, p[1], false, nil, kubednsArgs...); err != nil {
				return err
			}
			configDir := filepath.Join(e.Dir, "config")
			if err := os.MkdirAll(configDir, 0o755); err != nil {
				return err
			}
			up := fmt.Sprintf("127.0.0.1#%d", p[1])
			args := []string{"-v=2", "-logtostderr", "-configDir=" + configDir, "-restartDnsmasq=true", "-lameduck=0s",
				"-clusterDomain=cluster.local", fmt.Sprintf("-kubednsServer=127.0.0.1:%d", p[1]), "--", "-k"}
			args = append(append(args, strings.Fields(cache)...), "--dns-forward-max=1500", "--dns-loop-detect", "--log-facility=-",
				"--server=/cluster.local/"+up, "--server=/in-addr.arpa/"+up, "--server=/ip6.arpa/"+up,
				"--port="+strconv.Itoa(p[0]), "--listen-address=127.0.0.1", "--bind-interfaces",
				"--no-resolv", "--no-hosts", "--pid-file=")
			return s.start(e.Dir, "dnsmasq-nanny", nil, filepath.Join(e.Root, "_output/bin/dnsmasq-nanny"), args...)
		})
	}
}

// coreDNS starts CoreDNS with the kubernetes plugin reading the API as
// admin, and the plugins in more.
func coreDNS(more string) func(*Env) (*Server, error) {
	return func(e *Env) (*Server, error) {
		return startServer(1, func(s *Server, p []int) error {
			path := filepath.Join(e.Dir, "Corefile")
			if err := s.writeConf(path, fmt.Sprintf(`.:%d {
    bind 127.0.0.1
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig %s
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
%s}
`, p[0], e.Cl.Env["KUBECONFIG"], more)); err != nil {
				return err
			}
			return s.start(e.Dir, "coredns", nil, e.Coredns, "-conf", path)
		})
	}
}

// static starts one of this program's static modes (static, static-mmsg).
func static(mode string) func(*Env) (*Server, error) {
	return func(e *Env) (*Server, error) {
		return startServer(1, func(s *Server, _ []int) error {
			self, err := os.Executable()
			if err != nil {
				return err
			}
			return s.start(e.Dir, mode, nil, self, mode, "-addr", s.Addr)
		})
	}
}

// Answers reports whether name's A records at addr include want, and
// otherwise what came back.
func Answers(ctx context.Context, addr, name, want string, timeout time.Duration) (bool, string) {
	c := &dns.Client{Net: "udp", Timeout: timeout}
	r, _, err := c.ExchangeContext(ctx, new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
	if err != nil {
		return false, err.Error()
	}
	if r.Rcode != dns.RcodeSuccess {
		return false, dns.RcodeToString[r.Rcode]
	}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok && a.A.Equal(net.ParseIP(want)) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("NOERROR with %d answers, not %s", len(r.Answer), want)
}

// WaitAnswer polls every 5 ms until name resolves to want, writing each
// change of what came back to dir/start-probe.log.
func WaitAnswer(ctx context.Context, s *Server, dir, name, want string, limit time.Duration) error {
	start := time.Now()
	log, err := os.Create(filepath.Join(dir, "start-probe.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	last := ""
	for time.Since(start) < limit {
		ok, got := Answers(ctx, s.Addr, name, want, 100*time.Millisecond)
		if ok {
			got = "answered " + want
		}
		if got != last {
			fmt.Fprintf(log, "%8.1f ms  %s\n", time.Since(start).Seconds()*1000, got)
			last = got
		}
		if ok {
			return nil
		}
		if err := s.Exited(); err != nil {
			return err
		}
		if !proc.Sleep(ctx, 5*time.Millisecond) {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s did not answer %s with %s within %s", s.Addr, name, want, limit)
}

// ProbeAnswer is the name polled and the address it must answer: the
// probe Service's cluster IP, or the static servers' fixed address.
func ProbeAnswer(c Contender, probe cluster.Service) (want, name string) {
	want, name = probe.IP, cluster.Fqdn(probe.Name, probe.Ns)
	if !c.ReadsAPI && !c.Zone {
		want = staticIP.String()
	}
	return want, name
}
