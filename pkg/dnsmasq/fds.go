package dnsmasq

import (
	"syscall"

	"k8s.io/klog/v2"
)

// dnsmasq's file descriptors. Besides a few of its own, dnsmasq holds the
// read end of a pipe from each TCP child (up to --max-tcp-connections) and a
// pool of sockets for its forwards (half of --dns-forward-max, at most a
// third of its RLIMIT_NOFILE). When a TCP connection arrives and no
// descriptor is left for the child's pipe, dnsmasq 2.90 serves that
// connection in its main process and then exits with status 0: port 53 is
// down until the nanny restarts it (seen with a soft limit of 100 and 128
// clients' TCP connections). A container's soft limit may be 1024
// (containerd 2.0 and later), which --max-tcp-connections=1000 outgrows.
const ownFDs = 64 // listeners, the log, netlink, inotify, the servers file, ...

// fdsNeeded is how many descriptors dnsmasq may hold with these arguments.
func fdsNeeded(a dnsmasqArgs) uint64 {
	tcp, fwd := a.maxTCP, a.forwardMax
	if tcp <= 0 {
		tcp = 20 // dnsmasq's defaults
	}
	if fwd <= 0 {
		fwd = 150
	}
	return uint64(tcp) + uint64(fwd)/2 + ownFDs
}

// raiseNoFile gives the processes the nanny starts its hard RLIMIT_NOFILE as
// their soft limit. Go raised the nanny's own soft limit at start but hands
// children the one it was given; setting it here makes dnsmasq inherit the
// raised one. A hard limit below what dnsmasq's arguments need is logged.
func raiseNoFile(logger klog.Logger, need uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logger.Error(err, "Reading the file descriptor limit; dnsmasq gets the one the nanny was given")
		return
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		logger.Error(err, "Raising the file descriptor limit; dnsmasq gets the one the nanny was given", "hardLimit", lim.Max)
		return
	}
	if lim.Max < need {
		logger.Info("Warning: dnsmasq may run out of file descriptors, and then exits while serving TCP: its arguments (--max-tcp-connections, --dns-forward-max) need about this many, the container allows fewer; lower --max-tcp-connections or raise the runtime's RLIMIT_NOFILE",
			"need", need, "limit", lim.Max)
		return
	}
	logger.V(2).Info("dnsmasq's file descriptor limit", "limit", lim.Max, "need", need)
}
