package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// useLibc makes sure the lookups go to glibc: Go reads GODEBUG once, at
// its start, so the program runs itself again with netdns=cgo when the
// variable does not say so already.
func useLibc() {
	if !cgoBuilt {
		fmt.Fprintln(os.Stderr, "dnsload: -libc needs a binary built with cgo (CGO_ENABLED=1)")
		os.Exit(2)
	}
	if strings.Contains(os.Getenv("GODEBUG"), "netdns=cgo") {
		return
	}
	exe, err := os.Executable()
	if err == nil {
		godebug := "netdns=cgo"
		if v := os.Getenv("GODEBUG"); v != "" {
			godebug = v + "," + godebug
		}
		env := []string{"GODEBUG=" + godebug}
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "GODEBUG=") {
				env = append(env, kv)
			}
		}
		err = syscall.Exec(exe, os.Args, env)
	}
	fmt.Fprintln(os.Stderr, "dnsload: running again with GODEBUG=netdns=cgo:", err)
	os.Exit(2)
}
