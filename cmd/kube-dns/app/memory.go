package app

import (
	"os"
	"runtime/debug"
	"sync"

	"k8s.io/klog/v2"
)

// steadyGCPercent is the garbage collector's target once the first snapshot
// is served. Answering allocates nothing, so after the initial sync the
// collector only runs when the API changes, and a tight target costs little
// CPU while keeping the heap (and the pod's RSS) close to the live records.
const steadyGCPercent = 25

// settleMemory, run once after the first snapshot, returns the memory the
// initial lists used to the system and tightens the collector's target,
// unless the operator set GOGC.
var settleMemory = sync.OnceFunc(func() {
	if v, set := os.LookupEnv("GOGC"); set {
		klog.V(2).InfoS("Keeping the GOGC of the environment", "GOGC", v)
		return
	}
	debug.SetGCPercent(steadyGCPercent)
	debug.FreeOSMemory()
	klog.V(2).InfoS("Returned the initial sync's memory; garbage collector target set", "GOGC", steadyGCPercent)
})
