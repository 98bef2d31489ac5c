//go:build !linux

package proc

import (
	"errors"
	"os/exec"
)

// ErrUnsupported is returned by [Start] where there is no Pdeathsig.
var ErrUnsupported = errors.New("starting a child with a death signal needs Linux")

// OwnGroup does nothing where there is no Pdeathsig.
func OwnGroup(*exec.Cmd) {}

// Start returns [ErrUnsupported].
func Start(*exec.Cmd) (<-chan error, error) { return nil, ErrUnsupported }
