package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/internal/chromiumtmp"
	"github.com/empplay/empplay/internal/procstat"
)

// Defaults of [Options].
const (
	DefaultStartTimeout   = 20 * time.Second
	DefaultRenderTimeout  = 30 * time.Second
	DefaultRecycleAfter   = 200
	DefaultRecycleMemory  = 1536 << 20 // bytes
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
	// /usr/lib/chromium/chromium, not the /usr/bin/chromium wrapper script.
	ChromiumPath string
	// Backend is how Chromium renders WebGL and raster work: [gpu.CPU]
	// (the default: SwiftShader, DESIGN.md section 4), [gpu.NVIDIA] or
	// [gpu.Mesa]. Its switches come from [gpu.Flags].
	Backend gpu.Backend
	// ExtraFlags are Chromium switches added after the base and backend
	// flags, each "--name" or "--name=value". A switch that is already in
	// the list gets the new value.
	ExtraFlags []string
	// ProfileDir is the directory under which each browser start makes its
	// own unique --user-data-dir (removed when that browser stops). Default
	// os.TempDir().
	ProfileDir string
	// StartTimeout bounds a Chromium start. Default 20s.
	StartTimeout time.Duration
	// DefaultTimeout is the render deadline of a job when neither its
	// TimeoutMs nor the caller's context sets an earlier one. Default 30s.
	DefaultTimeout time.Duration
	// FFmpegPath is the ffmpeg binary video jobs use; "" finds "ffmpeg"
	// in PATH.
	FFmpegPath string
	// RecycleAfter restarts Chromium after this many jobs, to bound the
	// memory a long-lived browser accumulates. Default 200.
	RecycleAfter int
	// RecycleMemory restarts Chromium after a job when all its processes
	// together use more than this many bytes (proportional set size).
	// Default 1.5 GiB.
	RecycleMemory int64
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

	restarts chan string  // why Chromium was restarted or killed, for metrics
	assets   *assetServer // serves p5.js to the browser, started with the first Chromium
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

// instance is one running Chromium.
type instance struct {
	// ctx is the chromedp context that owns the browser: new tabs are made
	// from it, and cancelling it kills the process group. It is the one
	// context kept in a struct, because every job needs it.
	ctx         context.Context
	cancel      context.CancelFunc
	allocCancel context.CancelFunc
	cdp         *chromedp.Browser
	pid         int
	dir         string
	// shared is the incognito browser context every tab opens in under
	// IsolateOrigin, "" under IsolateContext.
	shared cdp.BrowserContextID

	mu   sync.Mutex
	tabs map[target.ID]*tab // every open tab
	idle []*tab             // parked tabs (see Browser.park), at most maxIdle

	stopOnce sync.Once
	stopErr  error
}

// maxIdle is how many parked tabs a browser keeps: a job's tab and the next
// job's are all it ever needs.
const maxIdle = 2

func (in *instance) addTab(t *tab) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tabs == nil {
		in.tabs = make(map[target.ID]*tab)
	}
	if tg := t.target.Load(); tg != nil {
		in.tabs[tg.TargetID] = t
	}
}

func (in *instance) dropTab(t *tab) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if tg := t.target.Load(); tg != nil {
		delete(in.tabs, tg.TargetID)
	}
}

// takeIdle returns a parked tab, nil when there is none.
func (in *instance) takeIdle() *tab {
	in.mu.Lock()
	defer in.mu.Unlock()
	n := len(in.idle)
	if n == 0 {
		return nil
	}
	t := in.idle[n-1]
	in.idle = in.idle[:n-1]
	return t
}

// putIdle keeps a parked tab for a later job; false means there are enough
// and the caller closes it.
func (in *instance) putIdle(t *tab) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.idle) >= maxIdle {
		return false
	}
	in.idle = append(in.idle, t)
	return true
}

// closeStrays closes every page in the shared browser context that is not
// one of the browser's tabs: windows a job's page opened.
func (in *instance) closeStrays(ctx context.Context) error {
	res, err := cdp.Call(ctx, in.cdp, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		return fmt.Errorf("list the targets: %w", err)
	}
	for _, ti := range res.TargetInfos {
		if ti.BrowserContextID != in.shared || ti.Type != "page" {
			continue
		}
		in.mu.Lock()
		_, ours := in.tabs[ti.TargetID]
		in.mu.Unlock()
		if ours {
			continue
		}
		if _, err := cdp.Call(ctx, in.cdp, target.CloseTarget, target.CloseTargetParams{TargetID: ti.TargetID}); err != nil {
			return fmt.Errorf("close a window a page opened: %w", err)
		}
	}
	return nil
}

