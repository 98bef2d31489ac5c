// This file starts and stops the Chromium process and removes its profile.

package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay/internal/cdpcbor"
	"github.com/empplay/empplay/internal/chromiumtmp"

	"github.com/empplay/empplay/internal/proc"
)

// launch starts one Chromium with a new unique profile directory.
func (b *Browser) launch(ctx context.Context) (*instance, error) {
	if b.opts.ChromiumPath == "" {
		return nil, errors.New("render: Options.ChromiumPath is empty; set it to the Chromium binary (/usr/lib/chromium/chromium-headless-shell on Debian)")
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
	// assetServer); rules in ExtraFlags come before the last, which makes
	// every other name fail (see mergeSwitch).
	extra := append([]string{"--host-resolver-rules=" + assets.resolverRule() + ", " + allTheRest}, b.opts.ExtraFlags...)
	sandbox, err := b.Sandbox()
	if err != nil {
		return nil, err
	}
	switches, err := chromiumSwitches(b.opts.Backend, extra, sandbox.Enabled, v8HeapLimitMiB(b.opts.JobMemory))
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
	// Chromium starts on one CPU and gets the others back once it is up
	// (see cpus.go): its video encoders then make the same bytes every run.
	cpu, allCPUs := pinnedCPU(b.opts.RendererCPU)
	pinned := false
	refs, binaryRefs := cdpcbor.NewRefs(), false
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(b.opts.ChromiumPath),
		chromedp.UserDataDir(dir),
		// Chromium keeps a few things outside the profile: the crashpad
		// handler (two daemons in sessions of their own, so outside the
		// process group) writes under $XDG_CONFIG_HOME/chromium, dconf
		// under $XDG_CACHE_HOME. Inside the unique directory they are
		// removed with it, and every such process has the directory on its
		// command line, where killUsing finds it.
		//
		// Chromium gets only the allow-listed part of the worker's
		// environment (see chromiumEnv): no storage key or Redis URL.
		chromedp.NoInheritEnv,
		chromedp.Env(chromiumEnv(os.Environ())...),
		chromedp.Env("XDG_CONFIG_HOME="+filepath.Join(dir, "xdg-config"), "XDG_CACHE_HOME="+filepath.Join(dir, "xdg-cache")),
		chromedp.CombinedOutput(dbg),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			ownProcessGroup(cmd)
			pinned = startOnCPU(cmd, cpu)
			binaryRefs = binaryPipe(cmd, refs, func(err error) { b.logger.Warn("devtools pipe", "err", err) })
		}),
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
	inst := &instance{ctx: bctx, cancel: bcancel, allocCancel: allocCancel, cdp: c.Browser, dir: dir}
	if binaryRefs {
		inst.refs = refs
	}
	if p := c.Browser.Process(); p != nil {
		inst.pid = p.Pid
	}
	inst.procs = proc.Follow(inst.pid)
	switch {
	case pinned && inst.pid > 0:
		inst.pinned, inst.cpus = allCPUs.Count() > 1, allCPUs
		if err := unpin(inst.procs, allCPUs); err != nil {
			b.logger.WarnContext(ctx, "chromium keeps running on one CPU", "err", err)
		}
	case cpu >= 0 && allCPUs.Count() > 1:
		b.logger.WarnContext(ctx, "taskset (util-linux) not found: Chromium runs unbound, and videos of 640x480 or more may differ in their bytes from run to run")
	}
	// Why a renderer crashed (out of memory, say) is only told to the
	// browser's session, which discovers targets (chromedp turns that on).
	chromedp.ListenBrowser(bctx, func(ev any) {
		if ev, ok := ev.(*target.EventTargetCrashed); ok {
			inst.targetCrashed(ev.TargetID, ev.Status)
		}
	})
	if b.opts.Isolation == IsolateOrigin {
		// One incognito context for every tab (see IsolateOrigin). It is
		// disposed of with the browser.
		keep := false
		cctx, cancel := context.WithTimeout(ctx, openTimeout)
		res, err := cdp.Call(cctx, c.Browser, target.CreateBrowserContext, target.CreateBrowserContextParams{DisposeOnDetach: &keep})
		cancel()
		if err != nil {
			_ = b.stop(inst, false)
			return nil, fmt.Errorf("render: create a browser context: %w", err)
		}
		inst.shared = res.BrowserContextID
	}
	b.logger.InfoContext(ctx, "chromium started", "pid", inst.pid, "backend", b.opts.Backend, "profile_dir", dir,
		"sandbox", sandbox.Enabled, "job_memory_mib", b.opts.JobMemory>>20,
		"duration_ms", time.Since(start).Milliseconds())
	return inst, nil
}

// stop ends a Chromium: a graceful Browser.close first when asked (and the
// browser still answers), then the process group is killed and every
// process still using the unique profile directory, and the directory is
// removed. It runs once per instance.
func (b *Browser) stop(inst *instance, graceful bool) error {
	inst.stopOnce.Do(func() {
		if graceful && inst.alive() {
			ctx, cancel := context.WithTimeout(inst.ctx, gracefulCloseTimeout)
			if err := chromedp.Cancel(ctx); err != nil {
				b.logger.Debug("graceful chromium close", "pid", inst.pid, "err", err)
			}
			cancel()
		}
		// If the leader still runs, cancelling kills its whole group (see
		// ownProcessGroup) before Wait reaps it; then wait for it.
		inst.cancel()
		inst.allocCancel()
		var errs []error
		// The leader is reaped now, so its pid may be reused: signal the
		// group only while members of ours still hold its id.
		if ours(inst.pid, inst.dir) {
			if err := killGroup(inst.pid); err != nil {
				errs = append(errs, err)
			}
		}
		killUsing(inst.dir)
		if err := removeProfile(inst.dir); err != nil {
			errs = append(errs, err)
		}
		inst.stopErr = errors.Join(errs...)
		b.logger.Info("chromium stopped", "pid", inst.pid)
	})
	return inst.stopErr
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
