// This file is the request interception of a tab: what a page may load, and the record of what it was refused.

package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/audits"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/inspector"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay"
)

const (
	// maxBlocked and maxBlockedURL keep error messages readable when a
	// sketch fires many (or huge) requests.
	maxBlocked    = 10
	maxBlockedURL = 200
)

// hold keeps a shell page's request for job.js or the sketch until the
// job's page takes the tab over (see adopt); it reports whether it did.
func (tb *tab) hold(ev *fetch.EventRequestPaused) bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if u := ev.Request.URL; u != tb.origin+jobPath && u != tb.origin+sketchPath {
		return false
	}
	if pg := tb.page.Load(); pg == nil || !pg.shell {
		return false
	}
	tb.held = append(tb.held, ev)
	return true
}

// listen runs on chromedp's event loop: it must not block or send
// commands itself.
func (tb *tab) listen(ev any) {
	switch ev := ev.(type) {
	case *fetch.EventRequestPaused:
		go tb.serve(ev)
	case *runtime.EventExecutionContextCreated, *runtime.EventExecutionContextDestroyed, *runtime.EventExecutionContextsCleared:
		tb.trackContexts(ev)
	case *runtime.EventBindingCalled:
		if ev.Name != bindingName || !tb.fromMainWorld(ev) {
			break
		}
		if strings.HasPrefix(ev.Payload, partMark) {
			tb.addPart(ev.Payload)
			break
		}
		header, parts, ok := tb.fromCurrentPage(ev.Payload)
		if !ok {
			break
		}
		if url, ok := socketAttempt(ev.Payload); ok {
			// The prelude's word of a WebSocket, which the Fetch
			// interception does not see (see prelude.js).
			tb.attempt("", url)
			break
		}
		select {
		case tb.reports <- tb.withParts(ev.Payload, header, parts):
		default:
		}
	case *audits.EventIssueAdded:
		// Requests the browser refuses before Fetch sees them: mixed
		// content from this https page.
		if d := ev.Issue.Details; d != nil && d.MixedContentIssueDetails != nil {
			tb.attempt("", d.MixedContentIssueDetails.InsecureURL)
		}
	case *network.EventRequestWillBeSent, *network.EventDataReceived, *network.EventLoadingFinished, *network.EventLoadingFailed:
		tb.loadEvent(ev)
	case *cdppage.EventCompilationCacheProduced:
		tb.compiled(ev)
	case *cdppage.EventFrameNavigated:
		if ev.Frame != nil && ev.Frame.ParentID == "" {
			url := ev.Frame.URL
			tb.committed.Store(&url)
			select {
			case tb.navigated <- struct{}{}:
			default:
			}
		}
	case *inspector.EventTargetCrashed:
		tb.gone.Store(true)
		select {
		case tb.crashed <- struct{}{}:
		default:
		}
	}
}

// answerTimeout bounds each DevTools command that answers an intercepted
// request.
const answerTimeout = 10 * time.Second

// serve answers one intercepted request: the page's own URLs from memory,
// everything else fails as blocked by the client, so nothing leaves the
// browser.
func (tb *tab) serve(ev *fetch.EventRequestPaused) {
	if tb.hold(ev) {
		return
	}
	tb.serving.Add(1)
	defer tb.serving.Add(-1)
	target, pg := tb.target.Load(), tb.page.Load()
	// A command the browser does not answer must not hold this goroutine
	// (and the request's body) for the tab's whole life.
	ctx, cancel := context.WithTimeout(tb.ctx, answerTimeout)
	defer cancel()
	url, origin := ev.Request.URL, tb.currentOrigin()
	r, ok := pg.resource(origin, url)
	src := "" // the declared file the request is for, if any
	if pg != nil && ev.Request.Method == "GET" && !ok {
		src = pg.assetSource(origin, url)
	}
	// A file declared under a full URL is the page's to load, not a page
	// to go to: a frame or the tab at that origin would keep storage
	// there, which the cleanup (of the job's own origin) leaves to the
	// next job, and a frame of another site is outside this interception.
	goesAway := src != "" && ev.ResourceType == network.ResourceTypeDocument && !strings.HasPrefix(url, origin+"/")
	var err error
	switch {
	case target == nil:
		return
	case url == origin+faviconPath:
		// The browser's own request, not the sketch's.
		_, err = cdp.Call(ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID: ev.RequestID, ResponseCode: 404,
		})
	case ok && ev.Request.Method == "GET" && tb.assets.url(url) != "":
		// p5.js: from the asset server, without its megabyte going
		// through the DevTools protocol, and compiled from the browser's
		// cache (see primeP5).
		if err := tb.p5Script(ctx, url); err != nil {
			tb.logger.Debug("p5.js compilation cache", "err", err)
		}
		_, err = cdp.Call(ctx, target, fetch.ContinueRequest, fetch.ContinueRequestParams{
			RequestID: ev.RequestID, URL: tb.assets.url(url),
		})
	case src != "" && !goesAway:
		err = tb.serveAsset(target, ev, pg, src)
	case ok && ev.Request.Method == "GET":
		headers := []*fetch.HeaderEntry{
			{Name: "Content-Type", Value: r.mime},
			{Name: "Cache-Control", Value: "no-store"},
		}
		if strings.HasPrefix(url, assetOrigin+"/") {
			// p5.js, loaded with CORS (see p5Tag).
			headers = append(headers, &fetch.HeaderEntry{Name: "Access-Control-Allow-Origin", Value: "*"})
		}
		_, err = cdp.Call(ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
			RequestID:       ev.RequestID,
			ResponseCode:    200,
			ResponseHeaders: headers,
			Body:            tb.inst.binary(r.body),
		})
	default:
		if strings.HasPrefix(url, assetOrigin+"/") {
			tb.logger.Debug("p5.js request refused", "url", url, "page", pg != nil, "origin", origin)
		}
		if goesAway {
			tb.record("GET", url) // attempt passes over declared files
		} else {
			tb.attempt(ev.Request.Method, url)
		}
		_, err = cdp.Call(ctx, target, fetch.FailRequest, fetch.FailRequestParams{
			RequestID:   ev.RequestID,
			ErrorReason: network.ErrorReasonBlockedByClient,
		})
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		tb.logger.Debug("answer an intercepted request", "url", url, "err", err)
	}
}