// alive reports whether the DevTools connection is still up.
func (in *instance) alive() bool {
	return in.ctx.Err() == nil
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
	in, err := b.ensure(ctx, false)
	if err != nil {
		return err
	}
	b.background(func() { b.prewarm(in) })
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
	in, assets := b.cur, b.assets
	b.cur, b.spare, b.assets = nil, nil, nil
	b.mu.Unlock()
	var err error
	if in != nil {
		err = b.stop(in, true)
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
	in := b.current()
	if in == nil || !in.alive() {
		return ErrNotRunning
	}
	return b.healthyCtx(ctx, in)
}

// healthy is Healthy for browser in, between jobs.
func (b *Browser) healthy(in *instance) error {
	return b.healthyCtx(context.Background(), in)
}

// memory is what all of browser in's processes use together, in bytes:
// their summed proportional set size when that may be over RecycleMemory,
// else their summed resident size (which is never less), because reading
// every process's smaps_rollup after every job cost more CPU than the
// worker's own work.
func (b *Browser) memory(in *instance) int64 {
	m, _ := procstat.GroupMemoryOver(in.pid, b.opts.RecycleMemory)
	return m
}

func (b *Browser) healthyCtx(ctx context.Context, in *instance) error {
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	if _, err := cdp.Call(ctx, in.cdp, browser.GetVersion, cdp.Empty{}); err != nil {
		return fmt.Errorf("render: chromium health check: %w", err)
	}
	return nil
}

// PID returns the process id of the running Chromium (also its process
// group id), or 0.
func (b *Browser) PID() int {
	if in := b.current(); in != nil {
		return in.pid
	}
	return 0
}

// ProfileDir returns the unique --user-data-dir of the running Chromium, or
// "". Every process of that browser has it on its command line.
func (b *Browser) ProfileDir() string {
	if in := b.current(); in != nil {
		return in.dir
	}
	return ""
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
	closed, in, jobs, recycle := b.closed, b.cur, b.jobs, b.recycle
	b.recycle = ""
	b.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if in != nil {
		reason := ""
		switch {
		case !in.alive():
			reason = "the DevTools connection was lost"
		case jobs >= b.opts.RecycleAfter:
			reason = "recycle after " + strconv.Itoa(jobs) + " jobs"
		case recycle != "":
			reason = "recycle: " + recycle
		}
		if reason != "" {
			b.logger.InfoContext(ctx, "restarting chromium", "pid", in.pid, "reason", reason)
			b.noteRestart(restartKind(reason))
			b.mu.Lock()
			b.cur, b.spare = nil, nil
			b.mu.Unlock()
			if err := b.stop(in, in.alive()); err != nil {
				b.logger.WarnContext(ctx, "stopping chromium", "pid", in.pid, "err", err)
			}
			in = nil
		}
	}
	if in == nil {
		var err error
		if in, err = b.launch(ctx); err != nil {
			return nil, err
		}
		b.mu.Lock()
		b.cur, b.jobs = in, 0
		b.mu.Unlock()
	}
	if forJob {
		b.mu.Lock()
		b.jobs++
		b.mu.Unlock()
	}
	return in, nil
}

// discard kills a browser that cannot be trusted any more (a page that
// would not close, a lost connection). The next job starts a new one.
func (b *Browser) discard(in *instance, why string) {
	b.lifeMu.Lock()
	defer b.lifeMu.Unlock()
	b.mu.Lock()
	if b.cur == in {
		b.cur, b.spare = nil, nil
	}
	b.mu.Unlock()
	b.logger.Warn("killing chromium", "pid", in.pid, "reason", why)
	b.noteRestart("killed")
	if err := b.stop(in, false); err != nil {
		b.logger.Warn("stopping chromium", "pid", in.pid, "err", err)
	}
}

// restartKind turns a restart reason into a metric label.
func restartKind(reason string) string {
	if strings.HasPrefix(reason, "recycle") {
		return "recycled"
	}
	return "connection lost"
}

// chromiumSwitch is one command-line switch: --name, or --name=value when
// value is a string.
type chromiumSwitch struct {
	name  string
	value any // string, or true for a switch without a value
}

// chromiumSwitches is the one place that decides how Chromium runs
// (DESIGN.md section 4, measured on Chromium 156 on a CPU-only host): the
// base switches, then the GPU switches of backend (gpu.Flags, where each
// has its reason; "" is the CPU), then extra. The DevTools pipe, the
// profile directory and the first about:blank tab are added by chromedp
// and launch.
func chromiumSwitches(backend gpu.Backend, extra []string, root bool) ([]chromiumSwitch, error) {
	if backend == "" {
		backend = gpu.CPU
	}
	backendFlags := gpu.Flags(backend)
	if backendFlags == nil {
		return nil, fmt.Errorf("render: unknown GPU backend %q: want %s, %s or %s", backend, gpu.CPU, gpu.NVIDIA, gpu.Mesa)
	}
	list := []chromiumSwitch{
		// The new headless mode is the real browser without a window, so
		// pages render as in Chrome (old headless is a separate binary now).
		{"headless", "new"},
		// Chromium refuses to start as root with its sandbox on. It stays on
		// for any other user.
		{"no-sandbox", root},
		// GPU switches (--disable-gpu on the CPU) come from the backend.
		// No UDP from the browser: QUIC would bypass nothing we intercept,
		// but it is one more channel to keep closed.
		{"disable-quic", true},
		// No first-run dialogs or welcome tabs in a fresh profile.
		{"no-first-run", true},
		// No variations, safe-browsing or other background fetches: the
		// browser makes no request that a job did not cause.
		{"disable-background-networking", true},
		// No component updater downloads (Widevine, CRLSets, ...).
		{"disable-component-update", true},
		// No sign-in or sync traffic.
		{"disable-sync", true},
		// No extension can run in, or talk out of, a render.
		{"disable-extensions", true},
		// Scrollbars would take pixels from the viewport.
		{"hide-scrollbars", true},
		// Sketches may play sound; a render host has no one to hear it.
		{"mute-audio", true},
		// Colours come out the same on every host, whatever its display
		// profile.
		{"force-color-profile", "srgb"},
		// Every host name resolves to nothing, IP literals included. This is
		// what closes WebSocket, which Fetch interception does not see.
		{"host-resolver-rules", "MAP * ~NOTFOUND"},
		// p5.js comes from the worker's loopback asset server (see
		// assetServer), which Local Network Access would refuse to a public
		// https page. Sketches cannot reach loopback anyway: the resolver
		// maps every other name, IP literals included, to nothing, and the
		// Fetch interception fails every request that is not the page's.
		{"disable-features", "LocalNetworkAccessChecks,BackForwardCache"},
		// WebRTC may not send UDP (STUN) outside a proxy, and there is none.
		{"webrtc-ip-handling-policy", "disable_non_proxied_udp"},
	}
	index := make(map[string]int, len(list))
	for i, s := range list {
		index[s.name] = i
	}
	for i, f := range append(backendFlags, extra...) {
		if !strings.HasPrefix(f, "--") || len(f) < 3 {
			if i < len(backendFlags) {
				return nil, fmt.Errorf("render: %s backend flag %q must look like --name or --name=value", backend, f)
			}
			return nil, fmt.Errorf("render: extra chromium flag %q must look like --name or --name=value", f)
		}
		name, value, hasValue := strings.Cut(f[2:], "=")
		s := chromiumSwitch{name: name, value: true}
		if hasValue {
			s.value = value
		}
		if i, ok := index[name]; ok {
			list[i] = s
			continue
		}
		index[name] = len(list)
		list = append(list, s)
	}
	return list, nil
}

// args renders the switches as command-line arguments.
func args(list []chromiumSwitch) []string {
	var out []string
	for _, s := range list {
		switch v := s.value.(type) {
		case string:
			out = append(out, "--"+s.name+"="+v)
		case bool:
			if v {
				out = append(out, "--"+s.name)
			}
		}
	}
	return out
}

// launch starts one Chromium with a new unique profile directory.
func (b *Browser) launch(ctx context.Context) (*instance, error) {
	if b.opts.ChromiumPath == "" {
		return nil, errors.New("render: Options.ChromiumPath is empty; set it to the Chromium binary (/usr/lib/chromium/chromium on Debian)")
	}
	if b.opts.Isolation != IsolateOrigin && b.opts.Isolation != IsolateContext {
		return nil, fmt.Errorf("render: unknown isolation %q: want %s or %s", b.opts.Isolation, IsolateOrigin, IsolateContext)
	}
	b.mu.Lock()
	assets := b.assets
	if assets == nil {
		var err error
		if assets, err = startAssets(b.p5.P5); err != nil {
			b.mu.Unlock()
			return nil, err
		}
		b.assets = assets
	}
	b.mu.Unlock()
	// The asset server's name is the one name that resolves (see
	// assetServer); the job's ExtraFlags may still replace the rule.
	extra := append([]string{"--host-resolver-rules=" + assets.resolverRule() + ", MAP * ~NOTFOUND"}, b.opts.ExtraFlags...)
	switches, err := chromiumSwitches(b.opts.Backend, extra, os.Geteuid() == 0)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.opts.ProfileDir, 0o700); err != nil {
		return nil, fmt.Errorf("render: profile directory: %w", err)
	}
	dir, err := os.MkdirTemp(b.opts.ProfileDir, "empplay-chromium-")
	if err != nil {
		return nil, fmt.Errorf("render: profile directory: %w", err)
	}

	dbg := debugLog{b.logger}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(b.opts.ChromiumPath),
		chromedp.UserDataDir(dir),
		// Chromium keeps a few things outside the profile: the crashpad
		// handler (two daemons in sessions of their own, so outside the
		// process group) writes under $XDG_CONFIG_HOME/chromium, dconf
		// under $XDG_CACHE_HOME. Inside the unique directory they are
		// removed with it, and every such process has the directory on its
		// command line, where killUsing finds it.
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"), "XDG_CACHE_HOME="+filepath.Join(dir, "xdg-cache")),
		chromedp.CombinedOutput(dbg),
		chromedp.ModifyCmdFunc(ownProcessGroup),
	}
	for _, s := range switches {
		opts = append(opts, chromedp.Flag(s.name, s.value))
	}
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctxOpts := []chromedp.ContextOption{chromedp.WithLogf(dbg.printf), chromedp.WithErrorf(dbg.printf)}
	if b.logger.Enabled(ctx, slog.LevelDebug) {
		// Protocol traffic: only worth formatting when someone reads it.
		ctxOpts = append(ctxOpts, chromedp.WithDebugf(dbg.printf))
	}
	bctx, bcancel := chromedp.NewContext(allocCtx, ctxOpts...)

	start := time.Now()
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(bctx) }()
	timer := time.NewTimer(b.opts.StartTimeout)
	defer timer.Stop()
	select {
	case err = <-started:
	case <-timer.C:
		err = fmt.Errorf("no answer within %v", b.opts.StartTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		// Cancelling kills the process group (see ownProcessGroup) and
		// waits for the process.
		bcancel()
		allocCancel()
		killUsing(dir)
		_ = removeProfile(dir)
		return nil, fmt.Errorf("render: start chromium %s: %w", b.opts.ChromiumPath, err)
	}
	c := chromedp.FromContext(bctx)
	in := &instance{ctx: bctx, cancel: bcancel, allocCancel: allocCancel, cdp: c.Browser, dir: dir}
	if p := c.Browser.Process(); p != nil {
		in.pid = p.Pid
	}
	if b.opts.Isolation == IsolateOrigin {
		// One incognito context for every tab (see IsolateOrigin). It is
		// disposed of with the browser.
		keep := false
		cctx, cancel := context.WithTimeout(ctx, openTimeout)
		res, err := cdp.Call(cctx, c.Browser, target.CreateBrowserContext, target.CreateBrowserContextParams{DisposeOnDetach: &keep})
		cancel()
		if err != nil {
			_ = b.stop(in, false)
			return nil, fmt.Errorf("render: create a browser context: %w", err)
		}
		in.shared = res.BrowserContextID
	}
	b.logger.InfoContext(ctx, "chromium started", "pid", in.pid, "backend", b.opts.Backend, "profile_dir", dir,
		"duration_ms", time.Since(start).Milliseconds())
	return in, nil
}

