package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"

	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/fetcher"
	"github.com/empplay/empplay/gpu"
)

// Defaults of [Options].
const (
	DefaultStartTimeout   = 20 * time.Second
	DefaultRenderTimeout  = 30 * time.Second
	DefaultRecycleAfter   = 200
	DefaultRecycleMemory  = 1536 << 20 // bytes
	DefaultJobMemory      = 1024 << 20 // bytes
	DefaultVideoMaxBytes  = 512 << 20  // bytes
	healthTimeout         = 2 * time.Second
	gracefulCloseTimeout  = 3 * time.Second
	profileRemoveDeadline = 5 * time.Second
	// cmdWaitDelay bounds how long os/exec waits for Chromium after its
	// context is cancelled before it gives up on the process.
	cmdWaitDelay = 5 * time.Second
)

// ErrClosed is returned by [Browser.Start] and [Browser.Render] after
// [Browser.Close].
var ErrClosed = errors.New("render: browser is closed")

// ErrNotRunning is returned by [Browser.Healthy] when no Chromium runs.
var ErrNotRunning = errors.New("render: chromium is not running")

// errConnectionLost is why a browser whose DevTools connection dropped
// mid-job is discarded.
var errConnectionLost = errors.New("the DevTools connection was lost")

// Isolation levels between the jobs of one browser (see [Options.Isolation]
// and the package doc).
const (
	// IsolateOrigin gives every job's page an origin and site of its own
	// in one incognito browser context that the browser's tabs share and
	// reuse; after each job the browser forgets everything stored for the
	// job's origin. It is the default.
	IsolateOrigin = "origin"
	// IsolateContext gives every job a new incognito browser context and
	// tab, with a renderer process of its own, closed after the job. It
	// costs about twice the CPU per job.
	IsolateContext = "context"
)

// Options configures a [Browser]. Zero values get the defaults below.
type Options struct {
	// Isolation is how jobs are kept apart: [IsolateOrigin] (the default)
	// or [IsolateContext].
	Isolation string
	// ChromiumPath is the Chromium binary. It is required. On Debian use
	// the headless shell, /usr/lib/chromium/chromium-headless-shell, or
	// the full browser's /usr/lib/chromium/chromium, not the
	// /usr/bin/chromium wrapper script; both render the same bytes.
	ChromiumPath string
	// Backend is how Chromium renders WebGL and raster work: [gpu.CPU]
	// (the default: SwiftShader, see docs/rendering.md), [gpu.NVIDIA] or
	// [gpu.Mesa]. Its switches come from [gpu.Flags].
	Backend gpu.Backend
	// RendererCPU picks the CPU that Chromium's renderers (one per job)
	// run on: the CPU at this position, modulo their number, among those
	// the worker may use. The supervisor gives slot k position k, so the
	// workers of a host render on different CPUs. Renderers stay on one
	// CPU so that they size their thread pools, the video encoders' among
	// them, for one CPU on every host: see cpus.go.
	RendererCPU int
	// ExtraFlags are Chromium switches added after the base and backend
	// flags, each "--name" or "--name=value". A switch that is already in
	// the list gets the new value, except the ones that hold lists, whose
	// value adds to it (see mergeSwitch).
	ExtraFlags []string
	// ProfileDir is the directory under which each browser start makes its
	// own unique --user-data-dir (removed when that browser stops), and
	// each video job its encoder's work directory. Default os.TempDir().
	ProfileDir string
	// StartTimeout bounds a Chromium start. Default 20s.
	StartTimeout time.Duration
	// DefaultTimeout is the render deadline of a job when neither its
	// TimeoutMs nor the caller's context sets an earlier one. Default 30s.
	DefaultTimeout time.Duration
	// FFmpegPath is the ffmpeg binary video jobs use; "" finds "ffmpeg"
	// in PATH.
	FFmpegPath string
	// VideoMaxBytes caps the size of a video job's output (the worker
	// holds it in memory to upload it): a bigger one fails with
	// output_too_large as soon as its encoded frames pass it. Default
	// 512 MiB.
	VideoMaxBytes int64
	// DeferCleanup holds back the cleanup after each job (closing or
	// parking its tab, the health check, a recycle that is due, preparing
	// the next tab) until [Browser.Cleanup] is called or the next job
	// starts, so that it does not compete for the CPU with what the
	// caller does with the output first (a worker's upload and verify).
	DeferCleanup bool
	// RecycleAfter restarts Chromium after this many jobs, to bound the
	// memory a long-lived browser accumulates. Default 200.
	RecycleAfter int
	// RecycleMemory restarts Chromium when the cleanup after a job finds
	// all its processes together using more than this many bytes
	// (proportional set size), before the next job that starts after that
	// cleanup (a job already started alongside it still runs in this
	// browser). Default 1.5 GiB.
	RecycleMemory int64
	// Assets fetches the files jobs declare and the outputs of earlier
	// workflow steps (see package fetcher); nil blocks them like any other
	// request.
	Assets *fetcher.Fetcher
	// AssetLimits bound what one job's assets may cost.
	AssetLimits AssetLimits
	// JobMemory bounds the memory of one job's renderer process, in bytes
	// (its resident size, sampled every 150 ms while the job runs). A job
	// whose renderer goes over it has the renderer killed at once and
	// fails with memory_limit; V8's heap in every renderer is limited to
	// it as well. Default 1 GiB.
	JobMemory int64
	// Sandbox is the policy for Chromium's sandbox: [SandboxAuto] (the
	// default: on unless root or the host does not allow it), [SandboxOn]
	// (required: the first start fails without it) or [SandboxOff]. See
	// [ResolveSandbox].
	Sandbox string
}

