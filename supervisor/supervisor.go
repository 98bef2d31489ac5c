package supervisor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/empplay/empplay"
)

// Config tunes a [Supervisor]. Zero durations and counts take the defaults
// in brackets.
type Config struct {
	// Slots is how many workers run at once; at least 1.
	Slots int
	// GPUSlots is how many of them render on the GPU: slots 0 to
	// GPUSlots-1 ([Slot.GPU]); see gpu.PlanSlots.
	GPUSlots int
	// IDPrefix starts every worker id [the host name].
	IDPrefix string
	// ProfileRoot is where each incarnation's profile directory is created;
	// it is created if missing [os.TempDir()].
	ProfileRoot string
	// Command builds the child of an incarnation. The supervisor then sets
	// its SysProcAttr (process group, Pdeathsig; other fields are kept),
	// Stdout, Stderr and ExtraFiles, and appends EMPPLAY_REPORT_FD=3 to its
	// Env (to os.Environ() when Env is nil). Command must not start it;
	// use exec.Command, since the supervisor alone signals its children
	// (the Cancel and WaitDelay of exec.CommandContext are cleared).
	Command func(s Slot) *exec.Cmd

	// StopGrace is how long a child has to exit after SIGTERM before its
	// process group is SIGKILLed [40s]. Keep it above the worker's drain
	// time and below systemd's TimeoutStopSec.
	StopGrace time.Duration
	// RestartBase is the delay ceiling of the second restart in a row; the
	// first is immediate and the ceiling doubles after [250ms].
	RestartBase time.Duration
	// RestartMax caps the restart delay [30s].
	RestartMax time.Duration
	// StableAfter is how long a child must run for its slot's failure
	// count, backoff and degraded mark to be reset [60s].
	StableAfter time.Duration
	// DegradedAfter is how many failures in a row mark a slot degraded [5].
	DegradedAfter int
	// ReportTimeout: a child that sent no report for this long is killed,
	// and a slot is ready only with a report this recent [15s].
	ReportTimeout time.Duration
	// StartTimeout replaces ReportTimeout before a child's first report; it
	// is also how long [Supervisor.RollingRestart] waits for a new child to
	// report idle [60s].
	StartTimeout time.Duration
	// WedgedAfter: a child reporting "idle" whose LastFetch (or, without
	// one, its start) is older than this is killed [30s].
	WedgedAfter time.Duration
	// OverrunMargin: a child reporting "busy" this long past its
	// JobDeadline is killed [15s].
	OverrunMargin time.Duration
	// ExitHookTimeout bounds the context given to OnExit [10s].
	ExitHookTimeout time.Duration

	// OnExit, when set, is called once for every incarnation that ends,
	// including those stopped at shutdown and those that failed to start:
	// after the child and its process tree are dead and its profile
	// directory is removed, before the slot is restarted. Its context is not
	// cancelled with Run's, so it can requeue the dead worker's jobs during
	// shutdown; it ends after ExitHookTimeout. Calls for different slots may
	// run concurrently.
	OnExit func(ctx context.Context, e Exit)
	// OnReport, when set, is called with every report a child sends, from
	// the goroutine reading that child's reports; it must not block, or
	// the child would block writing its reports.
	OnReport func(slot int, r empplay.Report)
	// Logger receives the supervisor's logs and its children's relayed
	// lines [a logger that discards everything].
	Logger *slog.Logger
}

// Defaults of [Config].
const (
	DefaultStopGrace       = 40 * time.Second
	DefaultRestartBase     = 250 * time.Millisecond
	DefaultRestartMax      = 30 * time.Second
	DefaultStableAfter     = 60 * time.Second
	DefaultDegradedAfter   = 5
	DefaultReportTimeout   = 15 * time.Second
	DefaultStartTimeout    = 60 * time.Second
	DefaultWedgedAfter     = 30 * time.Second
	DefaultOverrunMargin   = 15 * time.Second
	DefaultExitHookTimeout = 10 * time.Second
)