// ownProcessGroup puts Chromium in a process group of its own, so that one
// kill reaches the browser and every renderer, GPU and utility process it
// forks. Supplying a ModifyCmdFunc drops chromedp's default Pdeathsig, so
// set it again: the kernel kills Chromium if the thread that started it
// dies (chromedp keeps that goroutine locked to its thread while the
// browser runs).
func ownProcessGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = 0
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// exec.CommandContext kills only the leader by default.
	cmd.Cancel = func() error {
		return killGroup(cmd.Process.Pid)
	}
	cmd.WaitDelay = cmdWaitDelay
}

// killGroup sends SIGKILL to the process group pgid. A group that is gone
// already is not an error.
func killGroup(pgid int) error {
	if pgid <= 0 {
		return nil
	}
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", pgid, err)
	}
	return nil
}

// stop ends a Chromium: a graceful Browser.close first when asked (and the
// browser still answers), then the process group is killed and every
// process still using the unique profile directory, and the directory is
// removed. It runs once per instance.
func (b *Browser) stop(in *instance, graceful bool) error {
	in.stopOnce.Do(func() {
		if graceful && in.alive() {
			ctx, cancel := context.WithTimeout(in.ctx, gracefulCloseTimeout)
			if err := chromedp.Cancel(ctx); err != nil {
				b.logger.Debug("graceful chromium close", "pid", in.pid, "err", err)
			}
			cancel()
		}
		// If the leader still runs, cancelling kills its whole group (see
		// ownProcessGroup) before Wait reaps it; then wait for it.
		in.cancel()
		in.allocCancel()
		var errs []error
		// The leader is reaped now, so its pid may be reused: signal the
		// group only while members of ours still hold its id.
		if ours(in.pid, in.dir) {
			if err := killGroup(in.pid); err != nil {
				errs = append(errs, err)
			}
		}
		killUsing(in.dir)
		if err := removeProfile(in.dir); err != nil {
			errs = append(errs, err)
		}
		in.stopErr = errors.Join(errs...)
		b.logger.Info("chromium stopped", "pid", in.pid)
	})
	return in.stopErr
}

