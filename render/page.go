package render

import (
	_ "embed"
	"strings"
	"time"
)

// Every page lives at an origin of its own that can never resolve (.invalid
// is reserved by RFC 6761; see newOrigin), and every request to it is
// answered from memory by the Fetch interception in intercept.go. HTTPS makes
// the page a secure context, as it would be on the platform, so APIs such
// as crypto.subtle work. Documents name their own resources by path, so
// one document serves at any origin.
const (
	docPath = "/"
	// sketchPath is the job's code: a p5 sketch, or a js job's javascript.
	sketchPath = "/sketch.js"
	// jobPath is the script of a p5 page that hands the prelude its job's
	// settings, right before the sketch.
	jobPath = "/job.js"
	// faviconPath is requested by the browser itself; it gets a 404.
	faviconPath = "/favicon.ico"
	// assetOrigin is where every page loads p5.js from, whatever its own
	// origin, with CORS so that errors thrown through p5 keep their
	// message (see p5Tag).
	assetOrigin = "https://p5.empplay.invalid"
)

// bindingName is the DevTools binding the prelude reports through. The
// prelude deletes the global as soon as it has a reference to it.
const bindingName = "__empplayReport"

// startName is the function job.js calls with the job's settings (see
// prelude.js). The prelude deletes it on that call, before the sketch runs.
const startName = "__empplayStart"

// deadlineName is the function the renderer calls at a job's deadline to
// capture what the page has drawn (see prelude.js).
const deadlineName = "__empplayDeadline"

// Grace periods of the prelude, see prelude.js.
const (
	// noSketchGrace is how long after the load event the page waits for a
	// p5 sketch to start before it decides the code has none (on the
	// virtual clock, counted from when no load the page waits for is on
	// its way: code may start its sketch once a fetch has answered).
	noSketchGrace = 100 * time.Millisecond
	// noSketchTimers is how long, in virtual time from the load event,
	// the timers of a page on the virtual clock run before it decides
	// that the code has no sketch: code may start its sketch from a timer
	// (setTimeout(() => new p5(...), 0)). The decision waits for them
	// (and for noSketchGrace), and is then the same however fast the
	// machine ran them; an interval that never starts a sketch is cut
	// there.
	noSketchTimers = time.Second
	// preloadGrace is how long a p5 1.x preload() may stay unfinished
	// after a console.error before the page reports it as failed (on the
	// virtual clock, counted from when no load the page waits for is on
	// its way: assets from a CDN may take longer than this, and a preload
	// still loading is not a failed one).
	preloadGrace = time.Second
	// frameGrace bounds the wait for each of the two animation frames a
	// js page gets after its load event (and fonts), in case frames do not
	// tick.
	frameGrace = 100 * time.Millisecond
)

// Page modes, see pageConfig.Mode.
const (
	modeP5 = "p5"
	modeJS = "js"
)

// resource is one response the page can get.
type resource struct {
	mime string
	body []byte
}

// page is everything one job's document is made of, keyed by URL.
type page struct {
	// path is the document's path and query, what the tab navigates to at
	// its origin: docPath with
	// fxhash's query parameters.
	path string
	// resources are keyed by path for the page's own, by URL for p5.js.
	resources map[string]resource
	// export is the self-contained HTML of a js job (see exportJS), nil
	// for p5 jobs.
	export []byte
	// mode and waitSignal are the prelude's settings of the same names.
	mode       string
	waitSignal bool
	// major is the p5 major version a p5 page loads ("1" or "2").
	major string
	// assets are the files the job may load besides its own (nil: none).
	assets *pageAssets
	// shell marks a p5 page loaded ahead of its job (see warmPage): its
	// requests for job.js and sketch.js wait until the job's page takes
	// over the tab.
	shell bool
	// primer marks the page that makes the browser's compilation cache of
	// p5.js (see primerPage).
	primer bool
}

// waitingFor says what a page that timed out did not do.
func (p *page) waitingFor() string {
	switch {
	case p.waitSignal:
		return "the sketch did not call $fx.preview() or empplay.capture()"
	case p.mode == modeJS:
		return "the page did not finish loading"
	}
	return "the sketch did not finish its first frame"
}

// p5Major is the p5 major version a job asks for: "1" unless it says.
func p5Major(v string) string {
	if v == "" {
		return "1"
	}
	return v
}

// p5URL is where a page loads p5 of the given major version from.
func p5URL(major string) string {
	return assetOrigin + "/p5@" + p5Major(major) + ".min.js"
}

// resource returns the response for url when the page is at origin. A
// nil page has none.
func (p *page) resource(origin, url string) (resource, bool) {
	if p == nil {
		return resource{}, false
	}
	if rest, ok := strings.CutPrefix(url, origin); ok && strings.HasPrefix(rest, "/") {
		url = rest
	}
	r, ok := p.resources[url]
	return r, ok
}

// assetSource is the URL the worker fetches for a request of the page at
// origin, "" when the page is not entitled to it. A nil page has none.
func (p *page) assetSource(origin, url string) string {
	if p == nil {
		return ""
	}
	src, _ := p.assets.source(origin, url)
	return src
}

// assetErr is the first of the page's files that could not be fetched.
func (p *page) assetErr() error {
	if p == nil {
		return nil
	}
	return p.assets.err()
}