func (c *Config) setDefaults() {
	setDur := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	setDur(&c.StopGrace, DefaultStopGrace)
	setDur(&c.RestartBase, DefaultRestartBase)
	setDur(&c.RestartMax, DefaultRestartMax)
	setDur(&c.StableAfter, DefaultStableAfter)
	setDur(&c.ReportTimeout, DefaultReportTimeout)
	setDur(&c.StartTimeout, DefaultStartTimeout)
	setDur(&c.WedgedAfter, DefaultWedgedAfter)
	setDur(&c.OverrunMargin, DefaultOverrunMargin)
	setDur(&c.ExitHookTimeout, DefaultExitHookTimeout)
	if c.DegradedAfter <= 0 {
		c.DegradedAfter = DefaultDegradedAfter
	}
	if c.IDPrefix == "" {
		c.IDPrefix = "empplay"
		if h, err := os.Hostname(); err == nil && h != "" {
			c.IDPrefix = h
		}
	}
	if c.ProfileRoot == "" {
		c.ProfileRoot = os.TempDir()
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Slot identifies one incarnation of a worker slot.
type Slot struct {
	// Index is the slot number, from 0.
	Index int
	// Incarnation counts the starts of the slot, from 1.
	Incarnation int
	// WorkerID is unique to the incarnation:
	// <prefix>:slot<index>:<incarnation>:<supervisor pid>:<random>.
	WorkerID string
	// ProfileDir is a new, empty directory unique to the incarnation, for
	// the child's Chromium --user-data-dir; the supervisor removes it when
	// the incarnation ends.
	ProfileDir string
	// GPU is true for a slot that renders on the GPU (Config.GPUSlots).
	GPU bool
}

// Exit describes the end of an incarnation.
type Exit struct {
	Slot Slot
	// PID is the child's process id; 0 when it never started.
	PID int
	// ExitCode is the child's exit status, -1 when a signal ended it or it
	// never started.
	ExitCode int
	// Signal names the signal that ended the child ("SIGKILL"), if any.
	Signal string
	// Reason says why the child ended: "exited", "stopped", "stopped:
	// rolling restart", "killed: no report for 15s", "killed: wedged
	// consumer", "killed: job overran its deadline", "killed: still
	// running 40s after SIGTERM", "killed: forced stop", or "start failed:
	// ...".
	Reason string
	// Uptime is how long the child ran.
	Uptime time.Duration
}

// SlotStatus is a snapshot of one slot, for health endpoints and metrics.
type SlotStatus struct {
	// Slot is the current or latest incarnation.
	Slot Slot
	// PID is the running child's pid, 0 when none runs.
	PID int
	// State is the state of the running child's latest report, "starting"
	// before its first, or, when no child runs, "restarting", "degraded" or
	// "stopped".
	State string
	// Restarts counts the restarts after a failure (not rolling restarts).
	Restarts int
	// LastExit is the Reason of the latest incarnation that ended.
	LastExit string
	// LastReport is the running child's latest report.
	LastReport empplay.Report
	// LastReportAt is when LastReport came; zero when none did.
	LastReportAt time.Time
	// Ready is true when the running child reported "idle" or "busy" within
	// ReportTimeout.
	Ready bool
	// Degraded is true after DegradedAfter failures in a row, until a run
	// of StableAfter.
	Degraded bool
}

// Supervisor runs and watches the worker slots of one host. Create it with
// [New]; its methods are safe for concurrent use.
type Supervisor struct {
	cfg    Config
	log    *slog.Logger
	jitter func(n int64) int64 // tests make it deterministic

	force     chan struct{} // closed by Force
	forceOnce sync.Once
	rolling   chan struct{} // a one-token semaphore for RollingRestart

	mu       sync.Mutex
	slots    []*slot
	started  bool
	stopping <-chan struct{} // Run's internal context is done; nil before Run
}

// slot is the supervisor's state of one slot. The fields after mu are
// guarded by Supervisor.mu; index, roll and exited are set by New.
type slot struct {
	index  int
	roll   chan rollRequest
	exited chan struct{} // closed when the slot's loop returns

	incarnation int
	last        Slot
	cur         *child // the running child, nil between incarnations
	state       string // when cur is nil
	restarts    int
	failures    int
	degraded    bool
	lastExit    string
}

// rollRequest asks a slot's loop to replace its child; the loop sends the
// new child, or nil if it failed to start, on reply.
type rollRequest struct {
	reply chan *child
}

// New returns a supervisor for cfg. Invalid settings are reported by
// [Supervisor.Run].
func New(cfg Config) *Supervisor {
	cfg.setDefaults()
	s := &Supervisor{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "supervisor"),
		jitter:  rand.Int64N,
		force:   make(chan struct{}),
		rolling: make(chan struct{}, 1),
	}
	for i := range max(cfg.Slots, 0) {
		s.slots = append(s.slots, &slot{
			index:  i,
			roll:   make(chan rollRequest),
			exited: make(chan struct{}),
			state:  stateStopped,
		})
	}
	return s
}

// Slot states reported by [SlotStatus] when no report applies; a slot
// whose child reports shows the report's state ([empplay.StateIdle], ...).
const (
	stateRestarting = "restarting"
	stateDegraded   = "degraded"
	stateStopped    = "stopped"
)

// errRunTwice is returned by a second call of Run.
var errRunTwice = errors.New("supervisor: Run was already called")

// Run starts every slot and supervises them until ctx is cancelled or
// [Supervisor.Force] is called, then stops every child (gracefully, unless
// forced), waits for all of them and returns nil. If a child exits with
// [empplay.ExitConfig], Run stops the other children the same way and
// returns an error for which [empplay.ExitCode] is [empplay.ExitConfig];
// invalid settings are reported the same way. Run may be called once.
func (s *Supervisor) Run(ctx context.Context) error {
	if s.cfg.Slots < 1 {
		return empplay.ConfigError(fmt.Errorf("supervisor: %d worker slots: want at least 1", s.cfg.Slots))
	}
	if s.cfg.Command == nil {
		return empplay.ConfigError(errors.New("supervisor: no Command to start workers with"))
	}
	if err := os.MkdirAll(s.cfg.ProfileRoot, 0o700); err != nil {
		return empplay.ConfigError(fmt.Errorf("supervisor: create profile root: %w", err))
	}

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errRunTwice
	}
	s.started = true
	s.stopping = runCtx.Done()
	s.mu.Unlock()

	s.log.InfoContext(ctx, "starting workers", "slots", s.cfg.Slots, "profile_root", s.cfg.ProfileRoot)
	var wg sync.WaitGroup
	for _, sl := range s.slots {
		wg.Go(func() { s.runSlot(runCtx, cancel, sl) })
	}
	wg.Wait()

	if cause := context.Cause(runCtx); empplay.ExitCode(cause) == empplay.ExitConfig {
		return cause
	}
	s.log.InfoContext(ctx, "all workers stopped")
	return nil
}

