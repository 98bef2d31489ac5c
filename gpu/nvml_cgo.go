//go:build cgo && (linux || darwin)

package gpu

import (
	"fmt"
	"sync"

	"github.com/NVIDIA/go-nvml/pkg/nvml"
)

// SystemNVML is the host's NVML: libnvidia-ml.so.1, opened with dlopen by
// Init, so a host without the NVIDIA driver gets [ErrNVMLNotFound] rather
// than a binary that does not start. It is safe for concurrent use.
type SystemNVML struct {
	mu     sync.Mutex
	lib    nvml.Interface
	inited int // successful Inits not yet shut down
}

// NewSystemNVML returns the host's NVML. It loads nothing until Init.
func NewSystemNVML() *SystemNVML {
	return &SystemNVML{lib: nvml.New()}
}

// Init loads libnvidia-ml.so.1 and initializes NVML.
func (s *SystemNVML) Init() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lib.Init(); r != nvml.SUCCESS {
		return nvmlError("init", r)
	}
	s.inited++
	return nil
}

// Shutdown releases what Init took.
func (s *SystemNVML) Shutdown() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inited == 0 {
		return ErrNVMLNotInitialized
	}
	if r := s.lib.Shutdown(); r != nvml.SUCCESS {
		return nvmlError("shutdown", r)
	}
	s.inited--
	return nil
}

// DriverVersion returns the NVIDIA driver version ("550.54.15").
func (s *SystemNVML) DriverVersion() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every call below Init goes through a symbol dlopen resolved; without
	// a successful Init it would jump to nothing.
	if s.inited == 0 {
		return "", ErrNVMLNotInitialized
	}
	v, r := s.lib.SystemGetDriverVersion()
	if r != nvml.SUCCESS {
		return "", nvmlError("driver version", r)
	}
	return v, nil
}

// Devices returns every GPU NVML sees.
func (s *SystemNVML) Devices() ([]Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inited == 0 {
		return nil, ErrNVMLNotInitialized
	}
	n, r := s.lib.DeviceGetCount()
	if r != nvml.SUCCESS {
		return nil, nvmlError("device count", r)
	}
	devs := make([]Device, 0, n)
	for i := range n {
		h, r := s.lib.DeviceGetHandleByIndex(i)
		if r != nvml.SUCCESS {
			return devs, nvmlError(fmt.Sprintf("device %d", i), r)
		}
		d := Device{Index: i}
		if d.Name, r = h.GetName(); r != nvml.SUCCESS {
			return devs, nvmlError(fmt.Sprintf("device %d name", i), r)
		}
		if d.UUID, r = h.GetUUID(); r != nvml.SUCCESS {
			return devs, nvmlError(fmt.Sprintf("device %d uuid", i), r)
		}
		mem, r := h.GetMemoryInfo()
		if r != nvml.SUCCESS {
			return devs, nvmlError(fmt.Sprintf("device %d memory", i), r)
		}
		d.MemoryTotal, d.MemoryFree = mem.Total, mem.Free
		// The bus id is for matching a GPU to its render node; not having
		// it is no reason to drop the device.
		if pci, r := h.GetPciInfo(); r == nvml.SUCCESS {
			d.PCIBusID = cString(pci.BusId[:])
		}
		devs = append(devs, d)
	}
	return devs, nil
}

// Processes returns the GPU memory of every process using a GPU, graphics
// (an EGL or Vulkan context, which is what Chromium's GPU process holds)
// and compute alike. A process on two GPUs is listed once per GPU. Memory
// NVML cannot tell (under some vGPU and Windows drivers) is left out.
func (s *SystemNVML) Processes() ([]ProcessMemory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inited == 0 {
		return nil, ErrNVMLNotInitialized
	}
	n, r := s.lib.DeviceGetCount()
	if r != nvml.SUCCESS {
		return nil, nvmlError("device count", r)
	}
	var out []ProcessMemory
	for i := range n {
		h, r := s.lib.DeviceGetHandleByIndex(i)
		if r != nvml.SUCCESS {
			return out, nvmlError(fmt.Sprintf("device %d", i), r)
		}
		seen := map[uint32]bool{}
		for _, list := range []func() ([]nvml.ProcessInfo, nvml.Return){h.GetGraphicsRunningProcesses, h.GetComputeRunningProcesses} {
			infos, r := list()
			if r != nvml.SUCCESS {
				return out, nvmlError(fmt.Sprintf("device %d processes", i), r)
			}
			for _, p := range infos {
				// NVML_VALUE_NOT_AVAILABLE is all ones.
				if seen[p.Pid] || p.UsedGpuMemory == ^uint64(0) {
					continue
				}
				seen[p.Pid] = true
				out = append(out, ProcessMemory{PID: int(p.Pid), Device: i, Bytes: p.UsedGpuMemory})
			}
		}
	}
	return out, nil
}

// nvmlError maps an NVML return code to one of the package's errors where
// an operator can act on it.
func nvmlError(op string, r nvml.Return) error {
	switch r {
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return fmt.Errorf("nvml %s: %w", op, ErrNVMLNotFound)
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return fmt.Errorf("nvml %s: %w", op, ErrDriverNotLoaded)
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return fmt.Errorf("nvml %s: %w", op, ErrDriverMismatch)
	case nvml.ERROR_NO_PERMISSION:
		return fmt.Errorf("nvml %s: %w", op, ErrNVMLPermission)
	}
	return fmt.Errorf("nvml %s: %s (code %d)", op, r.Error(), int32(r))
}

// cString converts a NUL-terminated C char array to a string.
func cString(b []int8) string {
	out := make([]byte, 0, len(b))
	for _, c := range b {
		if c == 0 {
			break
		}
		out = append(out, byte(c))
	}
	return string(out)
}
