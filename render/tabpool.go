// This file is the tab pool: tabs prepared before a job, reused after it, and the background work between jobs.

package render

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
)

// park makes a used tab of the shared browser context ready for another
// job (see [IsolateOrigin]): leave, then tidy.
func (b *Browser) park(tb *tab) error {
	old, err := b.leave(tb)
	if err != nil {
		return err
	}
	return b.tidy(tb, old)
}

// leave takes the job's page down: the tab moves on to the shell page of
// the p5 version the last job used, at a fresh origin (or to about:blank
// after a js job), so that nothing the page ran survives it (the
// back/forward cache is off); then windows the page opened are closed. It
// returns once the browser has answered the navigation: the job's page
// runs nothing more but its exit handlers (pagehide, visibilitychange,
// unload), in its own renderer, where they reach nothing of another
// origin's (what they store, tidy clears). The next job may start from
// here on (see overlap). It returns the origin the tab left. When it fails
// the caller closes the tab.
func (b *Browser) leave(tb *tab) (string, error) {
	ctx, cancel := context.WithTimeout(tb.ctx, openTimeout)
	defer cancel()
	old := tb.currentOrigin()
	if err := tb.untrackLoads(ctx); err != nil {
		return old, fmt.Errorf("stop tracking the page's loads: %w", err)
	}
	tb.mu.Lock()
	tb.held, tb.blocked, tb.seen, tb.unseen = nil, nil, nil, 0
	tb.warm = ""
	tb.mu.Unlock()
	b.mu.Lock()
	next := b.next
	b.mu.Unlock()
	if next != "" {
		if err := b.loadShell(ctx, tb, next); err != nil {
			return old, err
		}
	} else {
		tb.page.Store(nil)
		tb.mu.Lock()
		tb.origin = ""
		tb.mu.Unlock()
		if err := tb.navigate(ctx, "about:blank"); err != nil {
			return old, fmt.Errorf("leave the page: %w", err)
		}
	}
	// Whatever the old page did while it was being left is not the next
	// job's.
	tb.mu.Lock()
	tb.blocked, tb.seen, tb.unseen = nil, nil, 0
	tb.mu.Unlock()
	select {
	case <-tb.reports:
	default:
	}
	// Before the next job starts, so that only the job's own windows are
	// closed, never the next one's.
	return old, tb.inst.closeStrays(ctx)
}

// tidy finishes what leave began, alongside the next job if it started:
// the tab's history is reset, the browser forgets everything stored for
// the origin the tab left, and the tab's window is minimized. None of it is
// visible to a page of another origin.
//
// The page that was left runs its pagehide, visibilitychange and unload
// handlers in its old renderer after the navigation away, and they may
// store again. The history reset succeeds only once the navigation has
// settled, so the clear that follows it takes what the page stored while
// it ran and usually what it stored as it went; the origin is cleared a
// second time at the next park, a job later, of what the last handlers
// may have stored after that (see instance.recheck). A tab that is closed
// instead of parked leaves its origin to the next park.
func (b *Browser) tidy(tb *tab, old string) error {
	ctx, cancel := context.WithTimeout(tb.ctx, openTimeout)
	defer cancel()
	target := tb.target.Load()
	// The tab's history would tell the next page how many jobs it served,
	// and lead back to them.
	if err := tb.resetHistory(ctx); err != nil {
		return err
	}
	for _, c := range tb.inst.recheck(old) {
		if _, err := cdp.Call(ctx, target, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{
			Origin: c.origin, StorageTypes: clearTypes,
		}); err != nil {
			return fmt.Errorf("clear the storage of %s: %w", c.origin, err)
		}
	}
	return tb.show(ctx, false)
}

