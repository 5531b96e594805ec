package main

import (
	"os/exec"
	"syscall"
)

// setChildAttrs makes the kernel kill a child server if the bench dies
// without cleaning up (SIGKILL, a crash), so no server outlives its bench.
func setChildAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
