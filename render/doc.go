// Package render drives headless Chromium (through chromedp) to turn p5.js
// sketches into PNGs.
//
// A [Browser] owns one Chromium process, started with a fixed set of flags
// (see chromiumSwitches in browser.go) in its own process group and with a
// unique profile directory, which also holds Chromium's XDG config and
// cache directories (so the crashpad handlers, which leave the process
// group, are found and removed with it). Each job runs in a fresh incognito
// browser context with a viewport of the job's width and height at device
// scale factor 1, and the context is disposed of after the job, whatever
// happened. Chromium restarts after a crash (on the next job) and every
// [Options.RecycleAfter] jobs.
//
// Render returns as soon as the picture is taken. Closing the job's page
// and opening the next job's tab (a new, never used browser context) happen
// in the background, while the caller uploads; the next Render waits for
// them. That keeps per-job isolation and takes its fixed cost (about half
// of a small job) off the critical path.
//
// # The page
//
// The page is served from memory at https://empplay.invalid/ (a name that
// can never resolve): p5.js of the job's major version, the prelude, and the
// sketch as its own script (https://empplay.invalid/sketch.js, so that error
// lines are lines of the sketch). Every other request the page makes is
// failed by the DevTools Fetch interception, and the host resolver maps
// every name, IP literals included, to nothing, which also closes WebSocket
// and WebRTC. No request leaves the browser. The URLs of blocked requests
// are added to the message of a failed job.
//
// The sketch can read its job's context as
//
//	window.empplay = {
//		hash:       string, // job.context.hash, "" when absent
//		variables:  any,    // job.context.variables as given, null when absent
//		components: any,    // job.context.components as given, null when absent
//		width:      number, // job.width (also the viewport width)
//		height:     number, // job.height (also the viewport height)
//	}
//
// # When the picture is taken
//
// The prelude hooks p5 itself, so global and instance mode both work:
// p5 1.x through p5.prototype.registerMethod ('post' after each draw(),
// 'afterSetup'), p5 2.x through p5.registerAddon lifecycles (postdraw,
// postsetup). The picture is the main canvas, encoded as PNG (alpha kept)
// right after the first draw() (trigger "draw"), or after setup() for a
// sketch without draw() (trigger "setup"), in the same task, so that WebGL
// canvases are not blank. Code that starts no p5 sketch but draws a canvas
// is captured after the load event (trigger "load"). A looping sketch is
// stopped with noLoop() once captured.
//
// # Failures
//
// An uncaught exception or unhandled rejection before the picture is taken
// fails the job with sketch_error and the sketch's line; no canvas to
// capture (noCanvas(), or no sketch at all) with no_canvas. A p5 1.x
// preload() whose file failed to load (it would wait forever) fails after a
// second. A job that is not done by its deadline (the earliest of the
// caller's context, job.TimeoutMs and [Options.DefaultTimeout]) fails with
// render_timeout; its page is stopped with Runtime.terminateExecution, so an
// infinite loop does not wedge the browser. These are permanent. A crashed
// page or a lost DevTools connection is a transient browser_error.
package render