// resetHistory makes the tab's history the one page the tab's last
// navigation took it to (at its origin, or about:blank), as a page loaded
// in a new tab has it. Chromium refuses the reset while that navigation
// is still settling in (longer on a loaded host), and a reset that came
// before the navigation committed would keep the page it left as well, so
// it waits for the main frame to commit a page there (Page.frameNavigated),
// and then tries until the history holds that page alone, or until ctx
// ends.
func (tb *tab) resetHistory(ctx context.Context) error {
	target := tb.target.Load()
	origin := tb.currentOrigin()
	// Each refused reset is a round trip through the browser: several a
	// job while the navigation settles, on a loaded host.
	timer := time.NewTimer(commitWait)
	defer timer.Stop()
wait:
	for !tb.committedAt(origin) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("reset the history: the tab did not reach %q: %w", origin, ctx.Err())
		case <-tb.navigated:
		case <-timer.C:
			break wait // not seen: the history will tell
		}
	}
	for {
		_, err := cdp.Call(ctx, target, cdppage.ResetNavigationHistory, cdp.Empty{})
		if err == nil {
			h, herr := cdp.Call(ctx, target, cdppage.GetNavigationHistory, cdp.Empty{})
			switch {
			case herr != nil:
				err = herr
			case len(h.Entries) == 1 && atOrigin(h.Entries[0].URL, origin):
				return nil
			default:
				err = fmt.Errorf("%d entries in the history, not the page at %q alone", len(h.Entries), origin)
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("reset the history: %w", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// commitWait is how long resetHistory waits to see the main frame commit
// before it asks the browser's history instead.
const commitWait = time.Second

// committedAt reports whether the tab's main frame last committed a page
// of origin (about:blank when origin is "").
func (tb *tab) committedAt(origin string) bool {
	u := tb.committed.Load()
	return u != nil && atOrigin(*u, origin)
}

// atOrigin reports whether url is a page of origin, or about:blank when
// origin is "".
func atOrigin(url, origin string) bool {
	if origin == "" {
		return url == "about:blank"
	}
	return strings.HasPrefix(url, origin+"/")
}

// warmTab opens a tab and loads the shell page of p5 major version major
// in it (see warmPage): p5.js is parsed and run, and the page waits for its
// job's settings and sketch.
func (b *Browser) warmTab(ctx context.Context, inst *instance, major string) (*tab, error) {
	tb, err := b.idleTab(ctx, inst)
	if err != nil {
		return nil, err
	}
	if tb.warm == p5Major(major) {
		return tb, nil // parked on that shell page
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	err = b.loadShellAlone(octx, tb, major)
	if err == nil {
		err = tb.show(octx, false)
	}
	if err != nil {
		_ = tb.close()
		return nil, err
	}
	return tb, nil
}

// loadShell loads the shell page of p5 major version major into t, at a
// fresh origin.
func (b *Browser) loadShell(ctx context.Context, tb *tab, major string) error {
	p5, err := b.p5.P5(major)
	if err != nil {
		return err
	}
	if err := b.primeP5(ctx, tb.inst, major); err != nil {
		// The page compiles p5.js itself.
		tb.logger.Debug("p5.js compilation cache", "err", err)
	}
	if err := tb.load(ctx, warmPage(major, p5)); err != nil {
		return fmt.Errorf("load the p5 %s page: %w", major, err)
	}
	tb.warm = p5Major(major)
	return nil
}

// loadShellAlone loads the shell page of p5 major version major into tb,
// at a fresh origin, as the one page of its history: a tab that showed
// another page (parked on about:blank or on another version's shell)
// would otherwise keep it, and its job would read a history.length of 2
// where a job in a tab parked on its shell page reads 1. Unlike loadShell
// it waits for the navigation to settle.
func (b *Browser) loadShellAlone(ctx context.Context, tb *tab, major string) error {
	if err := b.loadShell(ctx, tb, major); err != nil {
		return err
	}
	return tb.resetHistory(ctx)
}

// prewarm prepares the tab for the next job while the caller uploads this
// one's output: opening one costs a new browser context, a renderer and a
// dozen DevTools round trips, and loading p5 into it as much again, and
// none of it depends on the job. The tab loads the shell page of the p5
// version the last job used, or stays blank after a js job.
func (b *Browser) prewarm(inst *instance) {
	b.mu.Lock()
	skip := b.closed || b.cur != inst || b.spare != nil || b.jobs >= b.opts.RecycleAfter
	next := b.next
	b.mu.Unlock()
	if skip || !inst.alive() {
		return
	}
	var tb *tab
	var err error
	if next != "" {
		tb, err = b.warmTab(context.Background(), inst, next)
	} else {
		tb, err = b.idleTab(context.Background(), inst)
	}
	if err != nil {
		b.logger.Debug("prewarm a tab", "err", err)
		return
	}
	b.mu.Lock()
	live := !b.closed && b.cur == inst
	keep := live && b.spare == nil
	if keep {
		b.spare = tb
	}
	b.mu.Unlock()
	// Another prewarm (a job's and its predecessor's cleanup run side by
	// side) got there first: the tab waits among the parked ones.
	if !keep && (!live || !inst.putIdle(tb)) {
		_ = tb.close()
	}
}

// takeWarm returns the prewarmed tab of browser in when it is live and
// loaded the shell page of p5 major version major ("" for a blank tab),
// else a tab that the job's page must be loaded into: the prewarmed one
// all the same (it loaded nothing of any job), an idle one or a new one.
//
// taken, when not nil, is the spare that overlap took already.
func (b *Browser) takeWarm(ctx context.Context, inst *instance, major string, taken *tab) (*tab, error) {
	tb := taken
	if tb == nil {
		b.mu.Lock()
		tb = b.spare
		b.spare = nil
		b.mu.Unlock()
	}
	if tb != nil {
		if tb.usable(inst) {
			if tb.warm != major || len(tb.reports) > 0 {
				// Another p5 version, or a shell page that reported
				// before its job (p5.js failed to load): load the job's
				// page afresh.
				tb.warm = ""
			}
			return tb, nil
		}
		b.background(func() { _ = tb.close() })
	}
	return b.idleTab(ctx, inst)
}

// idleTab returns a parked tab of browser in (see park), or a new one.
func (b *Browser) idleTab(ctx context.Context, inst *instance) (*tab, error) {
	for {
		tb := inst.takeIdle()
		if tb == nil {
			return b.openTab(ctx, inst)
		}
		if tb.usable(inst) {
			return tb, nil
		}
		_ = tb.close()
	}
}

// background runs f, the cleanup of a job or the preparation of the next,
// alongside the caller. The next Render, and Close, wait for it and for
// all background work started before it.
func (b *Browser) background(f func()) {
	done := make(chan struct{})
	b.mu.Lock()
	prev := b.bg
	b.bg = done
	b.mu.Unlock()
	go func() {
		defer close(done)
		f()
		if prev != nil {
			<-prev
		}
	}()
}

// Warm readies the tab the next job takes for p5 jobs and videos of p5
// version p5Version ("" is the default): the shell page with that p5
// loaded, as a worker has it between jobs of one kind. It waits until the
// tab is ready. Render never needs it; what Warm does in advance the first
// job would otherwise wait for (about half a second on a new browser).
func (b *Browser) Warm(ctx context.Context, p5Version string) error {
	b.jobMu.Lock()
	defer b.jobMu.Unlock()
	if err := b.settle(ctx); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	inst, err := b.ensure(ctx, false)
	if err != nil {
		return err
	}
	major := p5Major(p5Version)
	b.mu.Lock()
	b.next = major
	spare := b.spare
	if spare != nil && spare.warm != major {
		b.spare = nil
	}
	b.mu.Unlock()
	if spare != nil && spare.warm != major {
		_ = spare.close()
	}
	b.prewarm(inst)
	return nil
}

// cleanup runs f in the background now, or holds it back until Cleanup
// or the next job when Options.DeferCleanup is set.
func (b *Browser) cleanup(f func()) {
	if !b.opts.DeferCleanup {
		b.background(f)
		return
	}
	b.mu.Lock()
	prev := b.deferred
	b.deferred = f
	b.mu.Unlock()
	if prev != nil { // not expected: every job starts with Cleanup
		b.background(prev)
	}
}

// Cleanup starts the cleanup of the last job that Options.DeferCleanup
// held back, in the background; the next job waits for it. Without a
// held-back cleanup it does nothing.
func (b *Browser) Cleanup() {
	b.mu.Lock()
	f := b.deferred
	b.deferred = nil
	b.mu.Unlock()
	if f != nil {
		b.background(f)
	}
}

// settle waits for all background work, a held-back cleanup included.
func (b *Browser) settle(ctx context.Context) error {
	b.Cleanup() // a held-back cleanup runs before anything waits on it
	b.mu.Lock()
	done := b.bg
	b.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// finish closes a used tab in the background and kills the browser if the
// tab left it in doubt (the next job then starts a new one). Otherwise it
// parks the tab, recycles the browser when it is due and prewarms the next
// tab (unless Render already did), so that neither costs the next job
// anything if the caller has other work first.
//
// Once the tab has left the job's page (see leave), the next job may
// start, in the spare tab, while the rest of this runs (see overlap): then
// nothing here may stop the browser under it. A recycle that is due by the
// job count is known now, and the next job waits for it; one due by
// memory is only noted, and the next job's acquire restarts the browser.
// After a job that failed (ok false) the next one waits too: the memory
// guard may have killed the spare's renderer with the job's, and the
// browser's word of that may still be on its way.
func (b *Browser) finish(tb *tab, broken error, ok bool) {
	left := make(chan struct{})
	b.mu.Lock()
	recycleNow := b.jobs >= b.opts.RecycleAfter
	b.left = nil
	if broken == nil && ok && !recycleNow {
		b.left = left
	}
	b.mu.Unlock()
	b.cleanup(func() {
		var once sync.Once
		gone := func() { once.Do(func() { close(left) }) }
		defer gone()
		if broken != nil {
			b.discard(tb.inst, broken)
			return
		}
		start := time.Now()
		reuse := tb.inst.shared != "" && !tb.singleUse && tb.usable(tb.inst)
		old := ""
		if reuse {
			var err error
			if old, err = b.leave(tb); err != nil {
				tb.logger.Debug("leave a page", "err", err)
				reuse = false
			}
		}
		if !reuse {
			if old == "" {
				old = tb.currentOrigin()
			}
			tb.inst.forget(old)
			if err := tb.close(); err != nil {
				b.discard(tb.inst, fmt.Errorf("closing a page failed: %w", err))
				return
			}
		}
		gone()
		if reuse {
			if err := b.tidy(tb, old); err != nil {
				tb.logger.Debug("tidy a tab", "err", err)
				tb.inst.forget(old)
				_ = tb.close()
			} else if !tb.inst.putIdle(tb) {
				_ = tb.close()
			}
		}
		tb.logger.Debug("tab done", "parked", reuse, "duration_ms", time.Since(start).Milliseconds())
		if err := b.healthy(tb.inst); err != nil {
			b.discard(tb.inst, fmt.Errorf("health check failed: %w", err))
			return
		}
		inst := tb.inst
		if mem := b.memory(inst); mem > b.opts.RecycleMemory {
			b.mu.Lock()
			if b.cur == inst && !b.closed {
				b.recycle = fmt.Sprintf("memory %d MiB over %d MiB", mem>>20, b.opts.RecycleMemory>>20)
			}
			b.mu.Unlock()
			return // the next job's acquire restarts it
		}
		if recycleNow {
			var err error
			if inst, err = b.ensure(context.Background(), false); err != nil {
				if !errors.Is(err, ErrClosed) {
					b.logger.Warn("recycling chromium", "err", err)
				}
				return
			}
		}
		b.prewarm(inst)
	})
}

// overlap decides whether the next job, of p5 major version major, may
// start alongside the last job's cleanup. It may when the cleanup allows
// it and the spare tab is live and ready for the job: then overlap waits
// until the cleanup has sent the last job's page away (see leave) and
// returns the spare, which it takes, so that the cleanup prepares another.
// Otherwise it returns nil and the caller settles first.
func (b *Browser) overlap(ctx context.Context, major string) (*tab, error) {
	b.Cleanup() // a held-back cleanup starts now
	b.mu.Lock()
	left, spare, inst := b.left, b.spare, b.cur
	ok := left != nil && spare != nil && inst != nil && b.recycle == "" && b.jobs < b.opts.RecycleAfter &&
		spare.usable(inst) && spare.warm == major && len(spare.reports) == 0
	if ok {
		b.spare = nil
	}
	b.mu.Unlock()
	if !ok {
		return nil, nil // takeWarm sorts the spare out, after settle
	}
	select {
	case <-left:
		return spare, nil
	case <-ctx.Done():
		b.background(func() { _ = spare.close() })
		return nil, ctx.Err()
	}
}
