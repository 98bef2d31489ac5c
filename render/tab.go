package render

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/inspector"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	cdptarget "github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay"
)

const (
	// openTimeout bounds making a browser context and its tab.
	openTimeout = 10 * time.Second
	// maxBlocked and maxBlockedURL keep error messages readable when a
	// sketch fires many (or huge) requests.
	maxBlocked    = 10
	maxBlockedURL = 200
)

// tab is one page of the browser. Each job's page is loaded at a fresh
// origin (see newOrigin), usually ahead of the job (see [Browser.prewarm]).
// Under [IsolateOrigin] the browser's tabs share one incognito browser
// context and are reused: after a job the tab leaves the job's page and
// the browser forgets the job's origin (see [Browser.park]). Under
// [IsolateContext] every tab has an incognito browser context of its own
// and is closed, context and all, after its one job.
type tab struct {
	in     *instance
	ctx    context.Context // the tab's chromedp context
	kill   context.CancelFunc
	target atomic.Pointer[chromedp.Target]
	page   atomic.Pointer[page] // set when a job takes the tab
	logger *slog.Logger

	reports chan string   // the prelude's one report
	crashed chan struct{} // the renderer process died
	// gone is set when the renderer process died: the tab is not reused.
	gone atomic.Bool
	// once marks a tab that is closed after its job rather than reused (a
	// video's, which adds a binding of its own).
	once bool

	assets *assetServer // serves p5.js (nil: p5 is fulfilled from memory)

	// warm is the p5 major version of the shell page (see warmPage) the
	// tab loaded ahead of its job, "" for a tab that has not navigated.
	warm string
	// window is the tab's own browser window, minimized while the tab
	// waits for a job (see show).
	window browser.WindowID

	mu      sync.Mutex
	origin  string                      // of the page the tab loads or shows, "" before the first
	blocked []string                    // the first maxBlocked, in order
	seen    map[string]bool             // every URL recorded
	held    []*fetch.EventRequestPaused // a shell's requests for job.js and the sketch
}