// Force kills the process group of every child at once and makes
// [Supervisor.Run] return without restarting any, for a second stop
// signal. It may be called at any time, more than once.
func (s *Supervisor) Force() {
	s.forceOnce.Do(func() { close(s.force) })
}

func (s *Supervisor) forced() bool {
	select {
	case <-s.force:
		return true
	default:
		return false
	}
}

// RollingRestart replaces the child of each slot in turn: it stops the
// child gracefully (SIGTERM, then SIGKILL after StopGrace), starts a new
// incarnation at once, and waits until it reports "idle" or StartTimeout
// passes before moving to the next slot, so that at most one slot is out
// of service. It returns an error, leaving the remaining slots alone, if a
// new child fails to start or exits before reporting idle, if ctx is
// cancelled, or if the supervisor is not running. Concurrent calls run one
// after the other.
func (s *Supervisor) RollingRestart(ctx context.Context) error {
	s.mu.Lock()
	stopping := s.stopping
	s.mu.Unlock()
	if stopping == nil {
		return errors.New("rolling restart: supervisor is not running")
	}
	select {
	case s.rolling <- struct{}{}:
		defer func() { <-s.rolling }()
	case <-ctx.Done():
		return fmt.Errorf("rolling restart: %w", context.Cause(ctx))
	case <-stopping:
		return errors.New("rolling restart: supervisor is stopping")
	}

	for _, sl := range s.slots {
		req := rollRequest{reply: make(chan *child, 1)}
		var c *child
		select {
		case sl.roll <- req:
		case <-ctx.Done():
			return fmt.Errorf("rolling restart: slot %d: %w", sl.index, context.Cause(ctx))
		case <-stopping:
			return errors.New("rolling restart: supervisor is stopping")
		}
		select {
		case c = <-req.reply:
		case <-ctx.Done():
			return fmt.Errorf("rolling restart: slot %d: %w", sl.index, context.Cause(ctx))
		case <-sl.exited:
			return errors.New("rolling restart: supervisor is stopping")
		}
		if c == nil {
			return fmt.Errorf("rolling restart: slot %d: new worker failed to start", sl.index)
		}
		timer := time.NewTimer(s.cfg.StartTimeout)
		select {
		case <-c.idle:
		case <-c.done:
			timer.Stop()
			return fmt.Errorf("rolling restart: slot %d: new worker (pid %d) exited before reporting idle", sl.index, c.pid)
		case <-timer.C:
			s.log.WarnContext(ctx, "rolling restart: new worker did not report idle in time; moving on",
				"slot", sl.index, "pid", c.pid, "timeout", s.cfg.StartTimeout)
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("rolling restart: slot %d: %w", sl.index, context.Cause(ctx))
		}
		timer.Stop()
	}
	return nil
}

