package render

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

func TestChromiumSwitchesPerBackend(t *testing.T) {
	t.Parallel()
	gpuFlags := []string{"--use-gl=angle", "--use-angle=gl-egl", "--ignore-gpu-blocklist", "--enable-gpu-rasterization"}
	cpuFlags := []string{"--disable-gpu", "--enable-unsafe-swiftshader"}
	for _, tc := range []struct {
		name    string
		backend gpu.Backend
		extra   []string
		want    []string
		notWant []string
		wantErr bool
	}{
		{name: "default is the CPU", want: cpuFlags, notWant: gpuFlags},
		{name: "cpu", backend: gpu.CPU, want: cpuFlags, notWant: gpuFlags},
		{name: "nvidia", backend: gpu.NVIDIA, want: gpuFlags, notWant: cpuFlags},
		{name: "mesa", backend: gpu.Mesa, want: gpuFlags, notWant: cpuFlags},
		{
			name: "extra overrides a backend flag", backend: gpu.NVIDIA, extra: []string{"--use-angle=vulkan"},
			want: []string{"--use-angle=vulkan", "--use-gl=angle"}, notWant: []string{"--use-angle=gl-egl"},
		},
		{name: "unknown backend", backend: "tpu", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			list, err := chromiumSwitches(tc.backend, tc.extra, true, 0)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := args(list)
			for _, w := range append(tc.want, "--headless=new", "--host-resolver-rules=MAP * ~NOTFOUND") {
				if !slices.Contains(got, w) {
					t.Errorf("%q missing from %q", w, got)
				}
			}
			for _, w := range tc.notWant {
				if slices.Contains(got, w) {
					t.Errorf("%q present in %q", w, got)
				}
			}
		})
	}
}

// On a host without a GPU the CPU backend draws WebGL with SwiftShader,
// and the probe says so.
func TestProbeWebGLOnCPU(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t, Options{})
	info, err := b.ProbeWebGL(testenv.Context(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("probe: %+v", info)
	if !strings.Contains(info.Renderer, "SwiftShader") || !info.Software {
		t.Errorf("renderer %q (software %v); want SwiftShader", info.Renderer, info.Software)
	}
	if !info.Drew || !info.WebGL2 || info.Backend != gpu.CPU {
		t.Errorf("probe %+v; want a drawing WebGL2 context on the cpu backend", info)
	}
	// The probe leaves the browser ready for jobs.
	out, err := b.Render(testenv.Context(t, 30*time.Second), webglJob())
	if err != nil {
		t.Fatal(err)
	}
	if out.Renderer != info.Renderer {
		t.Errorf("job renderer %q; want the probe's %q", out.Renderer, info.Renderer)
	}
}

func webglJob() *empplay.Job {
	return &empplay.Job{
		Type: empplay.TypeP5, Width: 64, Height: 64, Bucket: "b", Filename: "f.png",
		Code: "function setup(){ createCanvas(64, 64, WEBGL); noLoop(); }\n" +
			"function draw(){ background(20); normalMaterial(); rotateX(0.5); box(30); }",
	}
}

// A WEBGL sketch renders on this CPU host through SwiftShader and the
// output names that renderer: what a worker reports in the result's
// renderer field and in its metrics.
func TestWebGLSketchNamesSwiftShader(t *testing.T) {
	t.Parallel()
	b := sharedBrowser(t)
	out, err := b.Render(testenv.Context(t, 60*time.Second), webglJob())
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Artifacts) == 0 || len(out.Artifacts[0].Body) == 0 {
		t.Fatal("no PNG")
	}
	if !strings.Contains(out.Renderer, "SwiftShader") || !gpu.IsSoftwareRenderer(out.Renderer) {
		t.Fatalf("renderer %q; want SwiftShader", out.Renderer)
	}
}

// Recycle replaces Chromium between jobs and says why.
func TestRecycle(t *testing.T) {
	t.Parallel()
	b := newTestBrowser(t, Options{})
	ctx := testenv.Context(t, 60*time.Second)
	old := b.PID()
	if err := b.Recycle(ctx, "gpu memory"); err != nil {
		t.Fatal(err)
	}
	if b.PID() == 0 || b.PID() == old {
		t.Fatalf("pid %d after Recycle; want a new browser (old %d)", b.PID(), old)
	}
	select {
	case why := <-b.Restarts():
		if why != "gpu memory" {
			t.Errorf("restart reason %q", why)
		}
	default:
		t.Error("no restart reported")
	}
	if !testenv.Poll(5*time.Second, 20*time.Millisecond, func() bool { return !proc.Alive(old) }) {
		t.Errorf("old chromium %d still alive", old)
	}
	if _, err := b.Render(ctx, webglJob()); err != nil {
		t.Fatalf("render after Recycle: %v", err)
	}
}

// A GPU backend on a host without a usable GPU starts, and the probe
// shows what it fell back to: software, or no WebGL at all. This is what
// makes a worker meant for the GPU report itself degraded.
func TestProbeGPUBackendWithoutGPU(t *testing.T) {
	t.Parallel()
	if info := gpu.NewDetector(gpu.NewSystemNVML()).Detect(context.Background()); len(info.NVIDIA) > 0 {
		t.Skip("this host has an NVIDIA GPU")
	}
	b := newTestBrowser(t, Options{Backend: gpu.NVIDIA})
	info, err := b.ProbeWebGL(testenv.Context(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("nvidia flags without a GPU: %+v", info)
	if info.Renderer != "" && !info.Software {
		t.Errorf("renderer %q on a host without a GPU is not software", info.Renderer)
	}
}
