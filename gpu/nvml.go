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