// procs calls f with the pid, process group and arguments of every
// process but this one.
func procs(f func(pid, pgrp int, args [][]byte)) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 3 {
			continue
		}
		pgrp, _ := strconv.Atoi(fields[2])
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		f(pid, pgrp, bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0}))
	}
}

// usesDir reports whether an argument names dir or a path inside it.
// Chromium's child processes rewrite their command line (setproctitle) as
// one string with spaces, so dir may be followed by a space too.
func usesDir(args [][]byte, dir string) bool {
	want := []byte(dir)
	for _, arg := range args {
		for rest := arg; ; {
			i := bytes.Index(rest, want)
			if i < 0 {
				break
			}
			rest = rest[i+len(want):]
			if len(rest) == 0 || !isNameByte(rest[0]) {
				return true
			}
		}
	}
	return false
}

// isNameByte reports whether c can continue a directory name made by
// os.MkdirTemp.
func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// ours reports whether process group pgid still has a member that uses
// dir: then the group id cannot have been reused by anyone else.
func ours(pgid int, dir string) bool {
	found := false
	procs(func(_, pgrp int, args [][]byte) {
		found = found || (pgrp == pgid && usesDir(args, dir))
	})
	return found
}

// killUsing kills every process that has dir in an argument, until a few
// passes in a row find none. The directory is unique to one browser start,
// so this only reaches that browser's processes: the crashpad handlers,
// which leave the process group, or a child that outlived the group kill.
// Never kill by name: other workers run Chromium too.
func killUsing(dir string) {
	// SIGKILLed processes can take seconds to exit on a loaded host (a
	// renderer freeing gigabytes); keep going until none is left.
	deadline := time.Now().Add(10 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		found := 0
		procs(func(pid, _ int, args [][]byte) {
			if usesDir(args, dir) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				found++
			}
		})
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// removeProfile removes a profile directory, retrying for a while: a dying
// Chromium child can still write into it.
func removeProfile(dir string) error {
	chromiumtmp.RemoveSingletonDir(dir)
	deadline := time.Now().Add(profileRemoveDeadline)
	for {
		err := os.RemoveAll(dir)
		if err == nil || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("remove chromium profile: %w", err)
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// debugLog forwards chromedp's log functions and Chromium's output to the
// logger at Debug level.
type debugLog struct{ logger *slog.Logger }

// maxDebugLen keeps protocol dumps (a fulfilled p5.js is a megabyte of
// base64) out of the logs.
const maxDebugLen = 2048

func (d debugLog) printf(format string, args ...any) {
	ctx := context.Background()
	if !d.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxDebugLen {
		msg = msg[:maxDebugLen] + "..."
	}
	d.logger.DebugContext(ctx, "chromedp", "detail", msg)
}

// Write logs Chromium's stdout and stderr, one record per line.
func (d debugLog) Write(p []byte) (int, error) {
	ctx := context.Background()
	if d.logger.Enabled(ctx, slog.LevelDebug) {
		for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
			if line != "" {
				d.logger.DebugContext(ctx, "chromium output", "line", line)
			}
		}
	}
	return len(p), nil
}