// openTab opens a tab in browser in (in the browser's shared context, or in
// a new incognito browser context of its own: see [Options.Isolation]),
// intercepting every request and with the prelude's binding in place,
// ready to navigate. ctx bounds the opening, not the tab's life.
func (b *Browser) openTab(ctx context.Context, in *instance) (*tab, error) {
	// The tab's life is bound to the browser, never to a job's context:
	// the tab must outlive a cancelled job long enough to be closed.
	life, kill := context.WithCancel(in.ctx)
	where := chromedp.WithNewBrowserContext()
	if in.shared != "" {
		// A window of its own, rather than another tab in the shared
		// context's window, so that it can be minimized on its own.
		yes := true
		res, err := cdp.Call(ctx, in.cdp, cdptarget.CreateTarget, cdptarget.CreateTargetParams{
			URL: "about:blank", BrowserContextID: in.shared, NewWindow: &yes,
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
	t := &tab{
		assets:  assets,
		in:      in,
		ctx:     tabCtx,
		kill:    kill,
		logger:  b.logger,
		reports: make(chan string, 1),
		crashed: make(chan struct{}, 1),
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	// chromedp binds the tab to the context of its first call, so that one
	// cannot carry the timeout: kill the tab instead if opening overruns.
	watchdog := context.AfterFunc(octx, kill)
	defer watchdog()

	err := chromedp.Listen(tabCtx, t.listen)
	if err == nil {
		target := chromedp.FromContext(tabCtx).Target
		t.target.Store(target)
		_, err = cdp.Call(octx, target, fetch.Enable, fetch.EnableParams{
			Patterns: []*fetch.RequestPattern{{URLPattern: "*", RequestStage: fetch.RequestStageRequest}},
		})
		if err == nil {
			_, err = cdp.Call(octx, target, runtime.AddBinding, runtime.AddBindingParams{Name: bindingName})
		}
		// chromedp enables the DOM, CSS and Log domains on every tab; the
		// renderer then reports every node, style sheet and console line
		// of the page, which costs it time and nobody reads. Best effort.
		if err == nil {
			_, _ = cdp.Call(octx, target, css.Disable, cdp.Empty{})
			_, _ = cdp.Call(octx, target, dom.Disable, cdp.Empty{})
			_, _ = cdp.Call(octx, target, cdplog.Disable, cdp.Empty{})
			// Likewise its lifecycle events (a dozen per navigation) and
			// target discovery (every navigation of every tab, to every
			// tab): chromedp needs neither for what we ask of it. Together
			// about 10% of the CPU of a job (BenchmarkCPUPerJob).
			_, _ = cdp.Call(octx, target, cdppage.SetLifecycleEventsEnabled, cdppage.SetLifecycleEventsEnabledParams{Enabled: false})
			_, _ = cdp.Call(octx, target, cdptarget.SetDiscoverTargets, cdptarget.SetDiscoverTargetsParams{Discover: false})
		}
		if err == nil {
			var w browser.GetWindowForTargetResult
			if w, err = cdp.Call(octx, in.cdp, browser.GetWindowForTarget, browser.GetWindowForTargetParams{TargetID: target.TargetID}); err == nil {
				t.window = w.WindowID
			}
		}
	}
	if err == nil && !watchdog() {
		err = fmt.Errorf("no answer within %v", openTimeout)
	}
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	in.addTab(t)
	return t, nil
}

// close closes the tab (and disposes of its browser context, storage and
// all, when it has its own) and waits for that.
func (t *tab) close() error {
	t.in.dropTab(t)
	err := chromedp.Cancel(t.ctx)
	t.kill()
	return err
}

// show restores the tab's window (visible true) before a job, or minimizes
// it while the tab waits for one. A minimized page is hidden, so the
// browser and GPU process stop producing its frames: a visible idle tab
// costs them about 5% of a core.
func (t *tab) show(ctx context.Context, visible bool) error {
	state := browser.WindowStateMinimized
	if visible {
		state = browser.WindowStateNormal
	}
	_, err := cdp.Call(ctx, t.in.cdp, browser.SetWindowBounds, browser.SetWindowBoundsParams{
		WindowID: t.window, Bounds: &browser.Bounds{WindowState: state},
	})
	if err != nil {
		return fmt.Errorf("set the window %s: %w", state, err)
	}
	return nil
}

// present shows the tab and sets its viewport to w x h CSS pixels at
// device scale factor scale, for a job's page.
func (t *tab) present(ctx context.Context, w, h int, scale float64) error {
	if err := t.show(ctx, true); err != nil {
		return err
	}
	if _, err := cdp.Call(ctx, t.target.Load(), emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: int64(w), Height: int64(h), DeviceScaleFactor: scale,
	}); err != nil {
		return fmt.Errorf("set the viewport: %w", err)
	}
	return nil
}

// stop stops whatever the page runs, an infinite loop included, so that it
// can be left or closed. It returns why the browser can no longer be
// trusted when that fails, else "".
func (t *tab) stop() string {
	ctx, cancel := context.WithTimeout(t.ctx, terminateTimeout)
	defer cancel()
	if _, err := cdp.Call(ctx, t.target.Load(), runtime.TerminateExecution, cdp.Empty{}); err != nil {
		return "could not stop a runaway page: " + err.Error()
	}
	return ""
}

// currentOrigin is the origin of the page the tab loads or shows.
func (t *tab) currentOrigin() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.origin
}

// load navigates the tab to pg at a fresh origin (see newOrigin) and
// returns once the navigation has committed.
func (t *tab) load(ctx context.Context, pg *page) error {
	o := newOrigin()
	t.mu.Lock()
	t.origin = o
	t.held = nil // a shell page's, which the navigation cancels
	t.mu.Unlock()
	select {
	case <-t.reports: // the page the tab leaves reported after all
	default:
	}
	t.page.Store(pg)
	return t.navigate(ctx, o+pg.path)
}

// usable reports whether t can take a job: its browser is in, it is open
// and its renderer lives.
func (t *tab) usable(in *instance) bool {
	return t.in == in && t.ctx.Err() == nil && !t.gone.Load()
}

// park makes a used tab of the shared browser context ready for another
// job (see [IsolateOrigin]): it leaves the job's page for the shell page of
// the p5 version the last job used, at a fresh origin (or for about:blank
// after a js job), so that nothing the page ran survives it (the
// back/forward cache is off); then it has the browser forget everything
// stored for the job's origin, closes any window the page opened, and
// resets the tab's history. When it fails the caller closes the tab.
func (b *Browser) park(t *tab) error {
	ctx, cancel := context.WithTimeout(t.ctx, openTimeout)
	defer cancel()
	old := t.currentOrigin()
	t.mu.Lock()
	t.held, t.blocked, t.seen = nil, nil, nil
	t.warm = ""
	t.mu.Unlock()
	b.mu.Lock()
	next := b.next
	b.mu.Unlock()
	if next != "" {
		if err := b.loadShell(ctx, t, next); err != nil {
			return err
		}
	} else {
		t.page.Store(nil)
		t.mu.Lock()
		t.origin = ""
		t.mu.Unlock()
		if err := t.navigate(ctx, "about:blank"); err != nil {
			return fmt.Errorf("leave the page: %w", err)
		}
	}
	// Whatever the old page did while it was being left is not the next
	// job's.
	t.mu.Lock()
	t.blocked, t.seen = nil, nil
	t.mu.Unlock()
	select {
	case <-t.reports:
	default:
	}
	target := t.target.Load()
	if old != "" {
		if _, err := cdp.Call(ctx, target, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{
			Origin: old, StorageTypes: "all",
		}); err != nil {
			return fmt.Errorf("clear the storage of %s: %w", old, err)
		}
	}
	if err := t.in.closeStrays(ctx); err != nil {
		return err
	}
	// The tab's history would tell the next page how many jobs it served,
	// and lead back to them. The command fails while the navigation is
	// still settling in, so try a few times.
	for i := 0; ; i++ {
		_, err := cdp.Call(ctx, target, cdppage.ResetNavigationHistory, cdp.Empty{})
		if err == nil {
			break
		}
		if i == 10 || ctx.Err() != nil {
			return fmt.Errorf("reset the history: %w", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return t.show(ctx, false)
}

// warmTab opens a tab and loads the shell page of p5 major version major
// in it (see warmPage): p5.js is parsed and run, and the page waits for its
// job's settings and sketch.
func (b *Browser) warmTab(ctx context.Context, in *instance, major string) (*tab, error) {
	t, err := b.idleTab(ctx, in)
	if err != nil {
		return nil, err
	}
	if t.warm == p5Major(major) {
		return t, nil // parked on that shell page
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	err = b.loadShell(octx, t, major)
	if err == nil {
		err = t.show(octx, false)
	}
	if err != nil {
		_ = t.close()
		return nil, err
	}
	return t, nil
}

// loadShell loads the shell page of p5 major version major into t, at a
// fresh origin.
func (b *Browser) loadShell(ctx context.Context, t *tab, major string) error {
	p5, err := b.p5.P5(major)
	if err != nil {
		return err
	}
	if err := t.load(ctx, warmPage(major, p5)); err != nil {
		return fmt.Errorf("load the p5 %s page: %w", major, err)
	}
	t.warm = p5Major(major)
	return nil
}

// navigate loads url in the tab and returns once the navigation has
// committed.
func (t *tab) navigate(ctx context.Context, url string) error {
	nav, err := cdp.Call(ctx, t.target.Load(), cdppage.Navigate, cdppage.NavigateParams{URL: url})
	if err == nil && nav.ErrorText != "" {
		err = errors.New(nav.ErrorText)
	}
	return err
}

// hold keeps a shell page's request for job.js or the sketch until the
// job's page takes the tab over (see adopt); it reports whether it did.
func (t *tab) hold(ev *fetch.EventRequestPaused) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u := ev.Request.URL; u != t.origin+jobPath && u != t.origin+sketchPath {
		return false
	}
	if pg := t.page.Load(); pg == nil || !pg.shell {
		return false
	}
	t.held = append(t.held, ev)
	return true
}

// adopt gives a tab whose shell page is loaded (or loading) its job's
// page, and answers the requests the shell held from it: job.js starts
// the prelude with the job's settings, then the sketch runs.
func (t *tab) adopt(pg *page) {
	t.mu.Lock()
	t.page.Store(pg)
	held := t.held
	t.held = nil
	t.mu.Unlock()
	for _, ev := range held {
		go t.serve(ev)
	}
}

// prewarm prepares the tab for the next job while the caller uploads this
// one's output: opening one costs a new browser context, a renderer and a
// dozen DevTools round trips, and loading p5 into it as much again, and
// none of it depends on the job. The tab loads the shell page of the p5
// version the last job used, or stays blank after a js job.
func (b *Browser) prewarm(in *instance) {
	b.mu.Lock()
	skip := b.closed || b.cur != in || b.spare != nil || b.jobs >= b.opts.RecycleAfter
	next := b.next
	b.mu.Unlock()
	if skip || !in.alive() {
		return
	}
	var t *tab
	var err error
	if next != "" {
		t, err = b.warmTab(context.Background(), in, next)
	} else {
		t, err = b.idleTab(context.Background(), in)
	}
	if err != nil {
		b.logger.Debug("prewarm a tab", "err", err)
		return
	}
	b.mu.Lock()
	keep := !b.closed && b.cur == in && b.spare == nil
	if keep {
		b.spare = t
	}
	b.mu.Unlock()
	if !keep {
		_ = t.close()
	}
}

// takeWarm returns the prewarmed tab of browser in when it is live and
// loaded the shell page of p5 major version major ("" for a blank tab),
// else a tab that the job's page must be loaded into: the prewarmed one
// all the same (it loaded nothing of any job), an idle one or a new one.
func (b *Browser) takeWarm(ctx context.Context, in *instance, major string) (*tab, error) {
	b.mu.Lock()
	t := b.spare
	b.spare = nil
	b.mu.Unlock()
	if t != nil {
		if t.usable(in) {
			if t.warm != major || len(t.reports) > 0 {
				// Another p5 version, or a shell page that reported
				// before its job (p5.js failed to load): load the job's
				// page afresh.
				t.warm = ""
			}
			return t, nil
		}
		b.background(func() { _ = t.close() })
	}
	return b.idleTab(ctx, in)
}

// idleTab returns a parked tab of browser in (see park), or a new one.
func (b *Browser) idleTab(ctx context.Context, in *instance) (*tab, error) {
	for {
		t := in.takeIdle()
		if t == nil {
			return b.openTab(ctx, in)
		}
		if t.usable(in) {
			return t, nil
		}
		_ = t.close()
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

// settle waits for all background work.
func (b *Browser) settle(ctx context.Context) error {
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
// recycles the browser when it is due and prewarms the next tab (unless
// Render already did), so that neither costs the next job anything if the
// caller has other work first.
func (b *Browser) finish(t *tab, broken string) {
	b.background(func() {
		if broken != "" {
			b.discard(t.in, broken)
			return
		}
		start := time.Now()
		reuse := t.in.shared != "" && !t.once && t.usable(t.in)
		if reuse {
			if err := b.park(t); err != nil {
				t.logger.Debug("park a tab", "err", err)
				reuse = false
			}
		}
		if !reuse {
			if err := t.close(); err != nil {
				b.discard(t.in, "closing a page failed: "+err.Error())
				return
			}
		} else if !t.in.putIdle(t) {
			_ = t.close()
		}
		t.logger.Debug("tab done", "parked", reuse, "duration_ms", time.Since(start).Milliseconds())
		if err := b.healthy(t.in); err != nil {
			b.discard(t.in, "health check failed: "+err.Error())
			return
		}
		mem := b.memory(t.in)
		b.mu.Lock()
		due := b.cur == t.in && !b.closed && (b.jobs >= b.opts.RecycleAfter || mem > b.opts.RecycleMemory)
		b.mu.Unlock()
		in := t.in
		if due && mem > b.opts.RecycleMemory {
			b.mu.Lock()
			b.recycle = fmt.Sprintf("memory %d MiB over %d MiB", mem>>20, b.opts.RecycleMemory>>20)
			b.mu.Unlock()
		}
		if due {
			var err error
			if in, err = b.ensure(context.Background(), false); err != nil {
				if !errors.Is(err, ErrClosed) {
					b.logger.Warn("recycling chromium", "err", err)
				}
				return
			}
		}
		b.prewarm(in)
	})
}

// listen runs on chromedp's event loop: it must not block or send
// commands itself.
func (t *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		go t.serve(ev)
	case *runtime.EventBindingCalled:
		if ev.Name == bindingName {
			select {
			case t.reports <- ev.Payload:
			default:
			}
		}
	case *network.EventRequestWillBeSent:
		// Requests the browser refuses before Fetch sees them (mixed
		// content from this https page, for one) only show up here.
		t.attempt(ev.Request.Method, ev.Request.URL)
	case *network.EventWebSocketCreated:
		t.attempt("", ev.URL)
	case *inspector.EventTargetCrashed:
		t.gone.Store(true)
		select {
		case t.crashed <- struct{}{}:
		default:
		}
	}
}

// serve answers one intercepted request: the page's own URLs from memory,
// everything else fails as blocked by the client, so nothing leaves the
// browser.
func (t *tab) serve(ev *fetch.EventRequestPaused) {
	if t.hold(ev) {
		return
	}
	target, pg := t.target.Load(), t.page.Load()
	url, origin := ev.Request.URL, t.currentOrigin()
	var err error
	switch r, ok := pg.resource(origin, url); {
	case target == nil:
		return
	case url == origin+faviconPath:
		// The browser's own request, not the sketch's.
		_, err = cdp.Call(t.ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID: ev.RequestID, ResponseCode: 404,
		})
	case ok && ev.Request.Method == "GET" && t.assets.url(url) != "":
		// p5.js: from the asset server, without its megabyte going
		// through the DevTools protocol.
		_, err = cdp.Call(t.ctx, target, fetch.ContinueRequest, fetch.ContinueRequestParams{
			RequestID: ev.RequestID, URL: t.assets.url(url),
		})
	case ok && ev.Request.Method == "GET":
		headers := []*fetch.HeaderEntry{
			{Name: "Content-Type", Value: r.mime},
			{Name: "Cache-Control", Value: "no-store"},
		}
		if strings.HasPrefix(url, assetOrigin+"/") {
			// p5.js, loaded with CORS (see p5Tag).
			headers = append(headers, &fetch.HeaderEntry{Name: "Access-Control-Allow-Origin", Value: "*"})
		}
		_, err = cdp.Call(t.ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:       ev.RequestID,
			ResponseCode:    200,
			ResponseHeaders: headers,
			Body:            r.body,
		})
	default:
		if strings.HasPrefix(url, assetOrigin+"/") {
			t.logger.Debug("p5.js request refused", "url", url, "page", pg != nil, "origin", origin)
		}
		t.attempt(ev.Request.Method, url)
		_, err = cdp.Call(t.ctx, target, fetch.FailRequest, fetch.FailRequestParams{
			RequestID:   ev.RequestID,
			ErrorReason: network.ErrorReasonBlockedByClient,
		})
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		t.logger.Debug("answer an intercepted request", "url", url, "err", err)
	}
}

// attempt records a request the page made to anything but its own
// resources. Every such request fails.
func (t *tab) attempt(method, url string) {
	origin := t.currentOrigin()
	switch {
	case strings.HasPrefix(url, "data:"), strings.HasPrefix(url, "blob:"), url == "about:blank":
		return // no request at all
	case url == origin+faviconPath || url == origin+jobPath || url == origin+sketchPath:
		// The browser's own request, or the page's own scripts, requested
		// by a shell page before its job's page is in place.
		return
	case pageOrigin.MatchString(url) && url != origin && !strings.HasPrefix(url, origin+"/"),
		strings.HasPrefix(url, assetOrigin+"/"):
		// A request of a page the tab has left, still in flight (p5.js of
		// another version, say).
		return
	}
	if _, ok := t.page.Load().resource(origin, url); ok && (method == "GET" || method == "") {
		return
	}
	if len(url) > maxBlockedURL {
		url = url[:maxBlockedURL] + "..."
	}
	if method != "GET" && method != "" {
		url = method + " " + url
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.seen[url] {
		return
	}
	if t.seen == nil {
		t.seen = make(map[string]bool)
	}
	t.seen[url] = true
	if len(t.blocked) < maxBlocked {
		t.blocked = append(t.blocked, url)
	}
}

// blockedAny reports whether the page made a request that was blocked.
func (t *tab) blockedAny() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.seen) > 0
}

// failure is a permanent failure of the job with code, or with
// network_blocked when the page made requests that were blocked: a sketch
// that fails after one most likely failed because of it. The message
// lists them (see explain).
func (t *tab) failure(code empplay.Code, msg string) error {
	if t.blockedAny() {
		code = empplay.CodeNetworkBlocked
		msg = "network blocked: " + msg
	}
	return empplay.Errorf(code, "%s", t.explain(msg))
}

// explain adds the blocked requests, if any, to an error message: a sketch
// that waits for a file it cannot get fails or times out, and the URL is
// what its author needs to see.
func (t *tab) explain(msg string) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.seen) == 0 {
		return msg
	}
	list := strings.Join(t.blocked, ", ")
	if more := len(t.seen) - len(t.blocked); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return msg + "; sketches run without network access, and these requests were blocked: " + list
}
