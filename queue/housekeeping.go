// This file runs a worker's (or supervisor's) share of the queue's
// housekeeping on a schedule: promotions, the GPU lane, first-seen marks
// and sweeps for dead workers.

package queue

import (
	"context"
	"log/slog"
	"time"
)

// HousekeepingConfig tunes a [Housekeeper]. Zero values take the defaults
// in brackets.
type HousekeepingConfig struct {
	// PromoteEvery is how often due retries are promoted, the GPU lane is
	// drained when no GPU worker is alive, and the oldest pending job is
	// marked seen [1s].
	PromoteEvery time.Duration
	// SweepEvery is how often a sweep for dead workers is attempted; the
	// sweep is elected, so a fleet sweeps once [5s].
	SweepEvery time.Duration
	// SweepLock is the lifetime of the sweep election's lock [4s].
	SweepLock time.Duration
	// SeenTTL is how long a first-seen mark lives [7 days].
	SeenTTL time.Duration
}

func (c *HousekeepingConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PromoteEvery, time.Second)
	def(&c.SweepEvery, 5*time.Second)
	def(&c.SweepLock, 4*time.Second)
	def(&c.SeenTTL, 7*24*time.Hour)
}

// maintenance is what a [Housekeeper] runs ([Maintainer] has it).
type maintenance interface {
	Promote(ctx context.Context) (int, error)
	DrainGPU(ctx context.Context) (int, error)
	MarkSeen(ctx context.Context, jobTTL time.Duration) error
	Sweep(ctx context.Context, lockTTL time.Duration) (SweepResult, error)
}

// Housekeeper runs a [Maintainer]'s duties on a schedule.
type Housekeeper struct {
	m      maintenance
	cfg    HousekeepingConfig
	logger *slog.Logger
}

// NewHousekeeper returns a Housekeeper that runs m's duties as cfg says.
func NewHousekeeper(m *Maintainer, cfg HousekeepingConfig, logger *slog.Logger) *Housekeeper {
	return newHousekeeper(m, cfg, logger)
}

func newHousekeeper(m maintenance, cfg HousekeepingConfig, logger *slog.Logger) *Housekeeper {
	cfg.defaults()
	return &Housekeeper{m: m, cfg: cfg, logger: logger}
}

// Run does the housekeeping until ctx ends. Failures are logged and tried
// again at the next tick.
func (h *Housekeeper) Run(ctx context.Context) {
	promote := time.NewTicker(h.cfg.PromoteEvery)
	defer promote.Stop()
	sweep := time.NewTicker(h.cfg.SweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-promote.C:
			h.promote(ctx)
		case <-sweep.C:
			h.sweep(ctx)
		}
	}
}

// dutyTimeout bounds one round of a duty: its calls answer in
// milliseconds, and a round that waits on a dead connection must not hold
// up the next.
const dutyTimeout = 10 * time.Second

func (h *Housekeeper) promote(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, dutyTimeout)
	defer cancel()
	if _, err := h.m.Promote(dctx); err != nil && ctx.Err() == nil {
		h.logger.Warn("promote retries failed", "err", err)
	}
	// No job waits in the GPU lane once no GPU worker is alive.
	if n, err := h.m.DrainGPU(dctx); err != nil && ctx.Err() == nil {
		h.logger.Warn("drain the GPU lane failed", "err", err)
	} else if n > 0 {
		h.logger.Warn("no GPU worker is alive; gave the GPU lane's jobs back to the queue", "jobs", n)
	}
	if err := h.m.MarkSeen(dctx, h.cfg.SeenTTL); err != nil && ctx.Err() == nil {
		h.logger.Warn("mark oldest job failed", "err", err)
	}
}

func (h *Housekeeper) sweep(ctx context.Context) {
	dctx, cancel := context.WithTimeout(ctx, dutyTimeout)
	defer cancel()
	r, err := h.m.Sweep(dctx, h.cfg.SweepLock)
	if err != nil && ctx.Err() == nil {
		h.logger.Warn("sweep failed", "err", err)
	}
	if r.Recovered > 0 {
		h.logger.Warn("recovered jobs of dead workers", "workers", r.Workers, "jobs", r.Recovered)
	}
}
