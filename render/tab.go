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
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
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

	mu      sync.Mutex
	blocked []string        // the first maxBlocked, in order
	seen    map[string]bool // every URL recorded
}

// openTab makes a new incognito browser context with one tab in browser
// in, intercepting every request and with the prelude's binding in place,
// ready to navigate. ctx bounds the opening, not the tab's life.
func (b *Browser) openTab(ctx context.Context, in *instance) (*tab, error) {
	// The tab's life is bound to the browser, never to a job's context:
	// the tab must outlive a cancelled job long enough to be closed.
	life, kill := context.WithCancel(in.ctx)
	tabCtx, _ := chromedp.NewContext(life, chromedp.WithNewBrowserContext())
	t := &tab{
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

// prewarm opens the tab for the next job while the caller uploads this
// one's output: opening one costs a new browser context, a renderer and a
// dozen DevTools round trips, and none of it depends on the job.
func (b *Browser) prewarm(in *instance) {
	b.mu.Lock()
	skip := b.closed || b.cur != in || b.spare != nil || b.jobs >= b.opts.RecycleAfter
	b.mu.Unlock()
	if skip || !in.alive() {
		return
	}
	t, err := b.openTab(context.Background(), in)
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

// takeTab returns the prewarmed tab of browser in when there is a live
// one, else opens a new tab.
func (b *Browser) takeTab(ctx context.Context, in *instance) (*tab, error) {
	b.mu.Lock()
	t := b.spare
	b.spare = nil
	b.mu.Unlock()
	if t != nil {
		if t.in == in && t.ctx.Err() == nil {
			return t, nil
		}
		_ = t.close()
	}
	return b.openTab(ctx, in)
}

// background runs the cleanup of a job (and the preparation of the next)
// after Render has returned. The next Render, and Close, wait for it.
func (b *Browser) background(f func()) {
	done := make(chan struct{})
	b.mu.Lock()
	b.bg = done
	b.mu.Unlock()
	go func() {
		defer close(done)
		f()
	}()
}

// settle waits for the previous job's background work.
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
// recycles the browser when it is due and prewarms the next tab, so that
// neither costs the next job anything if the caller has other work first.
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
		b.mu.Lock()
		due := b.cur == t.in && b.jobs >= b.opts.RecycleAfter && !b.closed
		b.mu.Unlock()
		in := t.in
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
	if url == faviconURL || strings.HasPrefix(url, "data:") || strings.HasPrefix(url, "blob:") {
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