func (o Options) withDefaults() Options {
	if o.Isolation == "" {
		o.Isolation = IsolateOrigin
	}
	if o.Backend == "" {
		o.Backend = gpu.CPU
	}
	if o.ProfileDir == "" {
		o.ProfileDir = os.TempDir()
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = DefaultStartTimeout
	}
	if o.DefaultTimeout <= 0 {
		o.DefaultTimeout = DefaultRenderTimeout
	}
	if o.RecycleAfter <= 0 {
		o.RecycleAfter = DefaultRecycleAfter
	}
	if o.RecycleMemory <= 0 {
		o.RecycleMemory = DefaultRecycleMemory
	}
	if o.JobMemory <= 0 {
		o.JobMemory = DefaultJobMemory
	}
	if o.VideoMaxBytes <= 0 {
		o.VideoMaxBytes = DefaultVideoMaxBytes
	}
	if o.Sandbox == "" {
		o.Sandbox = SandboxAuto
	}
	return o
}

// Browser is one Chromium process that renders jobs one at a time, each
// page at an origin of its own (see [Options.Isolation] and the package
// doc). It starts Chromium lazily (or with
// [Browser.Start]), restarts it after a crash or every
// [Options.RecycleAfter] jobs, and never leaves a process or a profile
// directory behind after [Browser.Close].
type Browser struct {
	opts   Options
	p5     *assets.Bundle
	logger *slog.Logger

	// jobMu makes Render calls run one at a time.
	jobMu sync.Mutex
	// lifeMu serializes starts and stops of Chromium, which take long;
	// mu guards the fields below and is only held briefly.
	lifeMu sync.Mutex
	mu     sync.Mutex
	cur    *instance // nil when no Chromium runs
	jobs   int       // jobs given to cur
	closed bool
	spare  *tab   // a tab of cur opened ahead of the next job
	next   string // what spare loads: the last job's p5 major, "" after a js job
	// recycle, when set, is why cur must be restarted before the next job.
	recycle string
	bg      chan struct{} // closed when the last job's cleanup is done
	// left, when set, is closed once the last job's cleanup has taken
	// its page down (see finish): the next job may start then, alongside
	// the rest of the cleanup, if the spare is ready for it (see
	// overlap). nil when the cleanup must end first.
	left chan struct{}
	// overlaps counts the jobs that started alongside the last job's
	// cleanup.
	overlaps atomic.Int64
	// deferred is the last job's cleanup, held back (Options.DeferCleanup)
	// until Cleanup or the next job runs it.
	deferred func()

	restarts chan string  // why Chromium was restarted or killed, for metrics
	assets   *assetServer // serves p5.js to the browser, started with the first Chromium

	// sandbox is the sandbox state, resolved at the first start.
	sandboxOnce sync.Once
	sandbox     SandboxState
	sandboxErr  error
}

