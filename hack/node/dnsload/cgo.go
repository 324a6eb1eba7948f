//go:build cgo

package main

const cgoBuilt = true
