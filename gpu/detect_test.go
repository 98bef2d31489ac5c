package gpu

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay/internal/testenv"
)

// fakeNVML answers with canned values and records its calls.
type fakeNVML struct {
	initErr    error
	driver     string
	devices    []Device
	devicesErr error
	block      chan struct{} // Init waits for it to close, when set

	mu    sync.Mutex
	calls []string
}

func (f *fakeNVML) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeNVML) Init() error {
	if f.block != nil {
		<-f.block
	}
	f.record("Init")
	return f.initErr
}

func (f *fakeNVML) Shutdown() error { f.record("Shutdown"); return nil }

func (f *fakeNVML) DriverVersion() (string, error) {
	f.record("DriverVersion")
	return f.driver, nil
}

func (f *fakeNVML) Devices() ([]Device, error) {
	f.record("Devices")
	return f.devices, f.devicesErr
}

func (f *fakeNVML) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// tree is a fake root: files (path to content; a path ending in / is a
// directory) and symlinks (path to target), paths relative to the root.
type tree struct {
	files map[string]string
	links map[string]string
}

func (t tree) build(tb testing.TB) string {
	tb.Helper()
	root := tb.TempDir()
	mkdir := func(p string) {
		if err := os.MkdirAll(p, 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	for p, content := range t.files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			mkdir(full)
			continue
		}
		mkdir(filepath.Dir(full))
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	for p, target := range t.links {
		full := filepath.Join(root, p)
		mkdir(filepath.Dir(full))
		if err := os.Symlink(target, full); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// merge combines fake trees.
func merge(parts ...tree) tree {
	t := tree{files: map[string]string{}, links: map[string]string{}}
	for _, p := range parts {
		for k, v := range p.files {
			t.files[k] = v
		}
		for k, v := range p.links {
			t.links[k] = v
		}
	}
	return t
}

// pciGPU is a render node as a real kernel lays it out: the class entry
// links into /sys/devices, the node's device link to the PCI device, and
// that device's driver link into /sys/bus.
func pciGPU(node, bus, vendor, device, driver string) tree {
	pci := "sys/devices/pci0000:00/" + bus
	return tree{
		files: map[string]string{
			"dev/dri/" + node:             "",
			pci + "/vendor":               vendor + "\n",
			pci + "/device":               device + "\n",
			pci + "/drm/" + node + "/dev": "226:128\n",
		},
		links: map[string]string{
			"sys/class/drm/" + node:          "../../devices/pci0000:00/" + bus + "/drm/" + node,
			pci + "/drm/" + node + "/device": "../../../" + bus,
			pci + "/driver":                  "../../../bus/pci/drivers/" + driver,
		},
	}
}

// Libraries and vendor files, as Debian packages install them (usr/lib64
// stands for the architecture's directory, which is searched too).
var (
	libEGL     = tree{files: map[string]string{"usr/lib64/libEGL.so.1": ""}}
	libVulkan  = tree{files: map[string]string{"usr/lib64/libvulkan.so.1": ""}}
	eglNVIDIA  = tree{files: map[string]string{"usr/share/glvnd/egl_vendor.d/10_nvidia.json": "{}"}}
	eglMesa    = tree{files: map[string]string{"usr/share/glvnd/egl_vendor.d/50_mesa.json": "{}"}}
	icdNVIDIA  = tree{files: map[string]string{"etc/vulkan/icd.d/nvidia_icd.json": "{}"}}
	icdIntel   = tree{files: map[string]string{"usr/share/vulkan/icd.d/intel_icd.x86_64.json": "{}"}}
	nvidiaNode = pciGPU("renderD128", "0000:01:00.0", "0x10de", "0x27b8", "nvidia")
)

var (
	l4 = Device{Index: 0, Name: "NVIDIA L4", UUID: "GPU-5d6c1a2b", MemoryTotal: 23034 << 20, MemoryFree: 22700 << 20, PCIBusID: "00000000:01:00.0"}
	a2 = Device{Index: 1, Name: "NVIDIA A2", UUID: "GPU-77ab90cd", MemoryTotal: 15356 << 20, MemoryFree: 15000 << 20, PCIBusID: "00000000:02:00.0"}

	notFound = fmt.Errorf("nvml init: %w", ErrNVMLNotFound)
	mismatch = fmt.Errorf("nvml init: %w", ErrDriverMismatch)
)

// choice is what Choose should return for one mode.
type choice struct {
	backend Backend
	warning []string // substrings; none means no warning
	err     error    // errors.Is target
}

func TestDetect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		tree  tree
		nvml  *fakeNVML
		want  Info
		calls []string
		modes map[string]choice
	}{
		{
			name:  "no GPU",
			tree:  tree{},
			nvml:  &fakeNVML{initErr: notFound},
			want:  Info{NVMLError: notFound.Error()},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"no GPU found", "on the CPU"}},
				"on":   {err: ErrNoUsableGPU},
				"off":  {backend: CPU},
			},
		},
		{
			// This machine: Mesa's EGL and llvmpipe, but no GPU.
			name: "no GPU, Mesa EGL installed",
			tree: merge(libEGL, libVulkan, eglMesa, tree{files: map[string]string{"usr/share/vulkan/icd.d/lvp_icd.x86_64.json": "{}"}}),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(), EGL: true, Vulkan: true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
				VulkanICDs: []string{"/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"no GPU found"}},
				"on":   {err: ErrNoUsableGPU},
				"off":  {backend: CPU},
			},
		},
		{
			name: "one NVIDIA",
			tree: merge(nvidiaNode, libEGL, libVulkan, eglNVIDIA, eglMesa, icdNVIDIA),
			nvml: &fakeNVML{driver: "550.54.15", devices: []Device{l4}},
			want: Info{
				NVIDIA: []Device{l4}, NVMLLibrary: true, DriverVersion: "550.54.15",
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "nvidia", VendorID: "0x10de", DeviceID: "0x27b8",
					Driver: "nvidia", PCIBusID: "0000:01:00.0", Accessible: true,
				}},
				EGL: true, Vulkan: true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json", "/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
				VulkanICDs: []string{"/etc/vulkan/icd.d/nvidia_icd.json"},
			},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: NVIDIA},
				"on":   {backend: NVIDIA},
				"off":  {backend: CPU},
			},
		},
		{
			name: "two NVIDIA",
			tree: merge(nvidiaNode, pciGPU("renderD129", "0000:02:00.0", "0x10de", "0x25b6", "nvidia"), libEGL, eglNVIDIA),
			nvml: &fakeNVML{driver: "550.54.15", devices: []Device{l4, a2}},
			want: Info{
				NVIDIA: []Device{l4, a2}, NVMLLibrary: true, DriverVersion: "550.54.15",
				DRI: []RenderNode{
					{Path: "/dev/dri/renderD128", Vendor: "nvidia", VendorID: "0x10de", DeviceID: "0x27b8", Driver: "nvidia", PCIBusID: "0000:01:00.0", Accessible: true},
					{Path: "/dev/dri/renderD129", Vendor: "nvidia", VendorID: "0x10de", DeviceID: "0x25b6", Driver: "nvidia", PCIBusID: "0000:02:00.0", Accessible: true},
				},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"},
			},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: NVIDIA},
				"on":   {backend: NVIDIA},
				"off":  {backend: CPU},
			},
		},
		{
			// A container that NVIDIA_DRIVER_CAPABILITIES=compute,utility
			// gave NVML but not the EGL driver: ANGLE would run on llvmpipe.
			name: "NVIDIA without its EGL vendor file",
			tree: merge(libEGL, eglMesa),
			nvml: &fakeNVML{driver: "550.54.15", devices: []Device{l4}},
			want: Info{
				NVIDIA: []Device{l4}, NVMLLibrary: true, DriverVersion: "550.54.15", EGL: true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
			},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"NVIDIA L4", "10_nvidia.json", "NVIDIA_DRIVER_CAPABILITIES"}},
				"on":   {err: ErrNoUsableGPU},
				"off":  {backend: CPU},
			},
		},
		{
			name:  "NVIDIA without libEGL",
			tree:  merge(eglNVIDIA),
			nvml:  &fakeNVML{driver: "550.54.15", devices: []Device{l4}},
			want:  Info{NVIDIA: []Device{l4}, NVMLLibrary: true, DriverVersion: "550.54.15", EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"}},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"libEGL.so.1", "libegl1"}},
				"on":   {err: ErrNoUsableGPU},
			},
		},
		{
			name: "Intel DRI only",
			tree: merge(pciGPU("renderD128", "0000:00:02.0", "0x8086", "0x3e92", "i915"), libEGL, libVulkan, eglMesa, icdIntel),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "intel", VendorID: "0x8086", DeviceID: "0x3e92",
					Driver: "i915", PCIBusID: "0000:00:02.0", Accessible: true,
				}},
				EGL: true, Vulkan: true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
				VulkanICDs: []string{"/usr/share/vulkan/icd.d/intel_icd.x86_64.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: Mesa},
				"on":   {backend: Mesa},
				"off":  {backend: CPU},
			},
		},
		{
			name: "AMD DRI without Mesa's EGL",
			tree: merge(pciGPU("renderD128", "0000:03:00.0", "0x1002", "0x73bf", "amdgpu"), libEGL),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "amd", VendorID: "0x1002", DeviceID: "0x73bf",
					Driver: "amdgpu", PCIBusID: "0000:03:00.0", Accessible: true,
				}},
				EGL: true,
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"AMD GPU at /dev/dri/renderD128 (amdgpu)", "libegl-mesa0"}},
				"on":   {err: ErrNoUsableGPU},
			},
		},
		{
			// A node this process cannot open (here a directory, which
			// fails even for root, as a device cgroup refusal would).
			name: "Intel DRI not accessible",
			tree: func() tree {
				t := merge(pciGPU("renderD128", "0000:00:02.0", "0x8086", "0x3e92", "i915"), libEGL, eglMesa)
				delete(t.files, "dev/dri/renderD128")
				t.files["dev/dri/renderD128/"] = ""
				return t
			}(),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "intel", VendorID: "0x8086", DeviceID: "0x3e92",
					Driver: "i915", PCIBusID: "0000:00:02.0", AccessError: "is a directory",
				}},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"cannot be opened (is a directory)", "render"}},
				"on":   {err: ErrNoUsableGPU},
			},
		},
		{
			// A laptop-like host: the NVIDIA GPU lacks its EGL driver, so
			// the iGPU is used, with a warning about the NVIDIA.
			name: "NVIDIA unusable next to Intel",
			tree: merge(pciGPU("renderD128", "0000:00:02.0", "0x8086", "0x3e92", "i915"), libEGL, eglMesa),
			nvml: &fakeNVML{driver: "550.54.15", devices: []Device{l4}},
			want: Info{
				NVIDIA: []Device{l4}, NVMLLibrary: true, DriverVersion: "550.54.15",
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "intel", VendorID: "0x8086", DeviceID: "0x3e92",
					Driver: "i915", PCIBusID: "0000:00:02.0", Accessible: true,
				}},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
			},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: Mesa, warning: []string{"10_nvidia.json"}},
				"on":   {backend: Mesa, warning: []string{"10_nvidia.json"}},
			},
		},
		{
			name:  "NVML present but no devices",
			tree:  merge(libEGL, eglNVIDIA),
			nvml:  &fakeNVML{driver: "550.54.15", devices: []Device{}},
			want:  Info{NVMLLibrary: true, DriverVersion: "550.54.15", EGL: true, EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"}},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"driver 550.54.15 is installed but NVML sees no GPU", "NVIDIA_VISIBLE_DEVICES"}},
				"on":   {err: ErrNoUsableGPU},
				"off":  {backend: CPU},
			},
		},
		{
			// The kernel module and libnvidia-ml differ (an upgrade
			// without a reboot): nvmlInit fails, the render node is there.
			name: "broken driver",
			tree: merge(nvidiaNode, libEGL, eglNVIDIA),
			nvml: &fakeNVML{initErr: mismatch},
			want: Info{
				NVMLLibrary: true, NVMLError: mismatch.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "nvidia", VendorID: "0x10de", DeviceID: "0x27b8",
					Driver: "nvidia", PCIBusID: "0000:01:00.0", Accessible: true,
				}},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"NVIDIA driver unusable", "version mismatch", "on the CPU"}},
				"on":   {err: ErrNoUsableGPU},
				"off":  {backend: CPU},
			},
		},
		{
			// A node whose driver NVML cannot reach: no libnvidia-ml in a
			// container given /dev/dri but not the toolkit's mounts.
			name: "NVIDIA render node without NVML",
			tree: merge(nvidiaNode, libEGL, eglNVIDIA),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "nvidia", VendorID: "0x10de", DeviceID: "0x27b8",
					Driver: "nvidia", PCIBusID: "0000:01:00.0", Accessible: true,
				}},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"NVIDIA GPU at /dev/dri/renderD128", "libnvidia-ml.so.1 not found", "container toolkit"}},
				"on":   {err: ErrNoUsableGPU},
			},
		},
		{
			// One GPU answers, the next has fallen off the bus: use what
			// answered, and say what did not.
			name:  "NVIDIA with a lost second GPU",
			tree:  merge(libEGL, eglNVIDIA),
			nvml:  &fakeNVML{driver: "550.54.15", devices: []Device{l4}, devicesErr: errors.New("nvml device 1 memory: GPU is lost (code 15)")},
			want:  Info{NVIDIA: []Device{l4}, NVMLLibrary: true, DriverVersion: "550.54.15", NVMLError: "nvml device 1 memory: GPU is lost (code 15)", EGL: true, EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/10_nvidia.json"}},
			calls: []string{"Init", "DriverVersion", "Devices", "Shutdown"},
			modes: map[string]choice{
				"auto": {backend: NVIDIA, warning: []string{"GPU is lost"}},
				"on":   {backend: NVIDIA, warning: []string{"GPU is lost"}},
			},
		},
		{
			// Containers can hide /sys; /dev still says a node is there.
			name: "render node without sysfs",
			tree: tree{files: map[string]string{"dev/dri/renderD128": "", "dev/dri/card0": ""}},
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI:       []RenderNode{{Path: "/dev/dri/renderD128", Vendor: "unknown", Accessible: true}},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"no NVIDIA, Intel or AMD GPU"}},
				"on":   {err: ErrNoUsableGPU},
			},
		},
		{
			name: "virtio GPU",
			tree: merge(pciGPU("renderD128", "0000:00:05.0", "0x1af4", "0x1050", "virtio-pci"), libEGL, eglMesa),
			nvml: &fakeNVML{initErr: notFound},
			want: Info{
				NVMLError: notFound.Error(),
				DRI: []RenderNode{{
					Path: "/dev/dri/renderD128", Vendor: "0x1af4", VendorID: "0x1af4", DeviceID: "0x1050",
					Driver: "virtio-pci", PCIBusID: "0000:00:05.0", Accessible: true,
				}},
				EGL:        true,
				EGLVendors: []string{"/usr/share/glvnd/egl_vendor.d/50_mesa.json"},
			},
			calls: []string{"Init"},
			modes: map[string]choice{
				"auto": {backend: CPU, warning: []string{"no NVIDIA, Intel or AMD GPU"}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &Detector{NVML: tc.nvml, Root: tc.tree.build(t)}
			got := d.Detect(context.Background())
			if !reflect.DeepEqual(norm(got), norm(tc.want)) {
				t.Errorf("Detect:\n got %s\nwant %s", jsonString(t, got), jsonString(t, tc.want))
			}
			if calls := tc.nvml.Calls(); !reflect.DeepEqual(calls, tc.calls) {
				t.Errorf("NVML calls %q, want %q", calls, tc.calls)
			}
			for mode, want := range tc.modes {
				checkChoose(t, mode, got, want)
			}
		})
	}
}

