package supervisor

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/chromiumtmp"
	"github.com/empplay/empplay/internal/proc"
)

const (
	// maxLine is the longest log or report line read as one; longer lines
	// are split.
	maxLine = 1 << 20
	// readerDrain bounds the wait for a dead child's pipes to reach EOF; a
	// process outside the child's group and profile may still hold them.
	readerDrain = 2 * time.Second
)

// child is one running incarnation.
type child struct {
	slot    Slot
	proc    *os.Process
	pid     int
	started time.Time
	wait    <-chan error  // Wait's result
	done    chan struct{} // closed when the process has been waited for
	waitErr error         // set before done is closed

	reports, logs *os.File // read ends of the pipes
	readers       sync.WaitGroup

	idle     chan struct{} // closed at the first "idle" report
	idleOnce sync.Once

	// Guarded by Supervisor.mu.
	report   empplay.Report
	reportAt time.Time
}

// outcome is how watch saw a child end.
type outcome struct {
	reason  string
	planned bool         // stopped by the supervisor: not a failure
	roll    *rollRequest // stopped for a rolling restart
}

// start starts the next incarnation of sl. On failure it returns a nil
// child and the Exit to report.
func (s *Supervisor) start(ctx context.Context, sl *slot) (*child, Exit) {
	s.mu.Lock()
	sl.incarnation++
	inc := sl.incarnation
	s.mu.Unlock()

	sd := Slot{
		Index:       sl.index,
		Incarnation: inc,
		WorkerID:    fmt.Sprintf("%s:slot%d:%d:%d:%s", s.cfg.IDPrefix, sl.index, inc, os.Getpid(), strings.ToLower(rand.Text()[:6])),
		GPU:         s.slotGPU(sl.index),
	}
	fail := func(err error) (*child, Exit) {
		s.log.ErrorContext(ctx, "start worker", "slot", sl.index, "worker_id", sd.WorkerID, "err", err)
		s.mu.Lock()
		sl.last = sd
		s.mu.Unlock()
		return nil, Exit{Slot: sd, ExitCode: -1, Reason: "start failed: " + err.Error()}
	}
	dir, err := os.MkdirTemp(s.cfg.ProfileRoot, fmt.Sprintf("empplay-slot%d-*", sl.index))
	if err != nil {
		return fail(fmt.Errorf("create profile dir: %w", err))
	}
	sd.ProfileDir = dir
	c, err := s.spawn(sd)
	if err != nil {
		if rerr := os.RemoveAll(dir); rerr != nil {
			s.log.WarnContext(ctx, "remove profile dir", "dir", dir, "err", rerr)
		}
		return fail(err)
	}

	s.mu.Lock()
	sl.last = sd
	sl.cur = c
	s.mu.Unlock()
	s.log.InfoContext(ctx, "worker started", "slot", sl.index, "pid", c.pid, "worker_id", sd.WorkerID,
		"incarnation", inc, "profile_dir", dir)

	c.readers.Add(2)
	go func() {
		defer c.readers.Done()
		s.readReports(sl, c)
	}()
	go func() {
		defer c.readers.Done()
		s.readLogs(sl.index, c.pid, c.logs)
	}()
	go func() {
		c.waitErr = <-c.wait
		close(c.done)
	}()
	return c, Exit{}
}

