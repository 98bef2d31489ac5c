package gpu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strings"
)

// Detector finds the GPUs of a host and the libraries Chromium needs to
// use them. The zero Detector looks at / and skips NVML.
type Detector struct {
	// NVML is asked for NVIDIA GPUs; nil skips them (Info.NVMLError says
	// so). Use [NewSystemNVML] for the host's.
	NVML NVML
	// Root is the directory the host's /dev, /sys, /usr, /etc and /lib are
	// read under. Default "/"; tests point it at a fake tree.
	Root string
}

// NewDetector returns a Detector that asks nv about NVIDIA GPUs and reads
// the host's files under "/".
func NewDetector(nv NVML) *Detector {
	return &Detector{NVML: nv, Root: "/"}
}

// Detect looks at the host. It does not fail: what it could not find out is
// missing from the [Info], and Info.NVMLError says why NVML was unusable.
//
// NVML runs on its own goroutine: a wedged driver can block nvmlInit for
// a long time, and Detect returns when ctx is done, reporting NVML as
// unusable (the goroutine finishes, and shuts NVML down, on its own).
func (d *Detector) Detect(ctx context.Context) Info {
	info := Info{NVIDIA: []Device{}}
	root := d.Root
	if root == "" {
		root = "/"
	}
	if d.NVML == nil {
		info.NVMLError = "NVML not configured"
	} else {
		res := make(chan nvmlResult, 1)
		go func() { res <- probeNVML(d.NVML) }()
		select {
		case r := <-res:
			info.NVMLLibrary, info.DriverVersion, info.NVMLError = r.library, r.driver, r.err
			if r.devices != nil {
				info.NVIDIA = r.devices
			}
		case <-ctx.Done():
			info.NVMLError = fmt.Sprintf("NVML did not answer: %v", ctx.Err())
			info.NVMLLibrary = true // it loaded far enough to hang
		}
	}
	info.DRI = renderNodes(root)
	libDirs := libraryDirs()
	info.EGL = anyFile(root, libDirs, "libEGL.so.1")
	info.Vulkan = anyFile(root, libDirs, "libvulkan.so.1")
	// GLVND's and the Vulkan loader's default search paths.
	info.EGLVendors = jsonFiles(root, "/etc/glvnd/egl_vendor.d", "/usr/share/glvnd/egl_vendor.d")
	info.VulkanICDs = jsonFiles(root, "/etc/vulkan/icd.d", "/usr/local/share/vulkan/icd.d", "/usr/share/vulkan/icd.d")
	return info
}

type nvmlResult struct {
	devices []Device
	library bool
	driver  string
	err     string
}

// probeNVML asks nv everything Info holds about NVIDIA GPUs.
func probeNVML(nv NVML) nvmlResult {
	var r nvmlResult
	if err := nv.Init(); err != nil {
		r.library = !errors.Is(err, ErrNVMLNotFound) && !errors.Is(err, ErrNoCgo)
		r.err = err.Error()
		return r
	}
	r.library = true
	var errs []error
	v, err := nv.DriverVersion()
	if err != nil {
		errs = append(errs, err)
	}
	r.driver = v
	r.devices, err = nv.Devices()
	if err != nil {
		errs = append(errs, err)
	}
	if err := nv.Shutdown(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		r.err = errors.Join(errs...).Error()
		r.err = strings.ReplaceAll(r.err, "\n", "; ")
	}
	return r
}

// renderNodes lists root/dev/dri/renderD* with what sysfs says about each.
// A node whose sysfs entry is missing (a container that hides /sys) keeps
// its path with vendor "unknown".
func renderNodes(root string) []RenderNode {
	nodes := []RenderNode{}
	for _, name := range names(filepath.Join(root, "dev", "dri"), "renderD", "") {
		p := filepath.Join(root, "dev", "dri", name)
		dev := filepath.Join(root, "sys", "class", "drm", name, "device")
		n := RenderNode{
			Path:     path.Join("/dev/dri", name),
			VendorID: readID(filepath.Join(dev, "vendor")),
			DeviceID: readID(filepath.Join(dev, "device")),
			Driver:   linkBase(filepath.Join(dev, "driver")),
			PCIBusID: linkBase(dev),
		}
		n.Vendor = vendor(n.VendorID)
		// Opening is the real test: a device cgroup (a container run
		// without --device) refuses the open even where the mode bits
		// allow it.
		f, err := os.OpenFile(p, os.O_RDWR, 0)
		if err == nil {
			n.Accessible = true
			_ = f.Close() // opened for the test only
		} else {
			n.AccessError = err.Error()
			if pe := (*os.PathError)(nil); errors.As(err, &pe) {
				n.AccessError = pe.Err.Error() // the path is in Path, without Root
			}
		}
		nodes = append(nodes, n)
	}
	return nodes
}

// readID reads a sysfs id file ("0x8086\n").
func readID(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(string(b)))
}

// linkBase returns the last element of the target of symlink p: the driver
// name for device/driver, the PCI address for device.
func linkBase(p string) string {
	t, err := os.Readlink(p)
	if err != nil {
		return ""
	}
	return filepath.Base(t)
}

// vendor names a PCI vendor id.
func vendor(id string) string {
	switch id {
	case "0x8086":
		return "intel"
	case "0x1002":
		return "amd"
	case "0x10de":
		return "nvidia"
	case "":
		return "unknown"
	}
	return id
}

// libraryDirs are the directories the dynamic loader searches by default
// on Debian, Ubuntu and Red Hat (and where the NVIDIA container toolkit
// mounts the driver's libraries), for this binary's architecture.
func libraryDirs() []string {
	var dirs []string
	if t := map[string]string{
		"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu",
		"386": "i386-linux-gnu", "ppc64le": "powerpc64le-linux-gnu",
	}[runtime.GOARCH]; t != "" {
		dirs = append(dirs, "/usr/lib/"+t, "/lib/"+t)
	}
	return append(dirs, "/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib")
}

// anyFile reports whether name exists in one of dirs under root.
func anyFile(root string, dirs []string, name string) bool {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(root, d, name)); err == nil {
			return true
		}
	}
	return false
}

// jsonFiles lists the *.json files of dirs under root, as paths on the
// host, in directory order then by name.
func jsonFiles(root string, dirs ...string) []string {
	out := []string{}
	for _, d := range dirs {
		for _, n := range names(filepath.Join(root, d), "", ".json") {
			out = append(out, path.Join(d, n))
		}
	}
	return out
}

// names lists the entries of dir with prefix and suffix, sorted; none when
// dir cannot be read.
func names(dir, prefix, suffix string) []string {
	entries, _ := os.ReadDir(dir) // a missing directory has no entries
	var out []string
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix) && strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out // ReadDir sorts by name
}
