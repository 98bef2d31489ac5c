package worker

import (
	"context"
	"fmt"
	"sync"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
)

// laneSetter is the part of a queue with a GPU lane a worker uses to leave
// it (queue.Redis).
type laneSetter interface {
	SetLane(ctx context.Context, lane string) error
}

// gpuState is what a worker meant for the GPU knows about its GPU.
type gpuState struct {
	mu       sync.Mutex
	degraded string // why the worker renders in software; "" while it does not
}

// DegradeGPU marks a worker started for the GPU ([Config.GPU]) as
// rendering in software, for why (its browser's WebGL renderer is
// SwiftShader or llvmpipe): it leaves the queue's GPU lane, so GPU jobs
// are routed to other GPU workers or rendered knowingly on the CPU,
// requireGPU jobs fail with [empplay.CodeGPUUnavailable] here, and [Worker.Status]
// reports the reason. It lasts for the worker's life; only the first
// reason is kept. It does nothing on a CPU worker.
func (w *Worker) DegradeGPU(ctx context.Context, why error) {
	if !w.cfg.GPU || why == nil {
		return
	}
	reason := why.Error()
	w.gpu.mu.Lock()
	first := w.gpu.degraded == ""
	if first {
		w.gpu.degraded = reason
	}
	w.gpu.mu.Unlock()
	if !first {
		return
	}
	w.logger.ErrorContext(ctx, "worker meant for the GPU renders in software; leaving the GPU lane", "reason", reason)
	if ls, ok := w.q.(laneSetter); ok {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ResultTimeout)
		defer cancel()
		if err := ls.SetLane(lctx, "cpu"); err != nil {
			// The next heartbeat carries the lane change.
			w.logger.WarnContext(ctx, "could not leave the GPU lane at once", "err", err)
		}
	}
}

// GPUDegraded returns why a worker meant for the GPU renders in software,
// or "".
func (w *Worker) GPUDegraded() string {
	w.gpu.mu.Lock()
	defer w.gpu.mu.Unlock()
	return w.gpu.degraded
}

// onGPU reports whether the worker renders on a GPU it has not found
// wanting.
func (w *Worker) onGPU() bool {
	return w.cfg.GPU && w.GPUDegraded() == ""
}

// gpuGate refuses a job that requires a GPU on a worker that renders on
// the CPU.
func (w *Worker) gpuGate(job *empplay.Job) error {
	if !job.RequireGPU || w.onGPU() {
		return nil
	}
	why := "this worker renders on the CPU and no GPU worker was alive to take the job"
	if d := w.GPUDegraded(); d != "" {
		why = "this worker's GPU is not in use (" + d + ")"
	}
	return empplay.Transient(empplay.CodeGPUUnavailable, fmt.Errorf("the job requires a GPU (requireGPU) but %s", why))
}

// gpuVerify checks, after a render, that a worker meant for the GPU drew
// the job on it: a software renderer degrades the worker ([DegradeGPU])
// and fails a job that requires a GPU, so that it is retried elsewhere.
// Other jobs keep their result, which names the renderer.
func (w *Worker) gpuVerify(ctx context.Context, id string, job *empplay.Job, renderer string) error {
	if !w.cfg.GPU || renderer == "" || !gpu.IsSoftwareRenderer(renderer) {
		return nil
	}
	w.DegradeGPU(ctx, fmt.Errorf("job %s drew with the software renderer %q", id, renderer))
	if job.RequireGPU {
		return empplay.Transient(empplay.CodeGPUUnavailable,
			fmt.Errorf("the job requires a GPU (requireGPU) but was drawn in software (%s) on a worker whose GPU failed", renderer))
	}
	return nil
}
