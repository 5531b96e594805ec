//go:build !linux

package main

import "os/exec"

// setChildAttrs has nothing to set where there is no parent-death signal:
// the bench's deferred stops are the only cleanup.
func setChildAttrs(*exec.Cmd) {}
