//go:build !cgo

package main

const cgoBuilt = false
