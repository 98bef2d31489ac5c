//go:build !linux

package supervisor

import "os"

// The supervisor relies on Linux: Pdeathsig, process groups and /proc
// (see internal/proc, whose Start fails elsewhere). Elsewhere the package
// builds, so that the module does, but starts no child.

func signalName(*os.ProcessState) string { return "" }