// attempt records a request the page made to anything but its own
// resources. Every such request fails.
func (tb *tab) attempt(method, url string) {
	origin := tb.currentOrigin()
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
	if _, ok := tb.page.Load().resource(origin, url); ok && (method == "GET" || method == "") {
		return
	}
	if tb.page.Load().assetSource(origin, url) != "" && (method == "GET" || method == "") {
		return
	}
	tb.record(method, url)
}

// record adds a refused request to the job's record of them.
func (tb *tab) record(method, url string) {
	if len(url) > maxBlockedURL {
		url = url[:maxBlockedURL] + "..."
	}
	if method != "GET" && method != "" {
		url = method + " " + url
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if tb.seen[url] {
		return
	}
	if len(tb.seen) >= maxSeen {
		// A page that makes requests without end: count them, keep none.
		tb.unseen++
		return
	}
	if tb.seen == nil {
		tb.seen = make(map[string]bool)
	}
	tb.seen[url] = true
	if len(tb.blocked) < maxBlocked {
		tb.blocked = append(tb.blocked, url)
	}
}

// blockedAny reports whether the page made a request that was blocked.
func (tb *tab) blockedAny() bool {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return len(tb.seen) > 0
}

// failure is a permanent failure of the job with code, or with
// network_blocked when the page made requests that were blocked: a sketch
// that fails after one most likely failed because of it. The message
// lists them (see explain).
func (tb *tab) failure(code empplay.Code, msg string) error {
	if err := tb.page.Load().assetErr(); err != nil {
		return err
	}
	if tb.blockedAny() {
		code = empplay.CodeNetworkBlocked
		msg = "network blocked: " + msg
	}
	return empplay.Errorf(code, "%s", tb.explain(msg))
}

// explain adds the blocked requests, if any, to an error message: a sketch
// that waits for a file it cannot get fails or times out, and the URL is
// what its author needs to see.
func (tb *tab) explain(msg string) string {
	list := tb.blockedList()
	if list == "" {
		return msg
	}
	return msg + "; sketches run without network access, and these requests were blocked: " + list
}

// blockedList is the requests blocked so far, "" when none.
func (tb *tab) blockedList() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if len(tb.seen) == 0 {
		return ""
	}
	list := strings.Join(tb.blocked, ", ")
	if more := len(tb.seen) + tb.unseen - len(tb.blocked); more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// serveAsset answers the page's request for a file it is entitled to with
// the bytes the worker fetched from src. A file that cannot be fetched
// fails the request (and, through pageAssets.err, the job).
func (tb *tab) serveAsset(target *chromedp.Target, ev *fetch.EventRequestPaused, pg *page, src string) error {
	// The fetch has its own deadlines (the file's and the job's); each
	// command after it gets answerTimeout.
	file, err := pg.assets.get(tb.ctx, src)
	ctx, cancel := context.WithTimeout(tb.ctx, answerTimeout)
	defer cancel()
	code, headers, body := 200, []*fetch.HeaderEntry{
		{Name: "Content-Type", Value: file.ContentType},
		{Name: "Cache-Control", Value: "no-store"},
		// Readable pixels for loadImage and WebGL textures.
		{Name: "Access-Control-Allow-Origin", Value: "*"},
		// A <video> or <audio> can seek only in a file served in ranges.
		{Name: "Accept-Ranges", Value: "bytes"},
	}, file.Body
	size := int64(len(file.Body))
	if r, ok, satisfiable := parseByteRange(requestHeader(ev.Request, "Range"), size); !satisfiable {
		code, body = 416, nil
		headers = append(headers, &fetch.HeaderEntry{Name: "Content-Range", Value: "bytes */" + strconv.FormatInt(size, 10)})
	} else if ok {
		code, body = 206, file.Body[r.start:r.end+1]
		headers = append(headers, &fetch.HeaderEntry{Name: "Content-Range", Value: r.contentRange(size)})
	}
	if err == nil {
		err = pg.assets.charge(src, int64(len(body)))
	}
	if err != nil {
		tb.logger.Debug("asset unavailable", "err", err)
		_, ferr := cdp.Call(ctx, target, fetch.FailRequest, fetch.FailRequestParams{
			RequestID: ev.RequestID, ErrorReason: network.ErrorReasonFailed,
		})
		return ferr
	}
	_, err = cdp.Call(ctx, target, fetch.FulfillRequest, fetch.FulfillRequestParams{
		RequestID:       ev.RequestID,
		ResponseCode:    int64(code),
		ResponseHeaders: headers,
		Body:            tb.inst.binary(body),
	})
	return err
}

// requestHeader is the value of a request's header name, whatever its
// case, "" when it has none.
func requestHeader(req *network.Request, name string) string {
	if req == nil {
		return ""
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return ""
}

// fromCurrentPage reports whether a prelude's report comes from the page
// the tab shows now. A page the tab has left can still report (a warm
// shell whose load the job's navigation overtook says that p5.js did not
// load, because its p5 request reached the tab after the job's origin
// did): its report must not stand for the job's. Every report the
// prelude sends names its page's origin (a video page reports on a
// binding of its own), so one that names none, or is not JSON, came from
// some page's own code calling the binding, and is not taken either. It
// also returns the report's first line and the number of parts it says
// its page sent ahead of it (see addPart).
func (tb *tab) fromCurrentPage(payload string) (header string, parts int, ok bool) {
	header, _, _ = strings.Cut(payload, "\n")
	var m struct {
		Origin string `json:"origin"`
		Parts  int    `json:"parts"`
	}
	if json.Unmarshal([]byte(header), &m) != nil || m.Origin == "" {
		tb.logger.Debug("report that names no page", "header", empplay.Truncate(header, 200))
		return header, 0, false
	}
	if cur := tb.currentOrigin(); m.Origin != cur {
		tb.logger.Debug("report of a page the tab has left", "from", m.Origin, "now", cur)
		return header, 0, false
	}
	return header, max(m.Parts, 0), true
}

// socketAttempt returns the URL of a prelude's report of a WebSocket the
// page opened: {"type":"socket","url":...,"origin":...}.
func socketAttempt(payload string) (string, bool) {
	if !strings.HasPrefix(payload, `{"type":"socket"`) {
		return "", false
	}
	var m struct {
		URL string `json:"url"`
	}
	if json.Unmarshal([]byte(payload), &m) != nil || m.URL == "" {
		return "", false
	}
	return m.URL, true
}

// execContext is a JavaScript context of the tab's page, as
// Runtime.executionContextCreated describes it.
type execContext struct {
	id       runtime.ExecutionContextID // as EventBindingCalled names it
	uniqueID string                     // as EventExecutionContextDestroyed names it
}

// trackContexts keeps tb.mainWorld from the Runtime events of the tab:
// the default context of the main frame (whose id is the target's) is
// the page's own; every other (an iframe's, an extension's or
// DevTools' isolated worlds) is not. A navigation replaces it: the old
// one is destroyed or cleared, the new one created before any of the new
// document's code runs.
func (tb *tab) trackContexts(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExecutionContextCreated:
		c := ev.Context
		if c == nil {
			return
		}
		var aux struct {
			IsDefault bool        `json:"isDefault"`
			FrameID   cdp.FrameID `json:"frameId"`
		}
		target := tb.target.Load()
		if target == nil || len(c.AuxData) == 0 || json.Unmarshal(c.AuxData, &aux) != nil ||
			!aux.IsDefault || string(aux.FrameID) != string(target.TargetID) {
			return
		}
		tb.mainWorld.Store(&execContext{id: c.ID, uniqueID: c.UniqueID})
	case *runtime.EventExecutionContextDestroyed:
		if c := tb.mainWorld.Load(); c != nil && c.uniqueID == ev.ExecutionContextUniqueID {
			tb.mainWorld.CompareAndSwap(c, nil)
		}
	case *runtime.EventExecutionContextsCleared:
		tb.mainWorld.Store(nil)
	}
}

// fromMainWorld reports whether a call of a binding comes from the page's
// own JavaScript (see mainWorld). Runtime.addBinding puts the bindings in
// every frame of the page, so a same-origin iframe the sketch makes has
// them, out of the prelude's reach: what it sends is the sketch's, not
// the prelude's, and is not heard.
func (tb *tab) fromMainWorld(ev *runtime.EventBindingCalled) bool {
	c := tb.mainWorld.Load()
	if c != nil && c.id == ev.ExecutionContextID {
		return true
	}
	tb.logger.Debug("binding call from another context than the page's", "binding", ev.Name,
		"context", ev.ExecutionContextID, "payload", empplay.Truncate(ev.Payload, 80))
	return false
}
