// This file watches the GPU memory of a GPU worker's browser.

package worker

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/proc"
)

// GPUWatchConfig tunes a [GPUWatch]. Zero values take the defaults in
// brackets.
type GPUWatchConfig struct {
	// Limit is the GPU memory in bytes the browser may hold before it is
	// recycled between jobs [0: measure only].
	Limit uint64
	// Every is how often the memory is measured [5s].
	Every time.Duration
}

// gpuProcesses lists the processes holding GPU memory (NVML's view;
// gpu.SystemNVML has it).
type gpuProcesses interface {
	Processes() ([]gpu.ProcessMemory, error)
}

// recycler is the browser a GPUWatch measures (render.Browser has it).
type recycler interface {
	// PID is the browser's process, whose process group holds its GPU
	// process; 0 when none runs.
	PID() int
	// Recycle replaces the browser between jobs.
	Recycle(ctx context.Context, reason string) error
}

// GPUWatch measures the GPU memory of a GPU worker's browser (per process,
// summed over the browser's process group) and recycles the browser
// between jobs when it holds more than its share.
type GPUWatch struct {
	cfg    GPUWatchConfig
	nv     gpuProcesses
	br     recycler
	pgrpOf func(pid int) (int, bool)
	logger *slog.Logger
	used   atomic.Int64
}

// NewGPUWatch returns a watch of br's GPU memory as nv reports it.
func NewGPUWatch(nv gpuProcesses, br recycler, cfg GPUWatchConfig, logger *slog.Logger) *GPUWatch {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	return &GPUWatch{cfg: cfg, nv: nv, br: br, pgrpOf: proc.Group, logger: logger}
}

// Run measures every Every until ctx ends.
func (g *GPUWatch) Run(ctx context.Context) {
	t := time.NewTicker(g.cfg.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		g.check(ctx, g.br.PID())
	}
}

// check measures the browser whose process group is pgid once, and
// recycles it if it is over its limit.
func (g *GPUWatch) check(ctx context.Context, pgid int) {
	procs, err := g.nv.Processes()
	if err != nil {
		g.logger.DebugContext(ctx, "read GPU processes", "err", err)
		return
	}
	used, _ := gpu.GroupMemory(procs, pgid, g.pgrpOf)
	g.used.Store(int64(used))
	if g.cfg.Limit == 0 || used <= g.cfg.Limit {
		return
	}
	g.logger.WarnContext(ctx, "the browser holds more GPU memory than its share; recycling it after the job in hand",
		"gpu_memory", used, "limit", g.cfg.Limit)
	if err := g.br.Recycle(ctx, "gpu memory"); err != nil && ctx.Err() == nil {
		g.logger.ErrorContext(ctx, "recycle the browser", "err", err)
	}
	g.used.Store(0)
}

// Used returns the latest measurement in bytes; 0 for a nil watch (none
// runs).
func (g *GPUWatch) Used() int64 {
	if g == nil {
		return 0
	}
	return g.used.Load()
}
