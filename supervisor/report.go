// This file is the worker-to-supervisor report protocol: the descriptor a
// child writes to, its writer (used by the worker child) and its reader.

package supervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
)

// ReportFDEnv is the environment variable that tells a child which file
// descriptor to write its [empplay.Report] lines to. Its value is always
// "3".
const ReportFDEnv = "EMPPLAY_REPORT_FD"

// ReportFD opens the descriptor named by v, the value of [ReportFDEnv] in
// a worker child's environment; nil when v is empty (a worker started on
// its own, not by a supervisor).
func ReportFD(v string) (*os.File, error) {
	if v == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, empplay.ConfigError(fmt.Errorf("%s=%q: want a file descriptor number >= 3", ReportFDEnv, v))
	}
	return os.NewFile(uintptr(fd), "report"), nil
}

// JobStatus is what a report says of the worker's job loop.
type JobStatus struct {
	Job       string    // the job in hand, "" when idle
	Deadline  time.Time // when the job in hand must be done; zero when idle
	LastFetch time.Time // when a fetch from the queue last returned
}

// Reporter writes a worker child's health reports, one [empplay.Report]
// JSON line each, to Out: one at once, one every Every, one for every
// finished job and browser restart, and a last [empplay.StateStopping]
// one when Run's context ends. The zero values of Every and MemoryEvery
// take the defaults in brackets.
type Reporter struct {
	Out    io.Writer
	Worker string // the worker id the child fetches under
	// Status returns the job loop's state.
	Status func() JobStatus
	// BrowserPID returns the Chromium process (its process group), 0 when
	// none runs.
	BrowserPID func() int
	// Events delivers finished jobs; Restarts why the browser restarted.
	Events   <-chan empplay.JobEvent
	Restarts <-chan string
	// Fill, when set, adds to each report (the GPU fields).
	Fill func(*empplay.Report)
	// Every is the longest time between two reports [1s].
	Every time.Duration
	// MemoryEvery is how often the memory figure is measured [10s]: it
	// sums the PSS of the worker and every Chromium process, which costs
	// tens of milliseconds of CPU, so not with every report. A new browser
	// is measured at once.
	MemoryEvery time.Duration
	// Memory measures the worker and its browser [proc.PSS of this
	// process plus proc.GroupMemory of the browser's group].
	Memory func(browserPID int) int64
}

func (r *Reporter) defaults() {
	if r.Every <= 0 {
		r.Every = time.Second
	}
	if r.MemoryEvery <= 0 {
		r.MemoryEvery = 10 * time.Second
	}
	if r.Memory == nil {
		r.Memory = func(pid int) int64 { return proc.PSS(os.Getpid()) + proc.GroupMemory(pid) }
	}
}

// Run writes reports until ctx ends, then a last "stopping" one. A write
// that fails is dropped: a supervisor that went away must not stop the
// worker.
func (r *Reporter) Run(ctx context.Context) {
	r.defaults()
	enc := json.NewEncoder(r.Out)
	var mem int64
	var memAt time.Time
	memPID := -1
	send := func(rep empplay.Report) {
		st := r.Status()
		rep.Worker = r.Worker
		if rep.State == "" {
			rep.State = empplay.StateIdle
			if st.Job != "" {
				rep.State = empplay.StateBusy
			}
		}
		rep.Job = st.Job
		if !st.Deadline.IsZero() {
			rep.JobDeadline = st.Deadline.UnixMilli()
		}
		rep.LastFetch = st.LastFetch.UnixMilli()
		rep.BrowserPID = r.BrowserPID()
		if now := time.Now(); now.Sub(memAt) >= r.MemoryEvery || memPID != rep.BrowserPID {
			mem, memAt, memPID = r.Memory(rep.BrowserPID), now, rep.BrowserPID
		}
		rep.RSS = mem
		if r.Fill != nil {
			r.Fill(&rep)
		}
		_ = enc.Encode(rep)
	}
	t := time.NewTicker(r.Every)
	defer t.Stop()
	send(empplay.Report{})
	for {
		select {
		case <-ctx.Done():
			send(empplay.Report{State: empplay.StateStopping})
			return
		case ev := <-r.Events:
			send(empplay.Report{Done: &ev})
		case why := <-r.Restarts:
			send(empplay.Report{BrowserRestart: why})
		case <-t.C:
			send(empplay.Report{})
		}
	}
}

// parseReport parses one report line; ok is false for a blank line. A
// line that is not a report (no JSON object, or no state) is an error.
func parseReport(line []byte) (r empplay.Report, ok bool, err error) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return r, false, nil
	}
	if err := json.Unmarshal(line, &r); err != nil {
		return r, true, fmt.Errorf("parse report: %w", err)
	}
	if r.State == "" {
		return r, true, errors.New("parse report: no state")
	}
	return r, true, nil
}

// readReports parses c's report lines until its pipe closes.
func (s *Supervisor) readReports(sl *slot, c *child) {
	sc := newLineScanner(c.reports)
	for sc.Scan() {
		r, ok, err := parseReport(sc.Bytes())
		if !ok {
			continue
		}
		if err != nil {
			s.log.Debug("ignoring a malformed report line", "slot", sl.index, "pid", c.pid,
				"line", truncate(bytes.TrimSpace(sc.Bytes()), 200), "err", err)
			continue
		}
		s.mu.Lock()
		c.report, c.reportAt = r, time.Now()
		s.mu.Unlock()
		if r.State == empplay.StateIdle {
			c.idleOnce.Do(func() { close(c.idle) })
		}
		if s.cfg.OnReport != nil {
			s.cfg.OnReport(sl.index, r)
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		s.log.Debug("read worker reports", "slot", sl.index, "pid", c.pid, "err", err)
	}
}
