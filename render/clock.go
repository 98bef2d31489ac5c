// This file is the settings of the pages' virtual clock (see the package
// doc, "Time").

package render

import "github.com/empplay/empplay"

const (
	// clockEpoch is what Date says at virtual time 0, on every page on a
	// virtual clock: fixed, so that a sketch that draws the date draws the
	// same picture every run.
	clockEpoch = 1735689600000 // 2025-01-01T00:00:00Z, in ms
	// clockFreeReads is how many times the code may read the clock
	// (performance.now, Date) in one callback before each further read
	// moves virtual time on by clockReadStep ms: code that busy-waits on
	// the clock then ends, in the same number of reads every run.
	clockFreeReads = 100000
	clockReadStep  = 0.01
)

// clockConfig is the clock's part of a page's settings.
type clockConfig struct {
	// Clock is empplay.ClockVirtual or empplay.ClockReal.
	Clock      string  `json:"clock"`
	EpochMs    int64   `json:"epochMs"`
	FreeReads  int     `json:"freeReads"`
	ReadStepMs float64 `json:"readStepMs"`
}

// newClock is the clock settings of job: virtual unless it asks for real
// time.
func newClock(job *empplay.Job) clockConfig {
	c := clockConfig{Clock: empplay.ClockVirtual, EpochMs: clockEpoch, FreeReads: clockFreeReads, ReadStepMs: clockReadStep}
	if job != nil && job.Clock == empplay.ClockReal {
		c.Clock = empplay.ClockReal
	}
	return c
}
