package render

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/empplay/empplay"
)

// deadlineRetry is how often the renderer looks again for something to
// capture when a page had drawn nothing at its first deadline capture.
const deadlineRetry = 100 * time.Millisecond

// lateErrorWait is how long a js page that made a blocked request has to
// fail after it said it was ready, before its screenshot is taken.
const lateErrorWait = 300 * time.Millisecond

// terminateTimeout bounds Runtime.terminateExecution, which interrupts V8
// from the DevTools IO thread and normally answers in a millisecond.
const terminateTimeout = 2 * time.Second

// Triggers reported in [empplay.Output.Trigger].
const (
	TriggerDraw      = "draw"      // after the sketch's first draw()
	TriggerSetup     = "setup"     // after setup(), for a sketch without draw()
	TriggerLoad      = "load"      // after page load: code that drew a canvas without p5's setup/draw, or a js page
	TriggerCapture   = "capture"   // the sketch called empplay.capture()
	TriggerFxPreview = "fxpreview" // the sketch called $fx.preview() (or fxpreview())
)

// Render runs one job, its page at a fresh origin (see [Options.Isolation]),
// and returns its output: for a p5 job the PNG of its canvas, for a js job
// a screenshot of the page and/or the page as one HTML file (see the
// package doc); for a video job see [Browser.RenderVideo]. Errors are
// [*empplay.Error]s: sketch failures are permanent (sketch_error,
// network_blocked, missing_addon, webgl_unavailable, blank_canvas,
// render_timeout, no_canvas, memory_limit), browser failures transient
// (browser_error), after which the next Render starts a new Chromium. A
// cancelled ctx returns its error unclassified.
//
// The job's page is left (and its tab made ready for a later job, or
// closed) after Render returns, in the background, and a tab for the next
// job is prepared meanwhile; the next Render waits for both.
func (b *Browser) Render(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
	if job.Type == empplay.TypeVideo {
		return b.renderVideo(ctx, job)
	}
	if job.Type != empplay.TypeP5 && job.Type != empplay.TypeJS {
		return nil, empplay.Errorf(empplay.CodeUnsupported, "job type %q is not supported by the renderer yet", job.Type)
	}
	if err := checkSize(job); err != nil {
		return nil, err
	}
	var pg *page
	if job.Type == empplay.TypeJS {
		switch job.OutputType {
		case "", empplay.OutputPNG, empplay.OutputHTML, empplay.OutputBoth:
		default:
			return nil, empplay.Errorf(empplay.CodeInvalidField, "field \"outputType\" must be png, html or both, got %q", job.OutputType)
		}
		var err error
		if pg, err = newJSPage(job); err != nil {
			return nil, err
		}
	} else {
		p5, err := b.p5.P5(job.P5Version)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		if pg, err = newPage(job, p5); err != nil {
			return nil, err
		}
	}

	pg.assets = newPageAssets(job, b.opts.Assets, b.opts.AssetLimits)

	b.jobMu.Lock()
	defer b.jobMu.Unlock()
	b.mu.Lock()
	b.next = pg.major // the next job probably looks like this one
	b.mu.Unlock()
	inst, tb, err := b.acquire(ctx, pg.major)
	if err != nil {
		return nil, err
	}
	if tb.warm != "" {
		// The warm tab's renderer is the job's, and has started: give it
		// every CPU (see cpus.go).
		b.widen(inst)
	}
	// Prepare the next job's tab while this one renders: it runs in its own
	// renderer process, on the other core if there is one.
	b.background(func() { b.prewarm(inst) })
	out, broken, err := b.run(ctx, tb, job, pg, b.deadline(ctx, job))
	b.finish(tb, broken, err == nil)
	if aerr := pg.assets.err(); aerr != nil && ctx.Err() == nil {
		// A file the sketch was entitled to and did not get: the picture
		// is not what it meant, whatever the page made of it.
		return nil, aerr
	}
	if out != nil {
		out.AssetHits, out.AssetMisses = pg.assets.stats()
	}
	return out, err
}

