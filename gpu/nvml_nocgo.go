//go:build !cgo || !(linux || darwin)

package gpu

// SystemNVML stands in for the host's NVML in a binary built without cgo:
// every call fails with [ErrNoCgo], so detection reports no NVIDIA GPU.
type SystemNVML struct{}

// NewSystemNVML returns an NVML that is never usable.
func NewSystemNVML() *SystemNVML { return &SystemNVML{} }

// Init returns [ErrNoCgo].
func (*SystemNVML) Init() error { return ErrNoCgo }

// Shutdown returns [ErrNVMLNotInitialized].
func (*SystemNVML) Shutdown() error { return ErrNVMLNotInitialized }

// DriverVersion returns [ErrNVMLNotInitialized].
func (*SystemNVML) DriverVersion() (string, error) { return "", ErrNVMLNotInitialized }

// Devices returns [ErrNVMLNotInitialized].
func (*SystemNVML) Devices() ([]Device, error) { return nil, ErrNVMLNotInitialized }

// Processes returns [ErrNVMLNotInitialized].
func (*SystemNVML) Processes() ([]ProcessMemory, error) { return nil, ErrNVMLNotInitialized }
