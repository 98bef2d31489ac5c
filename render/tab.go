package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/fetch"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	cdptarget "github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// openTimeout bounds making a browser context and its tab.
const openTimeout = 10 * time.Second

// tab is one page of the browser. Each job's page is loaded at a fresh
// origin (see newOrigin), usually ahead of the job (see [Browser.prewarm]).
// Under [IsolateOrigin] the browser's tabs share one incognito browser
// context and are reused: after a job the tab leaves the job's page and
// the browser forgets the job's origin (see [Browser.park]). Under
// [IsolateContext] every tab has an incognito browser context of its own
// and is closed, context and all, after its one job.
type tab struct {
	inst   *instance
	ctx    context.Context // the tab's chromedp context
	kill   context.CancelFunc
	target atomic.Pointer[chromedp.Target]
	page   atomic.Pointer[page] // set when a job takes the tab
	logger *slog.Logger

	reports chan string   // the prelude's one report
	crashed chan struct{} // the renderer process died
	// crashInfo receives the browser's termination status of the crashed
	// renderer (see instance.targetCrashed).
	crashInfo chan string
	// code receives the compilation cache of p5.js a primer page produced
	// (see primeP5).
	code chan []byte
	// committed is the URL of the last document the tab's main frame
	// committed (Page.frameNavigated), and navigated is signalled at each
	// (see resetHistory).
	committed atomic.Pointer[string]
	navigated chan struct{}
	// gone is set when the renderer process died: the tab is not reused.
	gone atomic.Bool
	// mainWorld is the default execution context of the tab's main frame,
	// the document's own JavaScript, where the prelude runs; nil while
	// none is known. Only calls of the bindings from it are heard (see
	// fromMainWorld). listen keeps it, in the order of the target's
	// events: a context's creation comes before any call from it.
	mainWorld atomic.Pointer[execContext]
	// singleUse marks a tab that is closed after its job rather than reused (a
	// video's, which adds a binding of its own).
	singleUse bool

	assets *assetServer // serves p5.js (nil: p5 is fulfilled from memory)

	// warm is the p5 major version of the shell page (see warmPage) the
	// tab loaded ahead of its job, "" for a tab that has not navigated.
	warm string
	// window is the tab's own browser window, minimized while the tab
	// waits for a job, and while a p5 sketch on the virtual clock renders
	// (see show).
	window browser.WindowID
	// shown is the window's state as show last left it: windowUnknown
	// (before the first show, and after a failed one), windowMinimized or
	// windowRestored.
	shown atomic.Int32
	// viewport is the device metrics present last set (the override
	// stays with the tab across its navigations), zero before the first
	// and after a failed one. Only the job's goroutine touches it.
	viewport viewport

	mu      sync.Mutex
	origin  string                      // of the page the tab loads or shows, "" before the first
	blocked []string                    // the first maxBlocked, in order
	seen    map[string]bool             // the first maxSeen distinct URLs recorded
	unseen  int                         // refused requests past maxSeen, not told apart
	held    []*fetch.EventRequestPaused // a shell's requests for job.js and the sketch
	parts   reportParts                 // what the page sent ahead of its report
	loads   loadTracker                 // a js page's loads in flight
	// serving counts the intercepted requests the worker is answering.
	serving atomic.Int32
}

// openTab opens a tab in browser in (in the browser's shared context, or in
// a new incognito browser context of its own: see [Options.Isolation]),
// intercepting every request and with the prelude's binding in place,
// ready to navigate. ctx bounds the opening, not the tab's life.
func (b *Browser) openTab(ctx context.Context, inst *instance) (*tab, error) {
	// The tab's life is bound to the browser, never to a job's context:
	// the tab must outlive a cancelled job long enough to be closed.
	life, kill := context.WithCancel(inst.ctx)
	where := chromedp.WithNewBrowserContext()
	if inst.shared != "" {
		// Until the tab is among the browser's, closeStrays would take it
		// for a window a page opened.
		inst.opening.Lock()
		defer inst.opening.Unlock()
		// A window of its own, rather than another tab in the shared
		// context's window, so that it can be minimized on its own.
		yes := true
		res, err := cdp.Call(ctx, inst.cdp, cdptarget.CreateTarget, cdptarget.CreateTargetParams{
			URL: "about:blank", BrowserContextID: inst.shared, NewWindow: &yes,
		})
		if err != nil {
			kill()
			return nil, fmt.Errorf("open a tab: %w", err)
		}
		where = chromedp.WithTargetID(res.TargetID)
	}
	tabCtx, _ := chromedp.NewContext(life, where)
	b.mu.Lock()
	assets := b.assets
	b.mu.Unlock()
	tb := &tab{
		assets:    assets,
		inst:      inst,
		ctx:       tabCtx,
		kill:      kill,
		logger:    b.logger,
		reports:   make(chan string, 1),
		crashed:   make(chan struct{}, 1),
		crashInfo: make(chan string, 1),
		code:      make(chan []byte, 1),
		navigated: make(chan struct{}, 1),
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	// chromedp binds the tab to the context of its first call, so that one
	// cannot carry the timeout: kill the tab instead if opening overruns.
	watchdog := context.AfterFunc(octx, kill)
	defer watchdog()

	err := chromedp.Listen(tabCtx, tb.listen)
	if err == nil {
		target := chromedp.FromContext(tabCtx).Target
		tb.target.Store(target)
		_, err = cdp.Call(octx, target, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}},
		})
		if err == nil {
			_, err = cdp.Call(octx, target, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName})
		}
		if err == nil {
			// Mixed content (an http:// request of this https page) is
			// refused before the Fetch interception; its issue names it.
			_, err = cdp.Call(octx, target, audits.Enable, cdp.Empty{})
		}
		// chromedp enables the DOM, CSS and Log domains on every tab; the
		// renderer then reports every node, style sheet and console line
		// of the page, which costs it time and nobody reads. Best effort.
		if err == nil {
			_, _ = cdp.Call(octx, target, css.Disable, cdp.Empty{})
			_, _ = cdp.Call(octx, target, dom.Disable, cdp.Empty{})
			_, _ = cdp.Call(octx, target, cdplog.Disable, cdp.Empty{})
			// And the Network domain: half a dozen events for every
			// request, built in the renderer and the browser, about 10 ms
			// of CPU a job (docs/rendering.md). What it told us, the
			// requests refused before the Fetch interception sees them,
			// comes from the Audits domain (mixed content, see listen)
			// and from the prelude (WebSocket).
			_, _ = cdp.Call(octx, target, network.Disable, cdp.Empty{})
			// Likewise its lifecycle events (a dozen per navigation) and
			// target discovery (every navigation of every tab, to every
			// tab): chromedp needs neither for what we ask of it. Together
			// about 10% of the CPU of a job (BenchmarkCPUPerJob).
			_, _ = cdp.Call(octx, target, cdppage.SetLifecycleEventsEnabled, cdppage.SetLifecycleEventsEnabledParams{Enabled: false})
			_, _ = cdp.Call(octx, target, cdptarget.SetDiscoverTargets, cdptarget.SetDiscoverTargetsParams{Discover: false})
		}
		if err == nil {
			var w browser.GetWindowForTargetResult
			if w, err = cdp.Call(octx, inst.cdp, browser.GetWindowForTarget, browser.GetWindowForTargetParams{TargetID: target.TargetID}); err == nil {
				tb.window = w.WindowID
			}
		}
	}
	if err == nil && !watchdog() {
		err = fmt.Errorf("no answer within %v", openTimeout)
	}
	if err != nil {
		_ = tb.close()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	inst.addTab(tb)
	return tb, nil
}

