package gpu

import (
	"errors"
	"fmt"
	"path"
	"strings"
)

// Info is what a [Detector] found on the host. The zero Info is a host with
// no GPU and no loaders.
type Info struct {
	// NVIDIA are the GPUs NVML reports, in NVML index order.
	NVIDIA []Device `json:"nvidia"`
	// NVMLLibrary reports whether libnvidia-ml.so.1 could be loaded, that is
	// whether the NVIDIA user-space driver is installed.
	NVMLLibrary bool `json:"nvmlLibrary"`
	// DriverVersion is the NVIDIA driver version, as NVML reports it
	// ("550.54.15"); empty when NVML is unusable.
	DriverVersion string `json:"driverVersion,omitempty"`
	// NVMLError says why NVML was unusable or incomplete ("libnvidia-ml.so.1
	// not found ...", "NVIDIA driver/library version mismatch ..."); empty
	// when it answered everything.
	NVMLError string `json:"nvmlError,omitempty"`

	// DRI are the render nodes under /dev/dri, sorted by path.
	DRI []RenderNode `json:"dri"`

	// EGL reports whether the EGL loader (libEGL.so.1) is installed.
	EGL bool `json:"egl"`
	// EGLVendors are the GLVND EGL vendor files (e.g.
	// /usr/share/glvnd/egl_vendor.d/10_nvidia.json): which drivers the
	// loader can hand a display to.
	EGLVendors []string `json:"eglVendors"`
	// Vulkan reports whether the Vulkan loader (libvulkan.so.1) is
	// installed.
	Vulkan bool `json:"vulkan"`
	// VulkanICDs are the Vulkan driver manifests (e.g.
	// /usr/share/vulkan/icd.d/nvidia_icd.json).
	VulkanICDs []string `json:"vulkanICDs"`
}

// Device is one NVIDIA GPU as NVML reports it.
type Device struct {
	Index       int    `json:"index"`
	Name        string `json:"name"`               // "NVIDIA L4"
	UUID        string `json:"uuid"`               // "GPU-5d6c..."
	MemoryTotal uint64 `json:"memoryTotal"`        // bytes
	MemoryFree  uint64 `json:"memoryFree"`         // bytes
	PCIBusID    string `json:"pciBusId,omitempty"` // "00000000:01:00.0"
}

// RenderNode is one DRI render node.
type RenderNode struct {
	// Path is the device node, e.g. /dev/dri/renderD128.
	Path string `json:"path"`
	// Vendor is "intel", "amd" or "nvidia", the PCI vendor id for other
	// vendors ("0x1af4"), or "unknown" when sysfs does not say.
	Vendor string `json:"vendor"`
	// VendorID and DeviceID are the PCI ids from sysfs ("0x8086",
	// "0x3e92").
	VendorID string `json:"vendorId,omitempty"`
	DeviceID string `json:"deviceId,omitempty"`
	// Driver is the kernel driver bound to the device (i915, xe, amdgpu,
	// nvidia, virtio-pci, ...).
	Driver string `json:"driver,omitempty"`
	// PCIBusID is the device's PCI address ("0000:00:02.0").
	PCIBusID string `json:"pciBusId,omitempty"`
	// Accessible reports whether this process could open the node for
	// reading and writing, which Mesa needs. AccessError says why not
	// (a missing render group membership, or a container's device cgroup).
	Accessible  bool   `json:"accessible"`
	AccessError string `json:"accessError,omitempty"`
}

// Backend is a way for Chromium to render WebGL and raster work.
type Backend string

// The backends [Choose] picks from.
const (
	// CPU renders on the CPU: WebGL through ANGLE on SwiftShader.
	CPU Backend = "cpu"
	// NVIDIA renders on an NVIDIA GPU through ANGLE on the NVIDIA EGL
	// driver.
	NVIDIA Backend = "nvidia"
	// Mesa renders on an Intel or AMD GPU through ANGLE on Mesa's EGL
	// driver.
	Mesa Backend = "mesa"
)

// Modes of GPU acceleration, as GPU_ACCELERATION takes them.
const (
	// ModeAuto uses a GPU when one is usable and falls back to the CPU with
	// a warning otherwise.
	ModeAuto = "auto"
	// ModeOn requires a usable GPU.
	ModeOn = "on"
	// ModeOff always renders on the CPU.
	ModeOff = "off"
)

// ErrNoUsableGPU is returned by [Choose] in [ModeOn] when the host has no
// GPU Chromium could use. The error's text says what is missing.
var ErrNoUsableGPU = errors.New("no usable GPU")

