package app

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestLoosenMemory: the start's collector target is set unless the
// environment sets GOGC, which is then kept.
func TestLoosenMemory(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })

	t.Setenv("GOGC", "100") // restored after the test
	os.Unsetenv("GOGC")
	loosenMemory()
	if got := debug.SetGCPercent(100); got != startGCPercent {
		t.Errorf("GOGC unset: target %d, want %d", got, startGCPercent)
	}

	t.Setenv("GOGC", "60")
	debug.SetGCPercent(60)
	loosenMemory()
	if got := debug.SetGCPercent(100); got != 60 {
		t.Errorf("GOGC=60: target %d, want the environment's 60", got)
	}
}
