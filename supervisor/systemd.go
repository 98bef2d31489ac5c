// This file keeps systemd told how the supervised workers are doing.

package supervisor

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// notifier sends sd_notify states (internal/sdnotify's Notifier has it).
type notifier interface {
	Enabled() bool
	// WatchdogInterval is how often WATCHDOG=1 must be sent; 0 when
	// systemd has no watchdog for the service.
	WatchdogInterval() time.Duration
	Notify(state string) error
}

// healthChecker says whether a dependency (Redis) answers.
type healthChecker interface {
	Healthy(ctx context.Context) bool
}

// statuser is the supervisor as the systemd notifier sees it.
type statuser interface {
	Status() []SlotStatus
}

// Systemd tells systemd when the workers are ready (READY=1), keeps STATUS
// current, and pets the watchdog only while the host is healthy (Redis
// reachable and at least one worker ready), so that a wedged host is
// restarted.
type Systemd struct {
	n      notifier
	sup    statuser
	redis  healthChecker
	slots  int
	every  time.Duration
	logger *slog.Logger
}

// NewSystemd returns the systemd notifier of sup's slots (slots of them),
// checking redis. It checks every second, or more often when systemd's
// watchdog needs it.
func NewSystemd(n notifier, sup statuser, redis healthChecker, slots int, logger *slog.Logger) *Systemd {
	every := time.Second
	if wd := n.WatchdogInterval(); wd > 0 && wd < every {
		every = wd
	}
	return &Systemd{n: n, sup: sup, redis: redis, slots: slots, every: every, logger: logger}
}

// Run notifies until ctx ends; it returns at once when the process does
// not run under systemd (no NOTIFY_SOCKET).
func (s *Systemd) Run(ctx context.Context) {
	if !s.n.Enabled() {
		return
	}
	t := time.NewTicker(s.every)
	defer t.Stop()
	readySent := false
	lastStatus := ""
	for {
		ready, degraded := 0, 0
		for _, st := range s.sup.Status() {
			if st.Ready {
				ready++
			}
			if st.LastReport.GPUDegraded != "" {
				degraded++
			}
		}
		healthy := ready > 0 && s.redis.Healthy(ctx)
		if healthy && !readySent {
			readySent = s.n.Notify("READY=1") == nil
		}
		status := fmt.Sprintf("STATUS=%d/%d workers ready, redis %s", ready, s.slots, map[bool]string{true: "up", false: "DOWN"}[s.redis.Healthy(ctx)])
		if degraded > 0 {
			status += fmt.Sprintf(", %d GPU slot(s) rendering in software", degraded)
		}
		if status != lastStatus {
			if err := s.n.Notify(status); err != nil {
				s.logger.Warn("sd_notify failed", "err", err)
			}
			lastStatus = status
		}
		if healthy && s.n.WatchdogInterval() > 0 {
			_ = s.n.Notify("WATCHDOG=1")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