func checkChoose(t *testing.T, mode string, info Info, want choice) {
	t.Helper()
	b, warning, err := Choose(mode, info)
	if want.err != nil {
		if !errors.Is(err, want.err) {
			t.Errorf("Choose(%s) error %v, want %v", mode, err, want.err)
		}
		if b != "" || warning != "" {
			t.Errorf("Choose(%s) = %q, %q with an error", mode, b, warning)
		}
		// The error says what is missing, as the auto warning would.
		_, autoWarning, _ := Choose(ModeAuto, info)
		if why, _, _ := strings.Cut(autoWarning, "; rendering on the CPU"); err != nil && !strings.Contains(err.Error(), why) {
			t.Errorf("Choose(%s) error %q does not say %q", mode, err, why)
		}
		return
	}
	if err != nil {
		t.Errorf("Choose(%s): %v", mode, err)
		return
	}
	if b != want.backend {
		t.Errorf("Choose(%s) backend %q, want %q", mode, b, want.backend)
	}
	if len(want.warning) == 0 && warning != "" {
		t.Errorf("Choose(%s) warning %q, want none", mode, warning)
	}
	for _, w := range want.warning {
		if !strings.Contains(warning, w) {
			t.Errorf("Choose(%s) warning %q, want it to contain %q", mode, warning, w)
		}
	}
}

