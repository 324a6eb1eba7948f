// Package proc starts and stops the processes of a run and reads what /proc
// says about them: RSS, CPU ticks, descendants.
package proc
