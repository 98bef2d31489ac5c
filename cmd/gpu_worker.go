package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/render"
	"github.com/empplay/empplay/worker"
)

// gpuWorkerFlags are what the supervisor tells a worker about its slot's
// GPU share. A worker started by hand leaves them empty and detects.
type gpuWorkerFlags struct {
	backend     string
	memoryLimit string
}

func (f *gpuWorkerFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.backend, "gpu-backend", "",
		"render on this backend: cpu, nvidia or mesa (the supervisor sets it per slot; empty: detect, as --gpu-acceleration says)")
	fs.StringVar(&f.memoryLimit, "gpu-memory-limit", "",
		"recycle the browser when it holds more GPU memory than this, e.g. 4GiB (NVIDIA only; the supervisor sets the slot's share; empty: no limit)")
	bindEnv(fs, "gpu-backend", "EMPPLAY_GPU_BACKEND")
	bindEnv(fs, "gpu-memory-limit", "EMPPLAY_GPU_MEMORY_LIMIT")
}

// resolveBackend returns the backend the worker renders on: --gpu-backend
// when set, else what detection and --gpu-acceleration choose.
func resolveBackend(ctx context.Context, f *gpuWorkerFlags, mode *gpuFlags, logger *slog.Logger) (gpu.Backend, error) {
	switch b := gpu.Backend(f.backend); b {
	case gpu.CPU, gpu.NVIDIA, gpu.Mesa:
		return b, nil
	case "":
	default:
		return "", empplay.ConfigError(fmt.Errorf("--gpu-backend (EMPPLAY_GPU_BACKEND) %q: want cpu, nvidia or mesa", f.backend))
	}
	c, err := mode.choose(ctx, gpu.NewDetector(gpu.NewSystemNVML()))
	if err != nil {
		return "", err
	}
	if c.Warning != "" {
		logger.WarnContext(ctx, "GPU acceleration", "backend", c.Backend, "warning", c.Warning)
	}
	return c.Backend, nil
}

// startOn launches the browser on backend, after [browserFlags.check].
func (b *browserFlags) startOn(ctx context.Context, backend gpu.Backend, logger *slog.Logger) (*render.Browser, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	br := render.New(b.options(backend), assets.Embedded(), logger)
	if err := br.Start(ctx); err != nil {
		return nil, fmt.Errorf("start Chromium (%s backend): %w", backend, err)
	}
	return br, nil
}

// verifyGPU probes the browser's WebGL renderer. For a GPU backend it
// returns why the browser does not render on the GPU (nil when it does).
func verifyGPU(ctx context.Context, br *render.Browser, backend gpu.Backend, logger *slog.Logger) (render.WebGLInfo, error) {
	info, err := br.ProbeWebGL(ctx)
	switch {
	case err != nil:
		logger.WarnContext(ctx, "WebGL probe failed", "backend", backend, "err", err)
		if backend != gpu.CPU {
			return info, fmt.Errorf("the start-up WebGL probe failed: %w", err)
		}
	case info.Renderer == "":
		logger.WarnContext(ctx, "Chromium has no WebGL", "backend", backend)
		if backend != gpu.CPU {
			return info, fmt.Errorf("Chromium has no WebGL with the %s flags", backend)
		}
	default:
		logger.InfoContext(ctx, "WebGL renderer", "backend", backend, "renderer", info.Renderer,
			"software", info.Software, "webgl2", info.WebGL2, "duration_ms", info.Ms)
		if backend != gpu.CPU && info.Software {
			return info, fmt.Errorf("the %s flags gave the software renderer %q", backend, info.Renderer)
		}
	}
	return info, nil
}

// newGPUWatch returns a watch of br's GPU memory and a function that
// releases NVML once the watch has stopped, or nil and nil when NVML is
// unusable.
func newGPUWatch(br *render.Browser, limit uint64, logger *slog.Logger) (*worker.GPUWatch, func()) {
	nv := gpu.NewSystemNVML()
	if err := nv.Init(); err != nil {
		logger.Warn("GPU memory of the browser cannot be measured", "err", err)
		return nil, nil
	}
	return worker.NewGPUWatch(nv, br, worker.GPUWatchConfig{Limit: limit}, logger), func() { _ = nv.Shutdown() }
}

// gpuReport is what a worker adds to its health reports about its GPU.
type gpuReport struct {
	backend gpu.Backend
	limit   uint64
	watch   *worker.GPUWatch
	lane    func() string
	w       interface{ GPUDegraded() string }

	mu       sync.Mutex
	renderer string
}

func (g *gpuReport) setRenderer(r string) {
	g.mu.Lock()
	g.renderer = r
	g.mu.Unlock()
}

// fill adds the GPU fields to r.
func (g *gpuReport) fill(r *empplay.Report) {
	if r.Done != nil && r.Done.Renderer != "" {
		// The last job's renderer is the browser's latest word.
		g.setRenderer(r.Done.Renderer)
	}
	g.mu.Lock()
	r.Renderer = g.renderer
	g.mu.Unlock()
	r.Backend = string(g.backend)
	r.Lane = g.lane()
	r.GPUDegraded = g.w.GPUDegraded()
	r.GPUMemory = g.watch.Used()
	r.GPUMemoryLimit = int64(g.limit)
}
