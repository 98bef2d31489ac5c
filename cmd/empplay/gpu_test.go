package main

import (
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/queue"
)

// On a host without a GPU: a WEBGL sketch renders on a CPU worker through
// SwiftShader and its result names that renderer; a job that requires a
// GPU fails with gpu_unavailable instead of rendering slowly; and a worker
// started with the NVIDIA flags finds its WebGL is software, reports
// itself degraded and does not join the GPU lane, so no WebGL job is
// routed to it.
func TestGPURoutingOnCPUHost(t *testing.T) {
	if info := gpu.NewDetector(gpu.NewSystemNVML()).Detect(t.Context()); len(info.NVIDIA) > 0 {
		t.Skip("this host has an NVIDIA GPU")
	}
	s := newStack(t)
	ctx := testenv.Context(t, 4*time.Minute)
	// Each worker has its own profile root: the stack checks its own root
	// for leftovers when a worker stops, and the other is still running.
	cpuProfiles := t.TempDir()
	t.Cleanup(func() {
		if pids := proc.Naming(cpuProfiles); len(pids) > 0 {
			t.Errorf("processes still use the CPU worker's profile dir after it stopped: %v", pids)
		}
	})
	s.startWorker(t, "EMPPLAY_GPU_BACKEND=cpu", "MAX_ATTEMPTS=1", "EMPPLAY_PROFILE_DIR="+cpuProfiles)

	webgl := job(t, map[string]any{
		"code":     `function setup(){createCanvas(64,64,WEBGL);noLoop();} function draw(){background(0);normalMaterial();box(30);}`,
		"filename": "webgl.png", "width": 64, "height": 64,
	})
	res := s.submit(t, ctx, webgl)
	if !res.Success || !strings.Contains(res.Renderer, "SwiftShader") {
		t.Fatalf("WEBGL job result %+v; want success drawn by SwiftShader", res)
	}

	required := job(t, map[string]any{
		"code":     `function setup(){createCanvas(64,64,WEBGL);}`,
		"filename": "required.png", "width": 64, "height": 64, "requireGPU": true,
	})
	res = s.submit(t, ctx, required)
	if res.Success || res.ErrorCode != empplay.CodeGPUUnavailable || !res.Retryable {
		t.Fatalf("requireGPU job result %+v; want a retryable gpu_unavailable failure", res)
	}

	// A worker given the NVIDIA flags on this host.
	s.startWorker(t, "EMPPLAY_GPU_BACKEND=nvidia", "MAX_ATTEMPTS=1")
	admin := queue.NewAdmin(s.rc, "")
	var st *queue.Stats
	if !testenv.Poll(90*time.Second, 200*time.Millisecond, func() bool {
		var err error
		if st, err = admin.Stats(ctx); err != nil {
			t.Fatal(err)
		}
		return len(st.Workers) == 2
	}) {
		t.Fatalf("second worker did not register: %+v", st.Workers)
	}
	if st.GPUWorkers != 0 {
		t.Fatalf("%d workers take the GPU lane; want none on a host without a GPU", st.GPUWorkers)
	}
	for _, w := range st.Workers {
		if w.Lane != queue.LaneCPU {
			t.Errorf("worker %s is on the %s lane", w.ID, w.Lane)
		}
	}
	// WebGL jobs still render (in software) with two CPU-lane workers.
	res = s.submit(t, ctx, job(t, map[string]any{
		"code":     `function setup(){createCanvas(32,32,WEBGL);noLoop();} function draw(){background(9);normalMaterial();box(16);}`,
		"filename": "again.png", "width": 32, "height": 32,
	}))
	if !res.Success || !gpu.IsSoftwareRenderer(res.Renderer) {
		t.Fatalf("result %+v; want success in software", res)
	}
	if n, _ := s.rc.Do(ctx, s.rc.B().Llen().Key(queue.NewKeys("").GPU()).Build()).AsInt64(); n != 0 {
		t.Errorf("GPU lane holds %d jobs; want none", n)
	}
	s.assertQueueEmpty(t, ctx)
}
