//go:build !linux

package supervisor

import (
	"errors"
	"os"
	"os/exec"
)

// The supervisor relies on Linux: Pdeathsig, process groups and /proc.
// Elsewhere the package builds, so that the module does, but starts no
// child.

var errUnsupported = errors.New("supervising workers needs Linux")

func setProcAttr(*exec.Cmd) {}

func startChild(*exec.Cmd) (<-chan error, error) { return nil, errUnsupported }

func killGroup(int) {}

func killHolders(string) []int { return nil }

func signalName(*os.ProcessState) string { return "" }
