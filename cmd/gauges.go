// This file refreshes the supervisor's gauges that no worker report
// carries: the queue's depths, the ready workers and the GPUs' memory.

package cmd

import (
	"context"
	"log/slog"
	"time"

	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/queue"
	"github.com/empplay/empplay/supervisor"
)

// queueStatser reads the queue's depths (queue.Admin has it).
type queueStatser interface {
	Stats(ctx context.Context) (*queue.Stats, error)
}

// slotStatuser is the supervisor as the gauges see it.
type slotStatuser interface {
	Status() []supervisor.SlotStatus
}

// healthChecker says whether Redis answers (redisCheck has it).
type healthChecker interface {
	Healthy(ctx context.Context) bool
}

// queueGauges refreshes the queue and readiness gauges every every.
type queueGauges struct {
	stats queueStatser
	sup   slotStatuser
	redis healthChecker
	m     *metrics
	every time.Duration
}

// Run refreshes at once and then every q.every until ctx ends.
func (q *queueGauges) Run(ctx context.Context) {
	t := time.NewTicker(q.every)
	defer t.Stop()
	for {
		q.refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *queueGauges) refresh(ctx context.Context) {
	ready := 0
	for _, s := range q.sup.Status() {
		if s.Ready {
			ready++
		}
	}
	q.m.ready.Set(float64(ready))
	if !q.redis.Healthy(ctx) {
		q.m.redisUp.Set(0)
		return
	}
	q.m.redisUp.Set(1)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if st, err := q.stats.Stats(sctx); err == nil {
		q.m.queueDepth.WithLabelValues("pending").Set(float64(st.Pending))
		q.m.queueDepth.WithLabelValues("retrying").Set(float64(st.Retrying))
		q.m.queueDepth.WithLabelValues("dead").Set(float64(st.Dead))
		q.m.queueDepth.WithLabelValues("gpu_lane").Set(float64(st.GPULane))
		q.m.gpuWorkers.Set(float64(st.GPUWorkers))
		q.m.oldestAge.Set(float64(st.OldestPendingAgeMs) / 1000)
	}
}

// gpuDevices lists the GPUs and their memory (gpu.SystemNVML has it).
type gpuDevices interface {
	Devices() ([]gpu.Device, error)
}

// gpuGauges refreshes the GPU memory gauges every every.
type gpuGauges struct {
	nv    gpuDevices
	m     *metrics
	every time.Duration
}

// Run refreshes every g.every until ctx ends.
func (g *gpuGauges) Run(ctx context.Context) {
	t := time.NewTicker(g.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if devs, err := g.nv.Devices(); err == nil {
			g.m.observeDevices(devs)
		}
	}
}

// watchGPUs refreshes the GPU memory gauges every 10 seconds, while NVML
// is usable.
func watchGPUs(ctx context.Context, m *metrics, logger *slog.Logger) {
	nv := gpu.NewSystemNVML()
	if err := nv.Init(); err != nil {
		logger.WarnContext(ctx, "GPU memory cannot be watched", "err", err)
		return
	}
	defer func() { _ = nv.Shutdown() }()
	(&gpuGauges{nv: nv, m: m, every: 10 * time.Second}).Run(ctx)
}
