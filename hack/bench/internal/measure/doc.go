// Package measure measures one contender at one number of Services: dnsperf
// rates and latency, CPU per answer, RSS, start, propagation, the relist
// peak, profiles and the sizing series.
package measure
