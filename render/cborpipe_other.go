//go:build !linux

package render

import (
	"os/exec"

	"github.com/empplay/empplay/internal/cdpcbor"
)

// binaryPipe leaves the DevTools pipe in JSON outside Linux.
func binaryPipe(*exec.Cmd, *cdpcbor.Refs, func(error)) bool { return false }
