package gpu

import "errors"

// NVML is the part of the NVIDIA Management Library a [Detector] uses.
// [SystemNVML] is the real one; tests use fakes.
//
// Init must succeed before the other methods are called, and Shutdown is
// called once after a successful Init.
type NVML interface {
	Init() error
	Shutdown() error
	DriverVersion() (string, error)
	// Devices returns the GPUs in index order. On an error it returns the
	// devices it read before it.
	Devices() ([]Device, error)
}

// Why NVML is unusable, for the cases an operator can act on. [SystemNVML]
// wraps them; other NVML failures are errors with NVML's own message.
var (
	// ErrNVMLNotFound: libnvidia-ml.so.1 could not be loaded, so the NVIDIA
	// driver is not installed (or not mounted into the container).
	ErrNVMLNotFound = errors.New("libnvidia-ml.so.1 not found (no NVIDIA driver installed)")
	// ErrDriverNotLoaded: the library is there but the kernel module is
	// not loaded.
	ErrDriverNotLoaded = errors.New("NVIDIA kernel driver not loaded")
	// ErrDriverMismatch: the user-space library and the kernel module are
	// different versions, typically after a driver upgrade without a
	// reboot.
	ErrDriverMismatch = errors.New("NVIDIA driver/library version mismatch (reboot or reload the nvidia kernel module)")
	// ErrNVMLPermission: the process may not open /dev/nvidia*.
	ErrNVMLPermission = errors.New("no permission to use the NVIDIA devices")
	// ErrNVMLNotInitialized: a method was called without a successful
	// Init.
	ErrNVMLNotInitialized = errors.New("NVML not initialized")
	// ErrNoCgo: the binary was built without cgo, which NVML needs.
	ErrNoCgo = errors.New("NVML unavailable: empplay was built without cgo")
)

// ProcessMemory is the GPU memory one process holds on one GPU, as NVML
// reports it.
type ProcessMemory struct {
	// PID is the process id in the namespace NVML sees: the host's. In a
	// container without the host's PID namespace it matches nothing.
	PID int
	// Device is the NVML index of the GPU.
	Device int
	// Bytes is the memory the process holds on that GPU.
	Bytes uint64
}

// GroupMemory sums the GPU memory of the processes in procs whose process
// group is pgid, as pgrpOf says (false: the process is gone or not ours to
// see). A Chromium started in its own process group has its GPU process
// in it. found is false when no process of the group holds GPU memory.
func GroupMemory(procs []ProcessMemory, pgid int, pgrpOf func(pid int) (int, bool)) (total uint64, found bool) {
	if pgid <= 0 {
		return 0, false
	}
	for _, p := range procs {
		if g, ok := pgrpOf(p.PID); ok && g == pgid {
			total += p.Bytes
			found = true
		}
	}
	return total, found
}
