package gpu

import "strings"

// switchFor is one Chromium switch and the backends that pass it.
type switchFor struct {
	flag     string
	backends []Backend
}

// recipes is the one table of Chromium switches per backend, in the order
// they are passed. Measurements are on Chromium 156 (Debian) unless a
// source is named; the sources are in the rendering-services reference.
func recipes() []switchFor {
	gpus := []Backend{NVIDIA, Mesa}
	return []switchFor{
		// No GPU process probing. WebGL and WebGL2 still work, through
		// ANGLE on SwiftShader ("ANGLE (Google, Vulkan 1.3.0 (SwiftShader
		// Device (Subzero) ...)"), and 2D draw+capture was 3x slower
		// without it on a CPU host (docs/rendering.md). Never on a GPU
		// backend: it turns the GPU off.
		{"--disable-gpu", []Backend{CPU}},
		// The line above now logs "Automatic fallback to software WebGL has
		// been deprecated. Please use the --enable-unsafe-swiftshader flag"
		// and still works; Chrome 144 removed that fallback outside
		// headless (odoo/odoo#246289, ruffle-rs/ruffle#22844). Opting in
		// keeps WebGL on the CPU path when headless loses it too. The
		// renderer is the same SwiftShader either way.
		{"--enable-unsafe-swiftshader", []Backend{CPU}},
		// ANGLE is the only GL implementation Chromium allows: plain
		// --use-gl=egl fails with "Requested GL implementation
		// (gl=egl-gles2,angle=none) not found in allowed implementations"
		// and leaves no WebGL at all (also CloakHQ/CloakBrowser#476).
		{"--use-gl=angle", gpus},
		// ANGLE on the native driver's EGL, which needs no X server: GLVND
		// hands the display to libEGL_nvidia (10_nvidia.json) or Mesa's
		// libEGL_mesa (50_mesa.json, iris/radeonsi on the render node).
		// The recipe fxhash and Remotion ("angle-egl") run on cloud GPUs.
		// --use-angle=vulkan also works on NVIDIA (m1k1o/neko#537) but
		// needs --enable-features=Vulkan and an ICD, and is not measured
		// here.
		{"--use-angle=gl-egl", gpus},
		// Chromium's GPU blocklist turns WebGL off on drivers it does not
		// know, and headless server GPUs are often not on its lists: ANGLE
		// on Mesa EGL here answered "WebGL1 blocklisted" without it. The
		// fleet checks the renderer string instead (IsSoftwareRenderer).
		{"--ignore-gpu-blocklist", gpus},
		// Raster 2D canvas and CSS on the GPU too, not only WebGL, which is
		// most of the work of a p5 2D sketch; the blocklist would otherwise
		// keep raster on the CPU for unlisted drivers.
		{"--enable-gpu-rasterization", gpus},
	}
}

// Flags returns the Chromium switches for backend b, each "--name" or
// "--name=value", in a new slice; nil for an unknown backend. They are
// meant to be added after the browser's base flags.
func Flags(b Backend) []string {
	var out []string
	for _, s := range recipes() {
		for _, sb := range s.backends {
			if sb == b {
				out = append(out, s.flag)
			}
		}
	}
	return out
}

// IsSoftwareRenderer reports whether renderer, the unmasked WebGL renderer
// string Chromium reports (WEBGL_debug_renderer_info's
// UNMASKED_RENDERER_WEBGL), names a software rasterizer rather than a GPU.
// An empty renderer (no WebGL) is not software: check for it separately.
func IsSoftwareRenderer(renderer string) bool {
	// Substrings of the renderer strings of software rasterizers:
	// SwiftShader (Chromium's own, "ANGLE (Google, Vulkan 1.3.0
	// (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"),
	// Mesa's llvmpipe ("ANGLE (Mesa/X.org, llvmpipe (LLVM 15.0.6 256
	// bits), OpenGL ES 3.2)"), softpipe and lavapipe, and the generic names
	// Chromium and Windows use.
	software := [...]string{
		"swiftshader", "llvmpipe", "softpipe", "lavapipe", "software", "microsoft basic render",
	}
	r := strings.ToLower(renderer)
	for _, s := range software {
		if strings.Contains(r, s) {
			return true
		}
	}
	return false
}
