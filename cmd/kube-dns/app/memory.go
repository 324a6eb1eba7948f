package app

import (
	"os"
	"runtime/debug"
	"sync"

	"k8s.io/klog/v2"
)

// The garbage collector's target has two phases, unless the operator set
// GOGC (then kube-dns keeps it throughout).
const (
	// startGCPercent is the target until the first snapshot is served.
	// Building the caches and the first snapshot leaves little garbage:
	// nearly everything allocated stays live, so at Go's default (100) the
	// collector marks the growing heap again at each doubling, about 15%
	// of the CPU on the way to the first answer at 10,000 Services. At 400
	// it runs once or twice, and garbage (failing lists retried) is still
	// collected, the heap bounded by five times what is live. The price is
	// memory: the start's garbage lies among the records that stay, and
	// at 50,000 Services the heap keeps the holes (RSS steady 133-135 MiB,
	// relist peak 146-148; with 100 at start 128 and 140 but a 1.3× slower
	// start, with 10 throughout 123 and 128 but 1.7× slower). In a
	// container with a memory limit, the Go memory limit (pkg/memlimit)
	// bounds the start's heap.
	startGCPercent = 400
	// steadyGCPercent is the target once the first snapshot is served.
	// Answering allocates nothing, so after the initial sync the collector
	// only runs when the API changes, and a tight target costs little CPU
	// while keeping the heap (and the pod's RSS) close to the live records.
	// 10 did no better at 50,000 Services (RSS steady 134.2 against 136.4
	// MiB, relist peak 147.2 against 150.0, one run each), so Go's
	// collector is left a little room.
	steadyGCPercent = 25
)

// gogcSet reports whether the environment sets the collector's target.
func gogcSet() (string, bool) { return os.LookupEnv("GOGC") }

// loosenMemory, run before the API is read, sets the start's target.
func loosenMemory() {
	if _, set := gogcSet(); !set {
		debug.SetGCPercent(startGCPercent)
		klog.V(2).InfoS("Garbage collector target set until the first snapshot", "GOGC", startGCPercent)
	}
}

// settleMemory, run once after the first snapshot, returns the memory the
// initial lists used to the system and tightens the collector's target,
// unless the operator set GOGC.
var settleMemory = sync.OnceFunc(func() {
	if v, set := gogcSet(); set {
		klog.V(2).InfoS("Keeping the GOGC of the environment", "GOGC", v)
		return
	}
	debug.SetGCPercent(steadyGCPercent)
	debug.FreeOSMemory()
	klog.V(2).InfoS("Returned the initial sync's memory; garbage collector target set", "GOGC", steadyGCPercent)
})