// Status returns a snapshot of every slot, in slot order.
func (s *Supervisor) Status() []SlotStatus {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlotStatus, len(s.slots))
	for i, sl := range s.slots {
		st := SlotStatus{
			Slot:     sl.last,
			State:    sl.state,
			Restarts: sl.restarts,
			LastExit: sl.lastExit,
			Degraded: sl.degraded,
		}
		if c := sl.cur; c != nil {
			st.PID = c.pid
			st.State = empplay.StateStarting
			if !c.reportAt.IsZero() {
				st.State = c.report.State
				st.LastReport = c.report
				st.LastReportAt = c.reportAt
				st.Ready = (c.report.State == empplay.StateIdle || c.report.State == empplay.StateBusy) &&
					now.Sub(c.reportAt) <= s.cfg.ReportTimeout
			}
		}
		out[i] = st
	}
	return out
}

// Ready reports whether at least one slot is ready (see [SlotStatus]).
func (s *Supervisor) Ready() bool {
	for _, st := range s.Status() {
		if st.Ready {
			return true
		}
	}
	return false
}

// runSlot starts, watches and restarts the incarnations of sl until ctx is
// done or the supervisor is forced; stop cancels the whole run with a
// cause.
func (s *Supervisor) runSlot(ctx context.Context, stop context.CancelCauseFunc, sl *slot) {
	defer close(sl.exited)
	defer func() {
		s.mu.Lock()
		sl.state = stateStopped
		s.mu.Unlock()
	}()
	var pending *rollRequest // a rolling restart waiting for the new child
	for ctx.Err() == nil && !s.forced() {
		c, ex := s.start(ctx, sl)
		if pending != nil {
			pending.reply <- c
			pending = nil
		}
		var out outcome
		if c != nil {
			out = s.watch(ctx, sl, c)
			ex = s.reap(ctx, c, out)
		}
		s.exited(ctx, sl, ex)

		switch {
		case !out.planned && ex.ExitCode == empplay.ExitConfig:
			s.log.ErrorContext(ctx, "worker exited with a configuration error; stopping all workers", exitAttrs(ex)...)
			stop(empplay.ConfigError(fmt.Errorf("worker slot %d (pid %d) exited with code %d, a configuration error: not restarting it",
				sl.index, ex.PID, ex.ExitCode)))
			return
		case ctx.Err() != nil || s.forced():
			s.log.InfoContext(ctx, "worker stopped", exitAttrs(ex)...)
			return
		case out.roll != nil:
			s.log.InfoContext(ctx, "worker stopped for a rolling restart", exitAttrs(ex)...)
			pending = out.roll
			continue
		}
		delay := s.failed(ctx, sl, ex)
		if delay <= 0 {
			continue
		}
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
		case <-s.force:
		case req := <-sl.roll:
			pending = &req
		}
		timer.Stop()
	}
}

// exited records the end of an incarnation and calls OnExit.
func (s *Supervisor) exited(ctx context.Context, sl *slot, ex Exit) {
	s.mu.Lock()
	sl.cur = nil
	sl.lastExit = ex.Reason
	sl.state = stateRestarting
	if sl.degraded {
		sl.state = stateDegraded
	}
	s.mu.Unlock()
	if s.cfg.OnExit == nil {
		return
	}
	hookCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ExitHookTimeout)
	defer cancel()
	s.cfg.OnExit(hookCtx, ex)
}

// failed counts an unplanned exit against sl, logs it and returns the delay
// before the next start.
func (s *Supervisor) failed(ctx context.Context, sl *slot, ex Exit) time.Duration {
	s.mu.Lock()
	if ex.Uptime >= s.cfg.StableAfter {
		sl.failures, sl.degraded = 0, false
	}
	sl.failures++
	sl.restarts++
	becameDegraded := !sl.degraded && sl.failures >= s.cfg.DegradedAfter
	if becameDegraded {
		sl.degraded = true
	}
	failures, restarts, degraded := sl.failures, sl.restarts, sl.degraded
	sl.state = stateRestarting
	if degraded {
		sl.state = stateDegraded
	}
	s.mu.Unlock()

	delay := restartDelay(failures, s.cfg.RestartBase, s.cfg.RestartMax, degraded, s.jitter)
	attrs := append(exitAttrs(ex), "restarts", restarts, "failures", failures, "delay", delay.Round(time.Millisecond))
	if becameDegraded {
		s.log.ErrorContext(ctx, "worker slot degraded: it keeps failing; retrying at the backoff cap",
			append(attrs, "degraded_after", s.cfg.DegradedAfter)...)
	}
	s.log.WarnContext(ctx, "worker ended; restarting", attrs...)
	return delay
}

// exitAttrs are the log attributes of an incarnation's end.
func exitAttrs(ex Exit) []any {
	return []any{
		"slot", ex.Slot.Index, "pid", ex.PID, "worker_id", ex.Slot.WorkerID, "exit_code", ex.ExitCode,
		"signal", ex.Signal, "reason", ex.Reason, "uptime", ex.Uptime.Round(time.Millisecond),
	}
}