// acquire returns a running browser and a tab for the next job: the
// prewarmed one when it loaded the shell of p5 major version major ("" for
// a blank tab), else a new blank one. It starts alongside the last job's
// cleanup when it can (see overlap); otherwise once all background work
// has ended. Failures are transient browser_errors (a browser that cannot
// open a tab is killed), except a closed Browser or a cancelled ctx. The
// caller holds b.jobMu.
func (b *Browser) acquire(ctx context.Context, major string) (inst *instance, tb *tab, err error) {
	defer empplay.StageSince(ctx, empplay.StageBrowserAcquire, time.Now())
	spare, err := b.overlap(ctx, major)
	if err == nil && spare == nil {
		err = b.settle(ctx)
	} else if spare != nil {
		b.overlaps.Add(1)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("render: %w", err)
	}
	if inst, err = b.ensure(ctx, true); err != nil {
		if spare != nil {
			b.background(func() { _ = spare.close() })
		}
		if errors.Is(err, ErrClosed) || ctx.Err() != nil {
			return nil, nil, err
		}
		return nil, nil, empplay.Transient(empplay.CodeBrowserError, err)
	}
	if tb, err = b.takeWarm(ctx, inst, major, spare); err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("render: %w", ctx.Err())
		}
		if inst.alive() {
			// A browser that cannot open a tab is no use.
			b.discard(inst, err)
		}
		return nil, nil, empplay.Transient(empplay.CodeBrowserError, fmt.Errorf("render: %w", err))
	}
	return inst, tb, nil
}

// needsFrames reports whether job's page must be shown: a js page is a
// screenshot, and a page on the real clock animates on the browser's
// frames. A p5 sketch on the virtual clock, still or video, draws on the
// prelude's own frames and its canvas is read, not looked at: its page
// stays hidden, and the browser makes no frames of it (about a tenth of a
// still's CPU, and a fifth to a third more video frames a second;
// docs/rendering.md, "Hidden pages").
func needsFrames(job *empplay.Job) bool {
	return job.Type == empplay.TypeJS || job.Clock == empplay.ClockReal
}

// checkSize fails a job whose viewport is outside the limits.
func checkSize(job *empplay.Job) error {
	if job.Width < empplay.MinSize || job.Width > empplay.MaxSize || job.Height < empplay.MinSize || job.Height > empplay.MaxSize {
		return empplay.Errorf(empplay.CodeSizeOutOfRange, "size %dx%d is outside %d-%d", job.Width, job.Height, empplay.MinSize, empplay.MaxSize)
	}
	return nil
}

// deadline is the earliest of the caller's deadline, the job's TimeoutMs
// and DefaultTimeout (for a video, scaled to its length: see
// [empplay.Job.RenderTimeout]), counted from now (the page is ready to
// load).
func (b *Browser) deadline(ctx context.Context, job *empplay.Job) time.Time {
	now := time.Now()
	d := now.Add(job.RenderTimeout(b.opts.DefaultTimeout))
	if job.TimeoutMs > 0 {
		if t := now.Add(time.Duration(job.TimeoutMs) * time.Millisecond); t.Before(d) {
			d = t
		}
	}
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	return d
}

// errNoP5 is the error of a page in which p5.js did not load: the
// renderer's failure, not the sketch's, so the job may be retried.
func errNoP5() error {
	return empplay.Transient(empplay.CodeBrowserError, errors.New("render: p5.js did not load in the page"))
}

