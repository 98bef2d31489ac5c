package cmd

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/render"
)

type fakeSketchRenderer func(ctx context.Context, job *empplay.Job) (*empplay.Output, error)

func (f fakeSketchRenderer) Render(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
	return f(ctx, job)
}

func TestGPURenderMeasure(t *testing.T) {
	t.Parallel()
	const swiftShader = "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"
	const nvidia = "ANGLE (NVIDIA, NVIDIA H200 (0x00002335) Direct3D11 vs_5_0 ps_5_0, D3D11)"
	drew := func(renderer string) fakeSketchRenderer {
		return func(ctx context.Context, _ *empplay.Job) (*empplay.Output, error) {
			if _, ok := ctx.Deadline(); !ok {
				return nil, errors.New("no deadline")
			}
			return &empplay.Output{Renderer: renderer, Trigger: "frames", Artifacts: []empplay.Artifact{{Body: []byte("png")}}}, nil
		}
	}
	for _, tc := range []struct {
		name    string
		probe   render.WebGLInfo
		r       fakeSketchRenderer
		onGPU   bool
		wantErr bool
	}{
		{name: "WebGL on the GPU", probe: render.WebGLInfo{Renderer: nvidia}, r: drew(nvidia), onGPU: true},
		{name: "2D on a GPU browser", probe: render.WebGLInfo{Renderer: nvidia}, r: drew(""), onGPU: true},
		{name: "sketch drawn in software", probe: render.WebGLInfo{Renderer: nvidia}, r: drew(swiftShader)},
		{name: "software browser", probe: render.WebGLInfo{Renderer: swiftShader, Software: true}, r: drew("")},
		{name: "no WebGL at all", r: drew("")},
		{name: "render fails", probe: render.WebGLInfo{Renderer: nvidia}, wantErr: true,
			r: func(context.Context, *empplay.Job) (*empplay.Output, error) { return nil, errors.New("boom") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep := gpuRenderReport{Sketch: "s.js", Probe: tc.probe}
			err := rep.measure(context.Background(), tc.r, &empplay.Job{}, 3, time.Second)
			if (err != nil) != tc.wantErr {
				t.Fatalf("measure: %v; want error %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(rep.RenderMs) != 3 || rep.Bytes != 3 || rep.Trigger != "frames" || rep.OnGPU != tc.onGPU {
				t.Errorf("report %+v; want 3 runs of 3 bytes, on GPU %v", rep, tc.onGPU)
			}
		})
	}
}