// spawn builds and starts the child process of sd with its pipes.
func (s *Supervisor) spawn(sd Slot) (*child, error) {
	cmd := s.cfg.Command(sd)
	if cmd == nil {
		return nil, errors.New("the Command func returned nil")
	}
	if cmd.Process != nil {
		return nil, errors.New("the Command func returned a started command")
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create report pipe: %w", err)
	}
	logR, logW, err := os.Pipe()
	if err != nil {
		reportR.Close()
		reportW.Close()
		return nil, fmt.Errorf("create log pipe: %w", err)
	}
	if cmd.Cancel != nil {
		// Built with exec.CommandContext: the supervisor alone decides
		// when its children get which signal.
		cmd.Cancel, cmd.WaitDelay = func() error { return nil }, 0
	}
	// The report pipe must be fd 3, as ReportFDEnv says.
	cmd.ExtraFiles = []*os.File{reportW}
	cmd.Stdout, cmd.Stderr = logW, logW
	cmd.Env = append(cmd.Environ(), ReportFDEnv+"=3")
	proc.OwnGroup(cmd)

	wait, err := proc.Start(cmd)
	// The child holds its own copies of the write ends; ours must go, or
	// the readers would never see EOF.
	reportW.Close()
	logW.Close()
	if err != nil {
		reportR.Close()
		logR.Close()
		return nil, err // names the operation and the path: fork/exec /x: ...
	}
	return &child{
		slot:    sd,
		proc:    cmd.Process,
		pid:     cmd.Process.Pid,
		started: time.Now(),
		wait:    wait,
		done:    make(chan struct{}),
		reports: reportR,
		logs:    logR,
		idle:    make(chan struct{}),
	}, nil
}

// watch supervises c until it has exited and been waited for, stopping or
// killing it when asked or when its health requires.
func (s *Supervisor) watch(ctx context.Context, sl *slot, c *child) outcome {
	const (
		running = iota
		terminating
		killed
	)
	phase := running
	out := outcome{reason: "exited"}
	tick := time.NewTicker(s.checkInterval())
	defer tick.Stop()
	var grace <-chan time.Time
	stopGrace := func() bool { return false }
	defer func() { stopGrace() }()
	done, rolls, force := ctx.Done(), sl.roll, s.force

	kill := func(reason string) {
		_ = proc.KillGroup(c.pid) // gone already is not an error
		phase, rolls = killed, nil
		out.reason = reason
	}
	terminate := func(reason string) {
		// The child alone: its Chromium must not die mid-render while the
		// worker drains; the group gets SIGKILL after StopGrace.
		if err := c.proc.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.log.WarnContext(ctx, "send SIGTERM to worker", "slot", sl.index, "pid", c.pid, "err", err)
		}
		phase, rolls = terminating, nil
		out.reason, out.planned = reason, true
		timer := time.NewTimer(s.cfg.StopGrace)
		grace, stopGrace = timer.C, timer.Stop
	}

	for {
		select {
		case <-c.done:
			return out
		case <-done:
			done = nil
			if phase == running {
				terminate("stopped")
			}
		case req := <-rolls:
			terminate("stopped: rolling restart")
			out.roll = &req
		case <-force:
			force = nil
			if phase != killed {
				kill("killed: forced stop")
				out.planned = true
			}
		case <-grace:
			grace = nil
			if phase == terminating {
				s.log.WarnContext(ctx, "worker still running after SIGTERM; killing its process group",
					"slot", sl.index, "pid", c.pid, "stop_grace", s.cfg.StopGrace)
				kill(fmt.Sprintf("killed: still running %s after SIGTERM", s.cfg.StopGrace))
			}
		case now := <-tick.C:
			if phase != running {
				continue
			}
			if reason := s.checkHealth(sl, c, now); reason != "" {
				s.log.WarnContext(ctx, "worker unhealthy; killing its process group",
					"slot", sl.index, "pid", c.pid, "reason", reason)
				kill(reason)
			}
		}
	}
}

// checkInterval is how often watch checks a child's health.
func (s *Supervisor) checkInterval() time.Duration {
	d := min(s.cfg.ReportTimeout, s.cfg.StartTimeout, s.cfg.WedgedAfter, s.cfg.OverrunMargin) / 4
	return min(max(d, 10*time.Millisecond), time.Second)
}