// norm makes nil and empty slices equal.
func norm(i Info) Info {
	if i.NVIDIA == nil {
		i.NVIDIA = []Device{}
	}
	if i.DRI == nil {
		i.DRI = []RenderNode{}
	}
	if i.EGLVendors == nil {
		i.EGLVendors = []string{}
	}
	if i.VulkanICDs == nil {
		i.VulkanICDs = []string{}
	}
	return i
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDetectLibraryInArchDir(t *testing.T) {
	t.Parallel()
	dir := libraryDirs()[0] // /usr/lib/x86_64-linux-gnu on amd64
	root := tree{files: map[string]string{dir + "/libEGL.so.1": "", dir + "/libvulkan.so.1": ""}}.build(t)
	got := (&Detector{Root: root}).Detect(context.Background())
	if !got.EGL || !got.Vulkan {
		t.Errorf("EGL %v, Vulkan %v with both in %s", got.EGL, got.Vulkan, dir)
	}
}

func TestDetectWithoutNVML(t *testing.T) {
	t.Parallel()
	got := (&Detector{Root: t.TempDir()}).Detect(context.Background())
	if got.NVMLError != "NVML not configured" || got.NVMLLibrary {
		t.Errorf("NVMLError %q, NVMLLibrary %v", got.NVMLError, got.NVMLLibrary)
	}
	if b, w, err := Choose(ModeAuto, got); b != CPU || err != nil || !strings.Contains(w, "no GPU found") {
		t.Errorf("Choose(auto) = %q, %q, %v", b, w, err)
	}
}

// A wedged driver can block nvmlInit for minutes; Detect must not.
func TestDetectNVMLHangs(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	nv := &fakeNVML{block: release, driver: "550.54.15", devices: []Device{l4}}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := (&Detector{NVML: nv, Root: t.TempDir()}).Detect(ctx)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Detect took %v with a hung NVML", d)
	}
	if !strings.Contains(got.NVMLError, "NVML did not answer") || len(got.NVIDIA) != 0 {
		t.Errorf("NVMLError %q, NVIDIA %v", got.NVMLError, got.NVIDIA)
	}
	if _, _, err := Choose(ModeOn, got); !errors.Is(err, ErrNoUsableGPU) {
		t.Errorf("Choose(on) error %v", err)
	}
	close(release)
	// The abandoned probe still shuts NVML down when Init returns.
	want := []string{"Init", "DriverVersion", "Devices", "Shutdown"}
	if !testenv.Poll(5*time.Second, time.Millisecond, func() bool { return reflect.DeepEqual(nv.Calls(), want) }) {
		t.Fatalf("NVML calls %q after release; want %q", nv.Calls(), want)
	}
}

func TestInfoJSON(t *testing.T) {
	t.Parallel()
	got := (&Detector{NVML: &fakeNVML{initErr: notFound}, Root: t.TempDir()}).Detect(context.Background())
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"nvidia":[],"nvmlLibrary":false,"nvmlError":"nvml init: libnvidia-ml.so.1 not found (no NVIDIA driver installed)",` +
		`"dri":[],"egl":false,"eglVendors":[],"vulkan":false,"vulkanICDs":[]}`
	if string(b) != want {
		t.Errorf("JSON\n got %s\nwant %s", b, want)
	}
}
