// This file gives a job's page its viewport, and makes sure the page has it before any of the job runs.

package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
)

// viewportSettle bounds the wait for a loaded page to take a new viewport.
const viewportSettle = 5 * time.Second

// viewport is a tab's device metrics override: CSS pixels and device
// scale factor.
type viewport struct {
	w, h  int
	scale float64
}

// present sets the tab's viewport to w x h CSS pixels at device scale
// factor scale, for a job's page, and shows the tab if visible (else it
// stays minimized: see show).
//
// The override stays with the tab across its navigations, so a tab whose
// last job had the same size keeps it, and its shell page (see warmPage)
// was loaded at the job's size, as a page in the artist's browser is. A
// shell page loaded at another size is resized before the job is handed
// to it (see resize).
func (tb *tab) present(ctx context.Context, w, h int, scale float64, visible bool) error {
	if want := (viewport{w, h, scale}); tb.viewport != want {
		if err := tb.resize(ctx, want, visible); err != nil {
			return err
		}
	}
	return tb.show(ctx, visible)
}

// resize gives the tab viewport v. When the tab has a page loaded (a
// shell page, which runs nothing of any job), it waits until the page has
// it: the browser hands a renderer a new viewport after the command has
// been answered, and not at all while the page is hidden from its frames,
// so the window is shown meanwhile, and, for a job that is not visible,
// minimized again once the page has its size; then resize waits until the
// page is hidden, so that the job's code gets no visibilitychange event of
// it. Without the wait, p5 1.x, which reads windowWidth, windowHeight and
// the pixel density in its constructor, started at the shell's size or at
// the job's, depending on which came first (TestViewportAcrossJobs).
func (tb *tab) resize(ctx context.Context, v viewport, visible bool) error {
	tb.viewport = viewport{}
	loaded := tb.warm != ""
	if loaded {
		if err := tb.show(ctx, true); err != nil {
			return err
		}
	}
	if _, err := cdp.Call(ctx, tb.target.Load(), emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(v.w), Height: int64(v.h), DeviceScaleFactor: v.scale,
	}); err != nil {
		return fmt.Errorf("set the viewport: %w", err)
	}
	if loaded {
		if err := tb.settleViewport(ctx, v); err != nil {
			return err
		}
		if !visible {
			if err := tb.show(ctx, false); err != nil {
				return err
			}
			if err := tb.settleHidden(ctx); err != nil {
				return err
			}
		}
	}
	tb.viewport = v
	return nil
}

// settleViewport waits until the page the tab shows has viewport v and the
// browser has made a frame of it, the frame that dispatches the page's
// resize event: the job's code must not get one that the page in the
// artist's browser would not.
func (tb *tab) settleViewport(ctx context.Context, v viewport) error {
	ctx, cancel := context.WithTimeout(ctx, viewportSettle)
	defer cancel()
	expr := `new Promise(function (done) {
  var w = ` + strconv.Itoa(v.w) + `, h = ` + strconv.Itoa(v.h) + `, s = ` + strconv.FormatFloat(v.scale, 'g', -1, 64) + `;
  (function check() {
    if (innerWidth !== w || innerHeight !== h || devicePixelRatio !== s) return setTimeout(check, 1);
    requestAnimationFrame(function () { done(true); });
  })();
})`
	if err := tb.await(ctx, expr, 0); err != nil {
		return fmt.Errorf("wait for the page's viewport %dx%d at %v: %w", v.w, v.h, v.scale, err)
	}
	return nil
}

// settleHidden waits until the page the tab shows is hidden: the moment
// its visibilitychange event is dispatched. The prelude makes the page's
// own document say it is visible, so the state is read in a world of the
// page's frame that the page cannot reach.
func (tb *tab) settleHidden(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, viewportSettle)
	defer cancel()
	t := tb.target.Load()
	w, err := cdp.Call(ctx, t, cdppage.CreateIsolatedWorld, cdppage.CreateIsolatedWorldParams{
		FrameID: cdp.FrameID(t.TargetID), WorldName: "empplay-visibility",
	})
	if err != nil {
		return fmt.Errorf("wait for the page to be hidden: %w", err)
	}
	const expr = `new Promise(function (done) {
  (function check() {
    if (document.visibilityState === 'hidden') return done(true);
    setTimeout(check, 1);
  })();
})`
	if err := tb.await(ctx, expr, w.ExecutionContextID); err != nil {
		return fmt.Errorf("wait for the page to be hidden: %w", err)
	}
	return nil
}

// await evaluates expr, a promise of true, in execution context id (0:
// the page's own) and waits for it.
func (tb *tab) await(ctx context.Context, expr string, id runtime.ExecutionContextID) error {
	yes := true
	res, err := cdp.Call(ctx, tb.target.Load(), runtime.Evaluate, runtime.EvaluateParams{
		Expression: expr, ContextID: id, AwaitPromise: &yes, ReturnByValue: &yes,
	})
	switch {
	case err != nil:
		return err
	case res.ExceptionDetails != nil:
		return errors.New(res.ExceptionDetails.Text)
	}
	var ok bool
	if res.Result == nil || json.Unmarshal(res.Result.Value, &ok) != nil || !ok {
		return errors.New("no answer")
	}
	return nil
}
