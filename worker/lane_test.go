package worker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/empplay/empplay"
)

const (
	swiftShader = "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)"
	nvidiaL4    = "ANGLE (NVIDIA Corporation, NVIDIA L4/PCIe/SSE2, OpenGL ES 3.2 NVIDIA 550.54.15)"

	webglJob   = `{"type":"p5","code":"createCanvas(4,3,WEBGL)","width":4,"height":3,"bucket":"renders","filename":"g.png"}`
	requireJob = `{"type":"p5","code":"createCanvas(4,3,WEBGL)","requireGPU":true,"width":4,"height":3,"bucket":"renders","filename":"r.png"}`
)

// laneQueue is a fakeQueue with a GPU lane.
type laneQueue struct {
	fakeQueue
	mu    sync.Mutex
	lanes []string
}

func (q *laneQueue) SetLane(_ context.Context, lane string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lanes = append(q.lanes, lane)
	return nil
}

func rendererOf(name string) func(context.Context, *empplay.Job) (*empplay.Output, error) {
	return func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		out, err := okRender(ctx, job)
		out.Renderer = name
		return out, err
	}
}

func TestGPULane(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		gpu          bool
		renderer     string
		raw          string
		wantOK       bool
		wantCode     empplay.Code
		wantDegraded bool
	}{
		{name: "CPU worker renders WebGL in software", renderer: swiftShader, raw: webglJob, wantOK: true},
		{name: "CPU worker refuses requireGPU", renderer: swiftShader, raw: requireJob, wantCode: empplay.CodeGPUUnavailable},
		{name: "GPU worker on the GPU", gpu: true, renderer: nvidiaL4, raw: requireJob, wantOK: true},
		{name: "GPU worker, 2D job", gpu: true, raw: goodJob, wantOK: true},
		{name: "GPU worker drawing in software degrades, keeps the result", gpu: true, renderer: swiftShader, raw: webglJob, wantOK: true, wantDegraded: true},
		{name: "GPU worker drawing a requireGPU job in software fails it", gpu: true, renderer: swiftShader, raw: requireJob,
			wantCode: empplay.CodeGPUUnavailable, wantDegraded: true},
		{name: "llvmpipe counts as software", gpu: true, renderer: "ANGLE (Mesa/X.org, llvmpipe (LLVM 15.0.6 256 bits), OpenGL ES 3.2)",
			raw: webglJob, wantOK: true, wantDegraded: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &laneQueue{}
			w := New(Config{ID: "w", GPU: tc.gpu}, q, fakeRenderer{rendererOf(tc.renderer)}, &fakeUploader{}, fakeVerifier{},
				slog.New(slog.DiscardHandler))
			res := w.Process(context.Background(), delivery(tc.raw))
			if res.Success != tc.wantOK || res.ErrorCode != tc.wantCode {
				t.Fatalf("result %+v; want success %v, code %q", res, tc.wantOK, tc.wantCode)
			}
			if tc.wantCode == empplay.CodeGPUUnavailable && (!res.Retryable || !strings.Contains(res.Error, "requireGPU")) {
				t.Errorf("gpu_unavailable result %+v; want retryable, naming requireGPU", res)
			}
			wantRenderer := tc.renderer
			if !tc.gpu && tc.wantCode == empplay.CodeGPUUnavailable {
				wantRenderer = "" // refused before rendering
			}
			if res.Renderer != wantRenderer {
				t.Errorf("result renderer %q; want %q", res.Renderer, wantRenderer)
			}
			if got := w.GPUDegraded() != ""; got != tc.wantDegraded {
				t.Errorf("degraded = %v (%q); want %v", got, w.GPUDegraded(), tc.wantDegraded)
			}
			q.mu.Lock()
			defer q.mu.Unlock()
			if tc.wantDegraded && (len(q.lanes) != 1 || q.lanes[0] != "cpu") {
				t.Errorf("lane changes %v; want one move to cpu", q.lanes)
			}
			if !tc.wantDegraded && len(q.lanes) != 0 {
				t.Errorf("lane changes %v; want none", q.lanes)
			}
		})
	}
}

// A degraded GPU worker refuses requireGPU jobs before rendering them,
// and its first reason sticks.
func TestDegradeGPU(t *testing.T) {
	t.Parallel()
	q := &laneQueue{}
	rendered := 0
	w := New(Config{ID: "w", GPU: true}, q, fakeRenderer{func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		rendered++
		return rendererOf(nvidiaL4)(ctx, job)
	}}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	w.DegradeGPU(context.Background(), errors.New("start-up probe: SwiftShader"))
	w.DegradeGPU(context.Background(), errors.New("second reason"))
	if got := w.GPUDegraded(); got != "start-up probe: SwiftShader" {
		t.Fatalf("GPUDegraded = %q", got)
	}
	res := w.Process(context.Background(), delivery(requireJob))
	if res.ErrorCode != empplay.CodeGPUUnavailable || !strings.Contains(res.Error, "start-up probe") || rendered != 0 {
		t.Fatalf("result %+v after %d renders; want gpu_unavailable naming the reason, no render", res, rendered)
	}
	if len(q.lanes) != 1 {
		t.Errorf("lane changes %v; want one", q.lanes)
	}

	// A CPU worker is never degraded.
	c := New(Config{ID: "c"}, q, fakeRenderer{okRender}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	c.DegradeGPU(context.Background(), errors.New("x"))
	if c.GPUDegraded() != "" {
		t.Error("a CPU worker became degraded")
	}
}

// Job events carry the renderer, for the per-renderer metrics.
func TestEventRenderer(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(webglJob)}}
	w := New(Config{ID: "w"}, q, fakeRenderer{rendererOf(swiftShader)}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	if _, err := w.RunOnce(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	ev := <-w.Events()
	if ev.Renderer != swiftShader || ev.Outcome != "success" {
		t.Fatalf("event %+v", ev)
	}
}
