package gpu

import (
	"slices"
	"strings"
	"testing"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		backend Backend
		want    []string
		notWant []string
	}{
		{
			backend: CPU,
			want:    []string{"--disable-gpu", "--enable-unsafe-swiftshader"},
			notWant: []string{"--use-gl=angle", "--ignore-gpu-blocklist"},
		},
		{
			backend: NVIDIA,
			want:    []string{"--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist", "--enable-gpu-rasterization"},
			// --use-gl=egl leaves Chromium without WebGL.
			notWant: []string{"--disable-gpu", "--use-gl=egl", "--enable-unsafe-swiftshader"},
		},
		{
			backend: Mesa,
			want:    []string{"--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist", "--enable-gpu-rasterization"},
			notWant: []string{"--disable-gpu", "--use-gl=egl", "--enable-unsafe-swiftshader"},
		},
	} {
		t.Run(string(tc.backend), func(t *testing.T) {
			t.Parallel()
			got := Flags(tc.backend)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Flags(%s) = %q, want %q", tc.backend, got, tc.want)
			}
			for _, f := range tc.notWant {
				if slices.Contains(got, f) {
					t.Errorf("Flags(%s) has %s", tc.backend, f)
				}
			}
			// The caller may change its copy.
			got[0] = "--changed"
			if again := Flags(tc.backend); again[0] == "--changed" {
				t.Error("Flags returns shared state")
			}
		})
	}
	if got := Flags("opengl"); got != nil {
		t.Errorf("Flags(unknown) = %q", got)
	}
}

// Every flag of the table is well formed and used, and no backend gets a
// flag twice.
func TestRecipesTable(t *testing.T) {
	t.Parallel()
	for _, s := range recipes() {
		if !strings.HasPrefix(s.flag, "--") || len(s.flag) < 3 || strings.ContainsAny(s.flag, " \t") {
			t.Errorf("malformed flag %q", s.flag)
		}
		if len(s.backends) == 0 {
			t.Errorf("flag %s is used by no backend", s.flag)
		}
	}
	for _, b := range []Backend{CPU, NVIDIA, Mesa} {
		f := Flags(b)
		if len(f) == 0 {
			t.Errorf("backend %s has no flags", b)
		}
		if c := slices.Compact(slices.Sorted(slices.Values(f))); len(c) != len(f) {
			t.Errorf("backend %s has a flag twice: %q", b, f)
		}
	}
}

func TestIsSoftwareRenderer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		renderer string
		want     bool
	}{
		// Chromium 156 with --disable-gpu on this CPU-only host.
		{"ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)", true},
		// Chromium 156 with --use-angle=gl-egl --ignore-gpu-blocklist and
		// no GPU: Mesa's EGL picked llvmpipe.
		{"ANGLE (Mesa/X.org, llvmpipe (LLVM 15.0.6 256 bits), OpenGL ES 3.2)", true},
		{"ANGLE (Mesa, softpipe, OpenGL 3.3)", true},
		{"ANGLE (Mesa/X.org, llvmpipe (LLVM 15.0.6 256 bits) (0x00000000), Vulkan 1.3.238 (lavapipe))", true},
		{"Google SwiftShader", true},
		{"Software Rasterizer", true},
		{"ANGLE (Microsoft, Microsoft Basic Render Driver (0x0000008C) Direct3D11 vs_5_0 ps_5_0, D3D11)", true},
		{"ANGLE (NVIDIA Corporation, NVIDIA L4/PCIe/SSE2, OpenGL ES 3.2 NVIDIA 550.54.15)", false},
		{"ANGLE (NVIDIA, Vulkan 1.3.277 (NVIDIA L4 (0x000027B8)), NVIDIA)", false},
		{"ANGLE (Intel, Mesa Intel(R) UHD Graphics 630 (CFL GT2), OpenGL ES 3.2)", false},
		{"ANGLE (AMD, AMD Radeon RX 6800 (radeonsi, navi21, LLVM 15.0.6, DRM 3.49, 6.1.0-13-amd64), OpenGL ES 3.2)", false},
		// No WebGL at all is a different failure.
		{"", false},
	} {
		if got := IsSoftwareRenderer(tc.renderer); got != tc.want {
			t.Errorf("IsSoftwareRenderer(%q) = %v, want %v", tc.renderer, got, tc.want)
		}
	}
}
