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

// slotMemory is what one playwright slot's settings allow it, in MiB: its
// browser between jobs (BROWSER_RECYCLE_MEMORY_MB), one job's renderer
// (BROWSER_JOB_MEMORY_MB) and one video's output, which the worker holds
// to upload it (VIDEO_MAX_MB).
type slotMemory struct {
	recycleMiB, jobMiB, videoMiB int
}

// systemdLimits returns the unit's MemoryHigh and MemoryMax in MiB for
// slots workers with the settings m:
//
//	MemoryMax  = slots × (recycleMiB + jobMiB + videoMiB + 256) + 512
//	MemoryHigh = 90% of MemoryMax
//
// A browser can hold up to recycleMiB between jobs (then it is restarted)
// plus one job's renderer up to jobMiB, and its worker a video up to
// videoMiB; the kernel throttles the unit above MemoryHigh and OOM-kills
// inside it (a renderer, by size) at MemoryMax, so a host shared with
// ComfyUI never gives up more than that.
func systemdLimits(slots int, m slotMemory) (high, limit int) {
	limit = slots*(m.recycleMiB+m.jobMiB+m.videoMiB+workerOverheadMiB) + supervisorMiB
	return limit * 9 / 10, limit
}

// writeSystemdLimits writes a drop-in for the unit with the limits of
// systemdLimits (for /etc/systemd/system/empplay.service.d/memory.conf).
func writeSystemdLimits(w io.Writer, workers string, slots int, m slotMemory) error {
	high, limit := systemdLimits(slots, m)
	_, err := fmt.Fprintf(w, `# empplay's memory limits for WORKERS=%q (%d playwright slots),
# BROWSER_RECYCLE_MEMORY_MB=%d, BROWSER_JOB_MEMORY_MB=%d and VIDEO_MAX_MB=%d:
# MemoryMax = slots x (BROWSER_RECYCLE_MEMORY_MB + BROWSER_JOB_MEMORY_MB + VIDEO_MAX_MB + %d) + %d MiB,
# MemoryHigh = 90%% of it. Made by "empplay supervise --print-systemd-limits".
[Service]
MemoryHigh=%dM
MemoryMax=%dM
`, workers, slots, m.recycleMiB, m.jobMiB, m.videoMiB, workerOverheadMiB, supervisorMiB, high, limit)
	if err != nil {
		return fmt.Errorf("write the systemd limits: %w", err)
	}
	return nil
}