// run loads the job's page in t and waits for its report or its deadline.
// broken is set when the browser can no longer be trusted.
func (b *Browser) run(ctx context.Context, tb *tab, job *empplay.Job, pg *page, deadline time.Time) (out *empplay.Output, broken, err error) {
	start := time.Now()
	log := tb.logger.With("blob", job.BlobName(), "warm", tb.warm != "")
	inst := tb.inst
	// The sketch's time: the deadline, or the caller giving up.
	jctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	// The job's memory is watched until it ends (see memoryGuard).
	mem := b.guardMemory(tb)
	defer mem.stop()

	failed := func(stage string, err error) error {
		switch {
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fmt.Errorf("render: %w", ctx.Err())
		case mem.killed.Load() > 0:
			return memoryLimitError(mem.killed.Load(), mem.limit)
		case jctx.Err() != nil && inst.alive():
			return tb.failure(empplay.CodeRenderTimeout, fmt.Sprintf(
				"render timeout: the page did not load within %v", deadline.Sub(start).Round(time.Millisecond)))
		}
		if !inst.alive() {
			broken = errConnectionLost
		}
		return empplay.Transient(empplay.CodeBrowserError, fmt.Errorf("render: %s: %w", stage, err))
	}
	if err := tb.present(jctx, job.Width, job.Height, job.ScaleFactor(), needsFrames(job)); err != nil {
		return nil, broken, failed("prepare the tab", err)
	}
	if tb.warm == "" && pg.major != "" {
		// No shell page of the job's p5 version in the tab: load one, as
		// a prepared tab has it.
		if err := b.loadShellAlone(jctx, tb, pg.major); err != nil {
			return nil, broken, failed("navigate", err)
		}
	}
	if pg.mode == modeJS {
		// Its screenshot waits for its loads (see loadTracker).
		if err := tb.trackLoads(jctx); err != nil {
			return nil, broken, failed("track the page's loads", err)
		}
	}
	if tb.warm != "" {
		// The shell page is loaded (or loading): hand it the job.
		tb.adopt(pg)
	} else if err := tb.load(jctx, pg); err != nil {
		return nil, broken, failed("navigate", err)
	}
	navigated := time.Now()
	empplay.RecordStage(ctx, empplay.StagePageLoad, navigated.Sub(start))

	// A little before the deadline, a page that has drawn something is
	// captured as it is (trigger "deadline"), if it still responds.
	soft := time.NewTimer(time.Until(deadline.Add(-fallbackGrace(deadline.Sub(start)))))
	defer soft.Stop()
wait:
	select {
	case <-soft.C:
		res, err := tb.deadlineCapture(jctx)
		log.Debug("deadline capture", "result", res, "err", err)
		if err == nil && (res == "nothing" || res == "gone") {
			// Nothing drawn yet (or the page is still loading): look again
			// shortly, until the deadline.
			soft.Reset(deadlineRetry)
		}
		goto wait
	case payload := <-tb.reports:
		got := time.Now()
		out, m, err := tb.result(job, payload)
		pageStages(ctx, navigated, got, m)
		log.Debug("page reported", "type", m.Type, "trigger", m.Trigger, "setup_ms", navigated.Sub(start).Milliseconds(),
			"page_ms", time.Since(navigated).Milliseconds(), "p5_ready_ms", int(m.P5ReadyMs),
			"start_ms", int(m.StartMs), "encode_ms", int(m.EncodeMs), "done_ms", int(m.DoneMs), "png_bytes", len(m.PNG), "delivery_ms", m.deliveryMs(got))
		if err == nil && m.Type == "ready" && tb.blockedAny() {
			// A page whose request was blocked often fails a moment later,
			// when the rejection arrives: give it that moment.
			select {
			case late := <-tb.reports:
				if _, _, lerr := tb.result(job, late); lerr != nil {
					return nil, nil, lerr
				}
			case <-time.After(lateErrorWait):
			}
		}
		if err == nil && m.Type == "ready" {
			if m.Trigger != "deadline" {
				// What the page loads shows however fast it came.
				left, serr := tb.settleLoads(jctx)
				log.Debug("page loads settled", "ms", time.Since(got).Milliseconds(), "unfinished", left, "err", serr)
				if serr != nil && ctx.Err() == nil {
					// The job's deadline, with files still on their way.
					return nil, nil, tb.failure(empplay.CodeRenderTimeout, fmt.Sprintf(
						"render timeout: the page was ready, but what it was loading had not come within %v: %s",
						deadline.Sub(start).Round(time.Millisecond), tb.unfinishedLoads()))
				}
			}
			shot := time.Now()
			if out, err = tb.pageOutput(jctx, job, pg, m); err != nil {
				err = failed("capture the page", err)
				return nil, broken, err
			}
			empplay.StageSince(ctx, empplay.StageCapture, shot)
			log.Debug("page captured", "capture_ms", time.Since(shot).Milliseconds())
		}
		return out, nil, err
	case used := <-mem.over:
		return nil, nil, memoryLimitError(used, mem.limit)
	case <-tb.crashed:
		return nil, nil, tb.crashError(mem)
	case <-inst.cdp.LostConnection:
		return nil, errConnectionLost,
			empplay.Transient(empplay.CodeBrowserError, errors.New("render: lost the connection to chromium"))
	case <-jctx.Done():
		// A report that came in at the same moment still counts.
		select {
		case payload := <-tb.reports:
			out, m, err := tb.result(job, payload)
			if err == nil && m.Type == "ready" {
				// Too late for a screenshot.
				break
			}
			return out, nil, err
		default:
		}
	}

	// Out of time, or the caller gave up.
	broken = tb.stop()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, broken, fmt.Errorf("render: %w", err)
	}
	return nil, broken, tb.failure(empplay.CodeRenderTimeout, fmt.Sprintf(
		"render timeout: %s within %v", pg.waitingFor(), deadline.Sub(start).Round(time.Millisecond)))
}
