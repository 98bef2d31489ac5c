package cmd

import (
	"fmt"
	"io"
)

// Memory a render host needs besides its browsers, in MiB (see
// systemdLimits).
const (
	// workerOverheadMiB is one worker's own process, its ffmpeg for a
	// video, and what a job's renderer can add in one sample of the
	// memory guard before it is killed.
	workerOverheadMiB = 256
	// supervisorMiB is the supervisor and its HTTP API.
	supervisorMiB = 512
)

// systemdLimits returns the unit's MemoryHigh and MemoryMax in MiB for
// slots workers whose browsers are recycled above recycleMiB and whose
// jobs may use jobMiB each:
//
//	MemoryMax  = slots × (recycleMiB + jobMiB + 256) + 512
//	MemoryHigh = 90% of MemoryMax
//
// A browser can hold up to recycleMiB between jobs (then it is restarted)
// plus one job's renderer up to jobMiB; the kernel throttles the unit above
// MemoryHigh and OOM-kills inside it (a renderer, by size) at MemoryMax,
// so a host shared with ComfyUI never gives up more than that.
func systemdLimits(slots, recycleMiB, jobMiB int) (high, limit int) {
	limit = slots*(recycleMiB+jobMiB+workerOverheadMiB) + supervisorMiB
	return limit * 9 / 10, limit
}

// writeSystemdLimits writes a drop-in for the unit with the limits of
// systemdLimits (for /etc/systemd/system/empplay.service.d/memory.conf).
func writeSystemdLimits(w io.Writer, workers string, slots, recycleMiB, jobMiB int) error {
	high, limit := systemdLimits(slots, recycleMiB, jobMiB)
	_, err := fmt.Fprintf(w, `# empplay's memory limits for WORKERS=%q (%d playwright slots),
# BROWSER_RECYCLE_MEMORY_MB=%d and BROWSER_JOB_MEMORY_MB=%d:
# MemoryMax = slots x (BROWSER_RECYCLE_MEMORY_MB + BROWSER_JOB_MEMORY_MB + %d) + %d MiB,
# MemoryHigh = 90%% of it. Made by "empplay supervise --print-systemd-limits".
[Service]
MemoryHigh=%dM
MemoryMax=%dM
`, workers, slots, recycleMiB, jobMiB, workerOverheadMiB, supervisorMiB, high, limit)
	if err != nil {
		return fmt.Errorf("write the systemd limits: %w", err)
	}
	return nil
}
