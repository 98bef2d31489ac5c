// This file is the supervisor's check of the host at start: what a page
// fault costs it.

package cmd

import (
	"log/slog"
	"time"

	"github.com/empplay/empplay/internal/hostcheck"
)

// hostProbeBytes is the memory the page-fault probe touches in each of its
// three rounds: 4096 faults, a few milliseconds on a good host and about
// 50 on the slowest measured (about 150 for the three).
const hostProbeBytes = 16 << 20

// checkHost measures what a page fault costs the host, exports it and
// logs it: as a warning when the host is a poor render host (see
// hostcheck.SlowPageFault), since every job's renderer then costs several
// times the CPU it costs elsewhere, which nothing else would explain.
func checkHost(logger *slog.Logger, m *metrics) {
	d, err := hostcheck.PageFault(hostProbeBytes, 3)
	if err != nil {
		logger.Debug("host check", "err", err)
		return
	}
	m.hostPageFault.WithLabelValues().Set(d.Seconds())
	us := float64(d.Nanoseconds()) / 1e3
	if d > hostcheck.SlowPageFault {
		logger.Warn("page faults are slow on this host: every job starts a new renderer process, so renders will cost several times the CPU they cost on bare metal or a VM with hardware nested paging",
			"page_fault_us", us, "slow_above_us", int64(hostcheck.SlowPageFault/time.Microsecond))
		return
	}
	logger.Info("host check", "page_fault_us", us)
}
