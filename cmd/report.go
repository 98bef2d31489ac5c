package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/procstat"
	"github.com/empplay/empplay/render"
	"github.com/empplay/empplay/worker"
)

// reportFD reads EMPPLAY_REPORT_FD, the descriptor a supervisor passes for
// health reports; nil when the worker runs on its own.
func reportFD(getenv func(string) string) (*os.File, error) {
	v := getenv("EMPPLAY_REPORT_FD")
	if v == "" {
		return nil, nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil, empplay.ConfigError(fmt.Errorf("EMPPLAY_REPORT_FD=%q: want a file descriptor number >= 3", v))
	}
	return os.NewFile(uintptr(fd), "report"), nil
}

// memoryEvery is how often a worker's report measures its memory.
const memoryEvery = 10 * time.Second

// browserInfo is what the reporter needs of the browser.
type browserInfo interface {
	PID() int
	Restarts() <-chan string
	Sandbox() (render.SandboxState, error)
}

// report writes one [empplay.Report] line to out every second, and one for
// every finished job, until ctx ends; then a last "stopping" line. fill,
// when set, adds to each report (the GPU fields).
func report(ctx context.Context, out *os.File, wid string, w *worker.Worker, br browserInfo, fill func(*empplay.Report)) {
	enc := json.NewEncoder(out)
	// The memory figure (a metric) sums the PSS of the worker and every
	// Chromium process, which costs tens of milliseconds of CPU: it is
	// measured every memoryEvery, not with every report.
	var mem int64
	var memAt time.Time
	var memPID int
	send := func(r empplay.Report) {
		st := w.Status()
		r.Worker = wid
		if r.State == "" {
			r.State = "idle"
			if st.CurrentJob != "" {
				r.State = "busy"
			}
		}
		r.Job = st.CurrentJob
		if !st.JobDeadline.IsZero() {
			r.JobDeadline = st.JobDeadline.UnixMilli()
		}
		r.LastFetch = st.LastFetch.UnixMilli()
		r.BrowserPID = br.PID()
		if sb, err := br.Sandbox(); err == nil {
			r.Sandbox = sb.String()
		}
		if now := time.Now(); now.Sub(memAt) >= memoryEvery || memPID != r.BrowserPID {
			mem, memAt, memPID = procstat.PSS(os.Getpid())+procstat.GroupMemory(r.BrowserPID), now, r.BrowserPID
		}
		r.RSS = mem
		if fill != nil {
			fill(&r)
		}
		_ = enc.Encode(r) // a supervisor that went away must not stop the worker
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	send(empplay.Report{})
	for {
		select {
		case <-ctx.Done():
			send(empplay.Report{State: "stopping"})
			return
		case ev := <-w.Events():
			send(empplay.Report{Done: &ev})
		case why := <-br.Restarts():
			send(empplay.Report{BrowserRestart: why})
		case <-t.C:
			send(empplay.Report{})
		}
	}
}
