// Package gpu finds out what a render host can offer Chromium for WebGL and
// raster work, and which Chromium flags go with it.
//
// A [Detector] looks at three things, none of which needs a display:
//
//   - NVIDIA GPUs through NVML (libnvidia-ml.so.1, loaded with dlopen at run
//     time, so the binary runs on hosts without the driver): names, memory,
//     PCI bus ids and the driver version;
//   - DRI render nodes (/dev/dri/renderD*), with vendor, device and kernel
//     driver from sysfs, for Intel, AMD and NVIDIA;
//   - whether the EGL and Vulkan loaders (libEGL.so.1, libvulkan.so.1) and
//     their vendor files (GLVND egl_vendor.d, Vulkan icd.d) are installed.
//
// [Choose] turns that [Info] and the operator's GPU_ACCELERATION mode (auto,
// on or off) into a [Backend]: cpu, nvidia or mesa. [Flags] returns the
// Chromium switches of a backend from one table, with the reason for each.
//
// Detection says what should work; only Chromium knows what does. After a
// browser starts on a GPU backend, read the unmasked WebGL renderer string
// (WEBGL_debug_renderer_info) and check it with [IsSoftwareRenderer]: a
// missing vendor file or device permission makes ANGLE fall back to
// llvmpipe, and a failed GPU process leaves no WebGL at all.
//
// [ClassifyJob] reads what a job asks of the GPU (WebGL, gpuComplexity,
// requireGPU) and [JobMemory] what it is expected to hold, for routing and
// for sharing the GPU between worker slots. [GroupMemory] sums the GPU
// memory NVML reports for one browser's process group.
// [PlanSlots] shares the GPU's memory among the supervisor's worker
// slots, and [ParseSize] reads the memory sizes its settings are given in.
//
// The package reads files under [Detector.Root] and nothing else from its
// surroundings (no environment variables); it knows nothing about chromedp.
package gpu
