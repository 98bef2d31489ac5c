//go:build !linux

package render

import "os/exec"

// binaryPipe leaves the DevTools pipe in JSON outside Linux.
func binaryPipe(*exec.Cmd, func(error)) bool { return false }
