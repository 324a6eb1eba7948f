//go:build !linux

package sidecar

import "errors"

// listenBacklog needs Linux's sock_diag netlink.
func listenBacklog(port uint16, v4, v6 bool) (n int, backlog uint32, err error) {
	return 0, 0, errors.New("sock_diag: listen backlogs are only read on Linux")
}
