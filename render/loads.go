// This file is the js page's loads in flight: what its screenshot waits for.

package render

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
)

// loadsQuiet is how long the screenshot waits for loads in flight once the
// worker answers none and the renderer reports no progress on any: a load
// the page never finishes (a fetch whose body it does not read, stalled
// when the pipe to the page is full) would otherwise hold the screenshot
// until the deadline. Loads that move on, and files the worker still
// fetches from the CDN, are waited for however long they take.
const loadsQuiet = time.Second

// loadTracker is the requests of a js page the renderer started and has not
// finished, from the Network domain's events: its screenshot must not
// depend on how fast they came (an <img> is waited for by the prelude, but
// nothing in the page sees a CSS image, say, start loading). Blink sends
// Network.requestWillBeSent from the renderer when a load starts, so on the
// same DevTools session as the prelude's report: the page makes the
// browser compute its styles (which starts their images' loads) before it
// reports, and every load started before the report is known when the
// report arrives. Only the listener goroutine changes it; the job's
// goroutine reads it under tab.mu.
type loadTracker struct {
	on      bool                         // tracking: the Network domain is enabled for the job
	pending map[network.RequestID]string // the URLs of the loads in flight
	last    time.Time                    // the last event that moved a load on
	moved   chan struct{}                // signalled at each such event
}

// trackLoads enables the Network domain of a js job's tab, before its page
// loads, with no buffer for bodies (nothing reads them). p5 pages do not
// need it: the prelude waits for what a canvas can draw.
func (tb *tab) trackLoads(ctx context.Context) error {
	tb.mu.Lock()
	tb.loads = loadTracker{on: true, pending: make(map[network.RequestID]string), last: time.Now(), moved: make(chan struct{}, 1)}
	tb.mu.Unlock()
	one := int64(1)
	_, err := cdp.Call(ctx, tb.target.Load(), network.Enable, network.EnableParams{
		MaxTotalBufferSize: &one, MaxResourceBufferSize: &one, MaxPostDataSize: &one,
	})
	return err
}

// untrackLoads disables the Network domain again, if the job enabled it.
func (tb *tab) untrackLoads(ctx context.Context) error {
	tb.mu.Lock()
	on := tb.loads.on
	tb.loads = loadTracker{}
	tb.mu.Unlock()
	if !on {
		return nil
	}
	_, err := cdp.Call(ctx, tb.target.Load(), network.Disable, cdp.Empty{})
	return err
}

// loadEvent keeps the tracker up to date; it runs on the listener.
// Documents (a frame's navigation, which may end in another process) and
// media (loaded in ranges, as playback needs) are not waited for, nor
// requests that are no loads (data: and blob: URLs).
func (tb *tab) loadEvent(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	l := &tb.loads
	if !l.on {
		return
	}
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type == network.ResourceTypeDocument || ev.Type == network.ResourceTypeMedia || ev.Request == nil ||
			strings.HasPrefix(ev.Request.URL, "data:") || strings.HasPrefix(ev.Request.URL, "blob:") {
			return
		}
		l.pending[ev.RequestID] = ev.Request.URL
	case *network.EventDataReceived:
		if _, ok := l.pending[ev.RequestID]; !ok {
			return
		}
	case *network.EventLoadingFinished:
		delete(l.pending, ev.RequestID)
	case *network.EventLoadingFailed:
		delete(l.pending, ev.RequestID)
	default:
		return
	}
	l.last = time.Now()
	select {
	case l.moved <- struct{}{}:
	default:
	}
}

// unfinishedLoads lists the URLs of the loads in flight, for a message
// (the page's own files by their names: data/tile.png): at most
// maxBlocked, each cut at maxBlockedURL, sorted.
func (tb *tab) unfinishedLoads() string {
	tb.mu.Lock()
	urls := make([]string, 0, len(tb.loads.pending))
	for _, u := range tb.loads.pending {
		u = strings.TrimPrefix(u, tb.origin+"/")
		if len(u) > maxBlockedURL {
			u = u[:maxBlockedURL] + "..."
		}
		urls = append(urls, u)
	}
	tb.mu.Unlock()
	slices.Sort(urls)
	urls = slices.Compact(urls)
	list := strings.Join(urls[:min(len(urls), maxBlocked)], ", ")
	if more := len(urls) - maxBlocked; more > 0 {
		list += fmt.Sprintf(" and %d more", more)
	}
	return list
}

// settleLoads waits until the page has no load in flight, or until its
// loads stand still (see loadsQuiet), or ctx ends. It returns how many
// loads it left unfinished.
func (tb *tab) settleLoads(ctx context.Context) (int, error) {
	var serving time.Time // when the worker was last seen answering a request
	for {
		tb.mu.Lock()
		n, last, moved := len(tb.loads.pending), tb.loads.last, tb.loads.moved
		tb.mu.Unlock()
		if n == 0 {
			return 0, nil
		}
		if tb.serving.Load() > 0 {
			serving = time.Now()
		}
		if serving.After(last) {
			last = serving
		}
		wait := loadsQuiet - time.Since(last)
		if wait <= 0 {
			return n, nil
		}
		t := time.NewTimer(min(wait, 50*time.Millisecond))
		select {
		case <-moved:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return n, ctx.Err()
		}
		t.Stop()
	}
}