// Restarts delivers the reason of every restart or kill of Chromium after
// the first start (recycling, a lost connection, a page that would not
// close). Reasons are dropped when nobody reads them.
func (b *Browser) Restarts() <-chan string { return b.restarts }

func (b *Browser) noteRestart(reason string) {
	select {
	case b.restarts <- reason:
	default:
	}
}

// New returns a Browser that starts nothing yet. p5 provides the p5.js
// builds pages load (nil means [assets.Embedded]); logger receives
// lifecycle logs, and chromedp's and Chromium's own output at Debug level.
func New(opts Options, p5 *assets.Bundle, logger *slog.Logger) *Browser {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if p5 == nil {
		p5 = assets.Embedded()
	}
	return &Browser{
		next:     "1",
		opts:     opts.withDefaults(),
		p5:       p5,
		logger:   logger.With("component", "render"),
		restarts: make(chan string, 16),
	}
}

// Start launches Chromium if it is not running. Render does the same on
// demand; calling Start first surfaces a bad ChromiumPath or flag at once.
func (b *Browser) Start(ctx context.Context) error {
	b.jobMu.Lock()
	defer b.jobMu.Unlock()
	if err := b.settle(ctx); err != nil {
		return err
	}
	inst, err := b.ensure(ctx, false)
	if err != nil {
		return err
	}
	b.background(func() { b.prewarm(inst) })
	return nil
}

// Close stops Chromium, kills its process group and removes its profile
// directory. The Browser cannot be used afterwards.
func (b *Browser) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	// The last job's cleanup opens nothing new once closed is set.
	_ = b.settle(context.Background())
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	inst, assets := b.cur, b.assets
	b.cur, b.spare, b.assets = nil, nil, nil
	b.mu.Unlock()
	var err error
	if inst != nil {
		err = b.stop(inst, true)
	}
	if assets != nil {
		if aerr := assets.close(); aerr != nil && err == nil {
			err = fmt.Errorf("render: stop the asset server: %w", aerr)
		}
	}
	return err
}

// Healthy asks Chromium for its version, with a 2 second limit.
func (b *Browser) Healthy(ctx context.Context) error {
	inst := b.current()
	if inst == nil || !inst.alive() {
		return ErrNotRunning
	}
	return b.healthyCtx(ctx, inst)
}

// healthy is Healthy for browser in, between jobs.
func (b *Browser) healthy(inst *instance) error {
	return b.healthyCtx(context.Background(), inst)
}

// memory is what all of browser in's processes use together, in bytes:
// their summed proportional set size when that may be over RecycleMemory,
// else their summed resident size (which is never less), because reading
// every process's smaps_rollup after every job cost more CPU than the
// worker's own work.
func (b *Browser) memory(inst *instance) int64 {
	m, _ := inst.procs.MemoryOver(b.opts.RecycleMemory)
	return m
}

func (b *Browser) healthyCtx(ctx context.Context, inst *instance) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := cdp.Call(ctx, inst.cdp, browser.GetVersion, cdp.Empty{}); err != nil {
		return fmt.Errorf("render: chromium health check: %w", err)
	}
	return nil
}

// PID returns the process id of the running Chromium (also its process
// group id), or 0.
func (b *Browser) PID() int {
	if inst := b.current(); inst != nil {
		return inst.pid
	}
	return 0
}

// ProfileDir returns the unique --user-data-dir of the running Chromium, or
// "". Every process of that browser has it on its command line.
func (b *Browser) ProfileDir() string {
	if inst := b.current(); inst != nil {
		return inst.dir
	}
	return ""
}

