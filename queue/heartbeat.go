// This file keeps a worker's registry entry alive on a schedule.

package queue

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// heartbeater is what a [Heartbeat] refreshes ([Redis] has it).
type heartbeater interface {
	Heartbeat(ctx context.Context) error
}

// Heartbeat refreshes a worker's registry entry on a schedule.
type Heartbeat struct {
	q       heartbeater
	every   time.Duration // [5s]
	timeout time.Duration // [4s]
	logger  *slog.Logger
}

// NewHeartbeat returns the heartbeat of q's worker: every and timeout
// (zero: 5s and 4s) must leave the beats well inside the queue's
// HeartbeatTTL.
func NewHeartbeat(q *Redis, every, timeout time.Duration, logger *slog.Logger) *Heartbeat {
	return newHeartbeat(q, every, timeout, logger)
}

func newHeartbeat(q heartbeater, every, timeout time.Duration, logger *slog.Logger) *Heartbeat {
	if every <= 0 {
		every = 5 * time.Second
	}
	if timeout <= 0 {
		timeout = 4 * time.Second
	}
	return &Heartbeat{q: q, every: every, timeout: timeout, logger: logger}
}

// Run beats until ctx ends (nil) or the worker is fenced: declared dead by
// another process, whose jobs were given to others. Then it returns
// [ErrFenced], and the worker must stop at once. Other failures are
// logged and tried again at the next beat.
func (h *Heartbeat) Run(ctx context.Context) error {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		hctx, cancel := context.WithTimeout(ctx, h.timeout)
		err := h.q.Heartbeat(hctx)
		cancel()
		if errors.Is(err, ErrFenced) {
			h.logger.Error("this worker was declared dead by another process; stopping")
			return err
		}
		if err != nil && ctx.Err() == nil {
			h.logger.Warn("heartbeat failed", "err", err)
		}
	}
}