// close closes the tab (and disposes of its browser context, storage and
// all, when it has its own) and waits for that.
func (tb *tab) close() error {
	tb.inst.dropTab(tb)
	err := chromedp.Cancel(tb.ctx)
	tb.kill()
	return err
}

// show restores the tab's window (visible true) before a job that needs
// its frames, or minimizes it. A minimized page is hidden, so the browser,
// its compositor and the GPU process produce no frames of it: a visible
// idle tab costs them about 5% of a core, and a p5 sketch on the virtual
// clock, whose canvas is read rather than looked at, needs none (see
// present). A window already in the state asked for is left alone.
func (tb *tab) show(ctx context.Context, visible bool) error {
	state, want := browser.WindowStateMinimized, int32(windowMinimized)
	if visible {
		state, want = browser.WindowStateNormal, windowRestored
	}
	if tb.shown.Load() == want {
		return nil
	}
	_, err := cdp.Call(ctx, tb.inst.cdp, browser.SetWindowBounds, browser.SetWindowBoundsParams{
		WindowID: tb.window, Bounds: &browser.Bounds{WindowState: state},
	})
	if err != nil {
		tb.shown.Store(windowUnknown)
		return fmt.Errorf("set the window %s: %w", state, err)
	}
	tb.shown.Store(want)
	return nil
}

// The states of a tab's window, as show knows them.
const (
	windowUnknown = iota
	windowMinimized
	windowRestored
)

// stop stops whatever the page runs, an infinite loop included, so that it
// can be left or closed. It returns why the browser can no longer be
// trusted when that fails, else nil.
func (tb *tab) stop() error {
	ctx, cancel := context.WithTimeout(tb.ctx, terminateTimeout)
	defer cancel()
	if _, err := cdp.Call(ctx, tb.target.Load(), runtime.TerminateExecution, cdp.Empty{}); err != nil {
		return fmt.Errorf("could not stop a runaway page: %w", err)
	}
	return nil
}

// currentOrigin is the origin of the page the tab loads or shows.
func (tb *tab) currentOrigin() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return tb.origin
}

// load navigates the tab to pg at a fresh origin (see newOrigin) and
// returns once the browser has answered the navigation (see navigate).
func (tb *tab) load(ctx context.Context, pg *page) error {
	o := newOrigin()
	tb.mu.Lock()
	tb.origin = o
	tb.held = nil // a shell page's, which the navigation cancels
	tb.mu.Unlock()
	select {
	case <-tb.reports: // the page the tab leaves reported after all
	default:
	}
	tb.page.Store(pg)
	return tb.navigate(ctx, o+pg.path)
}

// usable reports whether t can take a job: its browser is in, it is open
// and its renderer lives.
func (tb *tab) usable(inst *instance) bool {
	return tb.inst == inst && tb.ctx.Err() == nil && !tb.gone.Load()
}

// navigate loads url in the tab and returns once the browser has answered
// Page.navigate, which it does when the new document is on its way: the
// page that was there is taken down a little later (Page.frameNavigated
// comes tens of milliseconds after the answer), and its exit handlers run
// after that.
func (tb *tab) navigate(ctx context.Context, url string) error {
	nav, err := cdp.Call(ctx, tb.target.Load(), cdppage.Navigate, cdppage.NavigateParams{URL: url})
	if err == nil && nav.ErrorText != "" {
		err = errors.New(nav.ErrorText)
	}
	return err
}

// adopt gives a tab whose shell page is loaded (or loading) its job's
// page, and answers the requests the shell held from it: job.js starts
// the prelude with the job's settings, then the sketch runs.
func (tb *tab) adopt(pg *page) {
	tb.mu.Lock()
	tb.page.Store(pg)
	held := tb.held
	tb.held = nil
	tb.mu.Unlock()
	for _, ev := range held {
		go tb.serve(ev)
	}
}