// Sandbox returns whether Chromium runs with its sandbox, and why (see
// [Options.Sandbox]). The host is probed once, at the first call or
// start; an error means the policy cannot be met (see [ResolveSandbox]).
func (b *Browser) Sandbox() (SandboxState, error) {
	b.sandboxOnce.Do(func() {
		b.sandbox, b.sandboxErr = ResolveSandbox(b.opts.Sandbox, b.opts.ChromiumPath)
		if b.sandboxErr != nil {
			return
		}
		if b.sandbox.Enabled {
			b.logger.Info("chromium sandbox", "sandbox", b.sandbox.String())
		} else {
			b.logger.Warn("chromium runs without its sandbox: a page that escapes the renderer has this user's rights on the host",
				"sandbox", b.sandbox.String())
		}
	})
	return b.sandbox, b.sandboxErr
}

func (b *Browser) current() *instance {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cur
}

// ensure returns a running Chromium, starting one when there is none, when
// the last one died, or when it has served RecycleAfter jobs. forJob counts
// a job against that limit.
func (b *Browser) ensure(ctx context.Context, forJob bool) (*instance, error) {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	closed, inst, jobs, recycle := b.closed, b.cur, b.jobs, b.recycle
	b.recycle = ""
	b.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if inst != nil {
		reason := ""
		switch {
		case !inst.alive():
			reason = "the DevTools connection was lost"
		case jobs >= b.opts.RecycleAfter:
			reason = "recycle after " + strconv.Itoa(jobs) + " jobs"
		case recycle != "":
			reason = "recycle: " + recycle
		}
		if reason != "" {
			b.logger.InfoContext(ctx, "restarting chromium", "pid", inst.pid, "reason", reason)
			b.noteRestart(restartKind(reason))
			b.mu.Lock()
			b.cur, b.spare = nil, nil
			b.mu.Unlock()
			if err := b.stop(inst, inst.alive()); err != nil {
				b.logger.WarnContext(ctx, "stopping chromium", "pid", inst.pid, "err", err)
			}
			inst = nil
		}
	}
	if inst == nil {
		var err error
		if inst, err = b.launch(ctx); err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.cur, b.jobs = inst, 0
		b.mu.Unlock()
	}
	if forJob {
		b.mu.Lock()
		b.jobs++
		b.mu.Unlock()
	}
	return inst, nil
}

// discard kills a browser that cannot be trusted any more (a page that
// would not close, a lost connection). The next job starts a new one.
func (b *Browser) discard(inst *instance, why error) {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	if b.cur == inst {
		b.cur, b.spare = nil, nil
	}
	b.mu.Unlock()
	b.logger.Warn("killing chromium", "pid", inst.pid, "reason", why.Error())
	b.noteRestart("killed")
	if err := b.stop(inst, false); err != nil {
		b.logger.Warn("stopping chromium", "pid", inst.pid, "err", err)
	}
}

// restartKind turns a restart reason into a metric label.
func restartKind(reason string) string {
	if strings.HasPrefix(reason, "recycle") {
		return "recycled"
	}
	return "connection lost"
}

// Recycle replaces the running Chromium with a new one, between jobs: it
// waits for the job in hand to finish, stops the browser (gracefully),
// reports reason on [Browser.Restarts], and starts the next one. A GPU
// worker calls it when its browser holds more GPU memory than its share.
func (b *Browser) Recycle(ctx context.Context, reason string) error {
	b.jobMu.Lock()
	if err := b.settle(ctx); err != nil {
		b.jobMu.Unlock()
		return fmt.Errorf("render: recycle: %w", err)
	}
	b.lifeMu.Lock()
	b.mu.Lock()
	inst := b.cur
	b.cur, b.spare = nil, nil
	b.mu.Unlock()
	var stopErr error
	if inst != nil {
		b.logger.InfoContext(ctx, "restarting chromium", "pid", inst.pid, "reason", reason)
		b.noteRestart(reason)
		stopErr = b.stop(inst, true)
	}
	b.lifeMu.Unlock()
	b.jobMu.Unlock()
	if stopErr != nil {
		b.logger.WarnContext(ctx, "stopping chromium", "pid", inst.pid, "err", stopErr)
	}
	return b.Start(ctx)
}