// checkHealth returns why c must be killed, or "". It also clears the
// slot's failure count once c has run for StableAfter.
func (s *Supervisor) checkHealth(sl *slot, c *child, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Sub(c.started) >= s.cfg.StableAfter && (sl.failures > 0 || sl.degraded) {
		if sl.degraded {
			s.log.Info("worker slot recovered", "slot", sl.index, "pid", c.pid)
		}
		sl.failures, sl.degraded = 0, false
	}
	if c.reportAt.IsZero() {
		if now.Sub(c.started) > s.cfg.StartTimeout {
			return fmt.Sprintf("killed: no report for %s", s.cfg.StartTimeout)
		}
		return ""
	}
	if now.Sub(c.reportAt) > s.cfg.ReportTimeout {
		return fmt.Sprintf("killed: no report for %s", s.cfg.ReportTimeout)
	}
	switch r := c.report; r.State {
	case empplay.StateIdle:
		last := c.started
		if r.LastFetch > 0 {
			last = time.UnixMilli(r.LastFetch)
		}
		if now.Sub(last) > s.cfg.WedgedAfter {
			return "killed: wedged consumer"
		}
	case empplay.StateBusy:
		if r.JobDeadline > 0 && now.After(time.UnixMilli(r.JobDeadline).Add(s.cfg.OverrunMargin)) {
			return "killed: job overran its deadline"
		}
	}
	return ""
}

// leftoverKillTimeout bounds how long reap waits for the processes still
// naming a worker's profile dir to vanish once killed.
const leftoverKillTimeout = 2 * time.Second

// reap finishes an incarnation whose child has exited: it kills what is
// left of its process tree, drains its pipes and removes its profile dir.
func (s *Supervisor) reap(ctx context.Context, c *child, out outcome) Exit {
	_ = proc.KillGroup(c.pid) // gone already is not an error
	// Chromium may leave its parent's process group, and chromedp does not
	// clean up a profile it did not create.
	if pids := proc.KillNaming(c.slot.ProfileDir, leftoverKillTimeout); len(pids) > 0 {
		s.log.WarnContext(ctx, "killed leftover processes holding the worker's profile dir",
			"slot", c.slot.Index, "pid", c.pid, "pids", pids, "dir", c.slot.ProfileDir)
	}

	drained := make(chan struct{})
	go func() {
		c.readers.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(readerDrain):
		s.log.WarnContext(ctx, "worker output still open after it exited; closing it",
			"slot", c.slot.Index, "pid", c.pid)
	}
	// Closing unblocks readers still waiting on a pipe held open elsewhere.
	c.reports.Close()
	c.logs.Close()
	<-drained

	// The worker's browsers may have died with it, leaving their
	// singleton sockets' directories in $TMPDIR.
	chromiumtmp.RemoveSingletonDirs(c.slot.ProfileDir)
	if err := os.RemoveAll(c.slot.ProfileDir); err != nil {
		s.log.WarnContext(ctx, "remove profile dir", "slot", c.slot.Index, "dir", c.slot.ProfileDir, "err", err)
	}

	ex := Exit{Slot: c.slot, PID: c.pid, ExitCode: -1, Reason: out.reason, Uptime: time.Since(c.started)}
	var ee *exec.ExitError
	switch {
	case c.waitErr == nil:
		ex.ExitCode = 0
	case errors.As(c.waitErr, &ee):
		ex.ExitCode = ee.ExitCode()
		ex.Signal = signalName(ee.ProcessState)
	default:
		s.log.WarnContext(ctx, "wait for worker", "slot", c.slot.Index, "pid", c.pid, "err", c.waitErr)
	}
	return ex
}

// newLineScanner returns a scanner of lines that splits lines longer than
// maxLine instead of failing, so that one huge line cannot stop the reader
// and block the child on a full pipe.
func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	sc.Split(func(data []byte, atEOF bool) (int, []byte, error) {
		advance, token, err := bufio.ScanLines(data, atEOF)
		if advance == 0 && token == nil && err == nil && len(data) >= maxLine {
			return maxLine, data[:maxLine], nil
		}
		return advance, token, err
	})
	return sc
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}