// Choose picks the backend for mode (auto, on or off) on a host described
// by info.
//
//   - off: [CPU], always.
//   - auto: [NVIDIA] if NVML reports a GPU and EGL can reach the NVIDIA
//     driver (libEGL.so.1 and an NVIDIA GLVND vendor file); else [Mesa] if
//     an Intel or AMD render node this process can open and Mesa's EGL are
//     there; else [CPU], with a warning that says why no GPU was used.
//   - on: as auto, but an error wrapping [ErrNoUsableGPU] instead of the
//     fall back to the CPU.
//
// The vendor files matter: without the NVIDIA one (a container started
// without the "graphics" driver capability) ANGLE silently renders on
// llvmpipe, and without any EGL driver Chromium has no WebGL at all.
//
// An unknown mode is an error. A non-empty warning comes with a backend
// that works, but not as well as the host could.
func Choose(mode string, info Info) (b Backend, warning string, err error) {
	switch strings.ToLower(strings.TrimSpace(mode)) {
	case ModeOff:
		return CPU, "", nil
	case ModeAuto, ModeOn:
	default:
		return "", "", fmt.Errorf("unknown GPU acceleration mode %q: want auto, on or off", mode)
	}
	on := strings.EqualFold(strings.TrimSpace(mode), ModeOn)
	nvOK, nvWhy := nvidiaUsable(info)
	if nvOK {
		if info.NVMLError != "" {
			warning = "NVML: " + info.NVMLError
		}
		return NVIDIA, warning, nil
	}
	mesaOK, mesaWhy := mesaUsable(info)
	if mesaOK {
		// An NVIDIA GPU that could not be used next to a usable iGPU is
		// still worth a warning: the operator probably wanted the NVIDIA.
		return Mesa, nvWhy, nil
	}
	var reasons []string
	for _, r := range []string{nvWhy, mesaWhy} {
		if r != "" {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		reasons = []string{"no GPU found"}
		if len(info.DRI) > 0 {
			reasons = []string{"no NVIDIA, Intel or AMD GPU found (other render nodes are not used)"}
		}
	}
	why := strings.Join(reasons, "; ")
	if on {
		return "", "", fmt.Errorf("%w: %s", ErrNoUsableGPU, why)
	}
	return CPU, why + "; rendering on the CPU (WebGL through SwiftShader)", nil
}

// nvidiaUsable reports whether Chromium can render on an NVIDIA GPU of
// info, and if not, why, or "" when the host shows no sign of NVIDIA.
func nvidiaUsable(info Info) (bool, string) {
	if len(info.NVIDIA) == 0 {
		node := firstNode(info.DRI, "nvidia")
		switch {
		case info.NVMLLibrary && info.NVMLError != "":
			return false, "NVIDIA driver unusable: " + info.NVMLError
		case info.NVMLLibrary:
			return false, fmt.Sprintf("NVIDIA driver %s is installed but NVML sees no GPU "+
				"(in a container, pass the GPU with --gpus or NVIDIA_VISIBLE_DEVICES)", info.DriverVersion)
		case node != "":
			return false, fmt.Sprintf("NVIDIA GPU at %s but %s "+
				"(in a container, start it with the NVIDIA container toolkit)", node, orDefault(info.NVMLError, "NVML is unusable"))
		}
		return false, ""
	}
	gpu := fmt.Sprintf("NVIDIA GPU found (%s)", info.NVIDIA[0].Name)
	switch {
	case !info.EGL:
		return false, gpu + " but no EGL loader (libEGL.so.1); install libegl1"
	case !hasVendorFile(info.EGLVendors, "nvidia"):
		return false, gpu + " but no NVIDIA EGL vendor file (10_nvidia.json in /usr/share/glvnd/egl_vendor.d); " +
			"install the driver's EGL library, or in a container set NVIDIA_DRIVER_CAPABILITIES=all (graphics is needed)"
	}
	return true, ""
}

// mesaUsable reports whether Chromium can render on an Intel or AMD GPU of
// info through Mesa, and if not, why, or "" when there is no such GPU.
func mesaUsable(info Info) (bool, string) {
	var nodes []RenderNode
	for _, n := range info.DRI {
		if n.Vendor == "intel" || n.Vendor == "amd" {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return false, ""
	}
	usable := -1
	for i, n := range nodes {
		if n.Accessible {
			usable = i
			break
		}
	}
	n := nodes[max(usable, 0)]
	gpu := fmt.Sprintf("%s GPU at %s (%s)", vendorName(n.Vendor), n.Path, orDefault(n.Driver, "no driver"))
	switch {
	case usable < 0:
		return false, fmt.Sprintf("%s cannot be opened (%s); add the user to the node's group (usually render), "+
			"or in a container pass the device (--device /dev/dri)", gpu, orDefault(n.AccessError, "permission denied"))
	case !info.EGL:
		return false, gpu + " but no EGL loader (libEGL.so.1); install libegl1 and libegl-mesa0"
	case !hasVendorFile(info.EGLVendors, "mesa"):
		return false, gpu + " but no Mesa EGL vendor file (50_mesa.json in /usr/share/glvnd/egl_vendor.d); install libegl-mesa0"
	}
	return true, ""
}

func firstNode(nodes []RenderNode, vendor string) string {
	for _, n := range nodes {
		if n.Vendor == vendor {
			return n.Path
		}
	}
	return ""
}

// hasVendorFile reports whether one of the vendor files is named for
// vendor, as the drivers name them (10_nvidia.json, 50_mesa.json).
func hasVendorFile(files []string, vendor string) bool {
	for _, f := range files {
		if strings.Contains(strings.ToLower(path.Base(f)), vendor) {
			return true
		}
	}
	return false
}

func vendorName(v string) string {
	switch v {
	case "intel":
		return "Intel"
	case "amd":
		return "AMD"
	case "nvidia":
		return "NVIDIA"
	}
	return v
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
