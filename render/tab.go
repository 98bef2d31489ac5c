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

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/inspector"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
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

// tab is one page in its own incognito browser context, used for exactly
// one job. It is opened ahead of the job when the browser is idle (see
// [Browser.prewarm]) and closed, with its browser context, after it.
type tab struct {
	in     *instance
	ctx    context.Context // the tab's chromedp context
	kill   context.CancelFunc
	target atomic.Pointer[chromedp.Target]
	page   atomic.Pointer[page] // set when a job takes the tab
	logger *slog.Logger

	reports chan string   // the prelude's one report
	crashed chan struct{} // the renderer process died

	assets *assetServer // serves p5.js (nil: p5 is fulfilled from memory)

	// warm is the p5 major version of the shell page (see warmPage) the
	// tab loaded ahead of its job, "" for a tab that has not navigated.
	warm string

	mu      sync.Mutex
	blocked []string                    // the first maxBlocked, in order
	seen    map[string]bool             // every URL recorded
	held    []*fetch.EventRequestPaused // a shell's requests for job.js and the sketch
}

// openTab makes a new incognito browser context with one tab in browser
// in, intercepting every request and with the prelude's binding in place,
// ready to navigate. ctx bounds the opening, not the tab's life.
func (b *Browser) openTab(ctx context.Context, in *instance) (*tab, error) {
	// The tab's life is bound to the browser, never to a job's context:
	// the tab must outlive a cancelled job long enough to be closed.
	life, kill := context.WithCancel(in.ctx)
	tabCtx, _ := chromedp.NewContext(life, chromedp.WithNewBrowserContext())
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
		}
	}
	if err == nil && !watchdog() {
		err = fmt.Errorf("no answer within %v", openTimeout)
	}
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("open a tab: %w", err)
	}
	return t, nil
}

// close closes the tab and disposes of its browser context, storage and
// all, and waits for that.
func (t *tab) close() error {
	err := chromedp.Cancel(t.ctx)
	t.kill()
	return err
}

// warmTab opens a tab and loads the shell page of p5 major version major
// in it (see warmPage): p5.js is parsed and run, and the page waits for its
// job's settings and sketch.
func (b *Browser) warmTab(ctx context.Context, in *instance, major string) (*tab, error) {
	p5, err := b.p5.P5(major)
	if err != nil {
		return nil, err
	}
	t, err := b.openTab(ctx, in)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	pg := warmPage(major, p5)
	t.page.Store(pg)
	t.warm = pg.major
	err = t.navigate(octx, pg.url)
	if err != nil {
		_ = t.close()
		return nil, fmt.Errorf("load the p5 %s page: %w", major, err)
	}
	return t, nil
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
	if u := ev.Request.URL; u != jobURL && u != sketchURL {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
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
		t, err = b.openTab(context.Background(), in)
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
// else a new blank tab.
func (b *Browser) takeWarm(ctx context.Context, in *instance, major string) (*tab, error) {
	b.mu.Lock()
	t := b.spare
	b.spare = nil
	b.mu.Unlock()
	if t != nil {
		if t.in == in && t.ctx.Err() == nil && t.warm == major {
			return t, nil
		}
		b.background(func() { _ = t.close() })
	}
	return b.openTab(ctx, in)
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
		if err := t.close(); err != nil {
			b.discard(t.in, "closing a page failed: "+err.Error())
			return
		}
		t.logger.Debug("tab closed", "duration_ms", time.Since(start).Milliseconds())
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
	url := ev.Request.URL
	var err error
	switch r, ok := pg.resource(url); {
	case target == nil:
		return
	case url == faviconURL:
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
		_, err = cdp.Call(t.ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:    ev.RequestID,
			ResponseCode: 200,
			ResponseHeaders: []*fetch.HeaderEntry{
				{Name: "Content-Type", Value: r.mime},
				{Name: "Cache-Control", Value: "no-store"},
			},
			Body: r.body,
		})
	default:
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
	if url == faviconURL || url == jobURL || url == sketchURL || strings.HasPrefix(url, "data:") || strings.HasPrefix(url, "blob:") {
		// The browser's own request, or the page's own scripts, requested
		// by a shell page before its job's page is in place.
		return
	}
	if _, ok := t.page.Load().resource(url); ok && (method == "GET" || method == "") {
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
