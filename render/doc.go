// Package render drives headless Chromium (through chromedp) to turn p5.js
// sketches into PNGs, and HTML/CSS/JS pages (js jobs) into PNGs and
// self-contained HTML files.
//
// A [Browser] owns one Chromium process, started with a fixed set of flags
// (see chromiumSwitches in flags.go) in its own process group and with a
// unique profile directory, which also holds Chromium's XDG config and
// cache directories (so the crashpad handlers, which leave the process
// group, are found and removed with it). Each job's page gets a viewport
// of the job's width and height at the job's device scale factor (1
// unless it says), before any of the job's code runs (a prepared page
// loaded at another size is resized, and the job waits until it has the
// new size: see present in viewport.go), and an origin of its own (see
// "Isolation").
//
// Render returns as soon as the picture is taken. Leaving the job's page
// happens in the background, while the caller uploads, and the tab for the
// next job is prepared ahead of it: its page has already loaded p5 (see
// "Warm pages"). The next Render waits until the last job's page is on
// its way down (the browser has answered the navigation away from it,
// which it does once the next document is served, before that document
// commits and the page's exit handlers run; and windows it opened are
// closed), then starts in the prepared tab while the old one is tidied
// (its origin's storage cleared, its history reset) and prepared for the
// job after; when no prepared tab is ready, or the browser is due for a
// restart, it waits for all of it. That takes most of the per-job fixed
// cost (a tab, a renderer, parsing and running p5.js, leaving a page) off
// the job's path.
//
// # Isolation
//
// Nothing a job's page does is visible to the next job's: not its globals,
// storage (local, session, IndexedDB, Cache Storage, the origin private
// file system), cookies, HTTP cache, service workers or broadcast
// channels. [Options.Isolation] chooses how:
//
//   - [IsolateOrigin] (the default): every page is loaded at a fresh
//     origin, https://j<16 random hex digits>.invalid, which is a site of
//     its own (no two share a registrable domain, so not even a
//     Domain=invalid cookie is shared: the browser refuses it). Everything
//     the browser keeps is keyed by origin or site, so the next page cannot
//     reach it, and with site isolation each page runs in a renderer
//     process of its own. The browser's tabs share one incognito browser
//     context and are reused: after a job its tab moves on to the next
//     shell page (the back/forward cache is off, so the job's page is gone
//     for good), the browser is told to clear everything stored for the
//     job's origin (Storage.clearDataForOrigin), windows the page opened
//     are closed and the tab's history is reset. The page's exit handlers
//     (pagehide, visibilitychange, unload) run in its old renderer after
//     the navigation and may store again after that clear, so the origin
//     is cleared a second time at the next park, a job later; the origin
//     of a tab closed instead of parked (a video's) is cleared at the next
//     park too (TestParkForgetsLateWrites, TestClosedTabForgotten). The prelude clears
//     window.name, the one thing a page leaves on its tab across sites.
//     Opening and closing a tab and a browser context per job was most of
//     the browser's CPU per job; this costs about half as much.
//   - [IsolateContext]: every job gets a new incognito browser context and
//     tab, disposed of after the job (the design of the Node peer
//     baselines `make bench` compares against, see PEERS_DIR).
//
// TestRenderIsolation proves it for both: a job writes everywhere it can,
// and the next three jobs, one of them in the same tab, find nothing.
//
// What every page shares is V8's compilation cache of p5.js, made once per
// browser and p5 version from p5.js alone, in a page that runs nothing
// else (see primeP5 in codecache.go), so that pages deserialize p5's code
// rather than compile it. Nothing a job fetches or stores is shared:
// TestRenderIsolationCacheProbe proves that a later job cannot tell a
// file an earlier job loaded from one no job loaded.
//
// Chromium is restarted after [Options.RecycleAfter] jobs, when its
// processes use more than [Options.RecycleMemory] after a job, when its
// health check (Browser.getVersion, 2 s) fails after a job, and after a
// crash or a lost connection.
//
// # Warm pages
//
// Every p5 page of one p5 major version is the same document (the shell):
// p5.js, the prelude with the settings every page shares, then two
// scripts: /job.js, which hands the prelude the job's settings (hash,
// variables, size, capture settings, the fxhash URL) and /sketch.js, the
// job's code. A prepared tab loads the shell of the p5 version the last
// job used before its job is known, and the Fetch interception holds its
// requests for job.js and sketch.js until the job's page takes the tab
// over. The parser waits on them, so the document's load event still comes
// after the sketch has run, exactly as on a page loaded for the job:
// global mode, window.onload and fxhash's snippet work unchanged. A video
// job uses the same shell: its job.js tells the prelude to stand aside and
// then runs the video prelude (video.js) with the job's settings. A job of
// another p5 version or a js job gets its page loaded for it, at a fresh
// origin.
//
// # The page
//
// The page's document and its scripts are fulfilled from memory by the
// Fetch interception at the page's origin (a name that can never
// resolve), with fxhash's query parameters (see below): for a p5 job p5.js
// of the job's major version, the prelude, and the sketch as its own
// script (/sketch.js, so that error lines are lines of the sketch); for a
// js job see "js jobs". Every page loads p5.js from one URL,
// https://p5.empplay.invalid/p5@<major>.min.js, whatever the page's own
// origin, and with CORS (crossorigin="anonymous"), so that an exception
// thrown through p5's code keeps its message and line. It is
// served from the worker's loopback asset server (the Fetch interception
// continues the page's request for it to http://assets.empplay.invalid,
// the one name the host resolver maps, to the server's port): fulfilling
// it through the DevTools protocol would send a megabyte of base64 per job.
// A request for a file the job is entitled to (a name in its assets
// field, resolved against the page's URL as the browser resolves it, or a
// component's nodeResponse.src) is fulfilled with bytes the worker fetched
// itself through [Options.Assets] (package fetcher: allowed origins, size
// and time limits, a shared cache), with the source's Content-Type and
// CORS headers; a file that cannot be fetched fails the job with
// asset_unavailable. A name another job declared is nothing to this one.
// Every other request the page makes is failed by the DevTools Fetch
// interception, and the host resolver maps every name, IP literals
// included, to nothing, which also closes WebSocket and WebRTC. No request
// leaves the browser. The URLs of blocked requests are added to the
// message of a failed job.
//
// The sketch can read its job's context as
//
//	window.empplay = {
//		hash:       string,   // job.context.hash, or DefaultHash when absent or ""
//		seed:       number[], // the eight seed words of hash (see below)
//		variables:  any,      // job.context.variables as given, null when absent
//		components: any,      // job.context.components as given, null when absent
//		width:      number,   // job.width (also the viewport width)
//		height:     number,   // job.height (also the viewport height)
//		capture:    function, // empplay.capture(): the picture is ready now
//	}
//
// # Seeding
//
// Every job is rendered with a hash: context.hash as given, or, when it is
// absent or empty, [DefaultHash]. Its seed words w[0..7] are the SHA-256
// of the hash's UTF-8 bytes (the string as given, "0x" and all), read as
// eight big-endian unsigned 32-bit integers. The PRNG is sfc32 (Chris
// Doty-Humphrey's Small Fast Counter, 32-bit, as fxhash has it: state
// a, b, c, d; each call t = a+b+d, d = d+1, a = b^(b>>>9), b = c+(c<<3),
// c = ((c<<21)|(c>>>11))+t, all mod 2^32, and returns t/2^32).
//
//   - Math.random is replaced, before any code of the job runs, by sfc32
//     with state (w[0], w[1], w[2], w[3]).
//   - Every p5 instance gets randomSeed(w[4]) and noiseSeed(w[5]) before
//     its preload() and setup() (p5 1.x: the 'init' hook; 2.x: presetup), so
//     random(), randomGaussian() and noise() are seeded even in a sketch
//     that never calls randomSeed or noiseSeed. A sketch that calls them
//     itself gets what it asks for.
//   - fxhash: $fx.hash (also the legacy global fxhash) is the hash, and
//     $fx.rand (also fxrand) is sfc32 seeded exactly as fxhash does it: the
//     hash without its first 2 characters, cut into four chunks of
//     floor(length/4) characters, each read as base58 (alphabet
//     123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ, a character
//     outside it counting as -1) and wrapped to 32 bits. For an fxhash hash
//     ("oo" and 49 base58 characters) the sequence is fxhash's own;
//     $fx.rand.reset() starts it over. $fx.minter is
//     context.variables.minter when a string, else [DefaultMinter], and
//     $fx.randminter (fxrandminter) is seeded from it the same way, without
//     its first 3 characters. $fx.iteration is context.variables.iteration
//     when an integer >= 1, else 1; $fx.context is "capture"; $fx.isPreview
//     (isFxpreview) is true. $fx.features(obj) stores the features
//     ($fx.getFeatures(), $fx.getFeature(id), $fx._features; they stay in
//     the page for now). $fx.params(definitions) is minimal: a parameter's
//     value ($fx.getParam(id), $fx.getParams(), getRawParam(s)) is
//     context.variables.params[id] when given, else the definition's
//     default. $fx.on returns a no-op unsubscriber, $fx.emit does nothing.
//     The page URL carries fxhash, fxminter, fxiteration, fxcontext=capture
//     and preview=1, so a page that brings its own copy of fxhash's snippet
//     gets the same hash.
//   - Art Blocks: tokenData = {hash, tokenId}, with tokenId
//     context.variables.tokenId as a string ("123" for 123 or "123") when
//     present, else "0". Art Blocks sketches bring their own PRNG seeded
//     from tokenData.hash.
//   - EmProps Studio: the pseudorandom family draws from its own sfc32,
//     seeded the platform's way from the job's hash before any code runs
//     (fxhash's base58 seeding of the hash without its first 2
//     characters, the same four words as $fx.rand), and from
//     pseudorandomSeed(seed)'s argument, the same way, once the sketch
//     calls it.
//
// Same job in, same PNG bytes out on the CPU path, as long as the sketch
// draws only from these (crypto.getRandomValues, Date and performance.now
// are not controlled).
//
// # Globals
//
// Every p5, video and js page defines these before the job's code runs
// (render/js/runtime.js). The EmProps names are configurable properties
// of window, not var declarations, so code that brings its own definition
// (the EmProps API's prelude: const hash, const variables, function
// getVariable, ...; a sketch's own hash or capture) works unchanged: a
// top-level const, let, class or function of the same name replaces or
// shadows the runtime's.
//
// EmProps Studio, from the job's context {hash, variables, components}:
//
// hash: the effective hash (context.hash, or [DefaultHash]).
//
//	let h = hash;
//	fill(hash.charCodeAt(2) % 255);
//
// variables: context.variables, {} when absent (bracket access).
//
//	let c = variables["color"];
//	background(c);
//
// getVariable(name): variables[name], undefined when absent.
//
//	let n = getVariable("count") || 10;
//	for (let i = 0; i < n; i++) circle(i * 10, 50, 8);
//
// components: context.components, the workflow's earlier steps
// [{id, nodeName, nodeAlias, nodeResponse}], [] when absent.
//
//	let first = components[0];
//	text(first ? first.nodeName : "none", 10, 20);
//
// getComponentOutput(alias): nodeResponse.src of the component whose
// nodeAlias is alias, else undefined.
//
//	let url = getComponentOutput("background");
//	if (url) img = loadImage(url);
//
// pseudorandomSeed(seed): reseeds the family from a hash string.
//
//	pseudorandomSeed(hash);
//	let first = pseudorandom();
//
// pseudorandom(min = 0, max = 1): a float in [min, max).
//
//	let x = pseudorandom(0, width);
//	circle(x, 50, 10);
//
// pseudorandoms(n, min, max): n of them.
//
//	let xs = pseudorandoms(5, 0, width);
//	xs.forEach((x) => point(x, 50));
//
// pseudorandomInteger(min, max): floor(pseudorandom(min, max + 1)),
// min and max inclusive.
//
//	let sides = pseudorandomInteger(3, 8);
//	polygon(50, 50, 30, sides);
//
// pseudorandomIntegers(n, min, max): n of them.
//
//	let dice = pseudorandomIntegers(2, 1, 6);
//	text(dice.join("+"), 10, 20);
//
// pseudorandomBoolean(): pseudorandom() < 0.5.
//
//	if (pseudorandomBoolean()) stroke(0);
//	else noStroke();
//
// pseudorandomPick(list): list[pseudorandomInteger(0, length - 1)].
//
//	let name = pseudorandomPick(["John", "Mary", "George"]);
//	text(name, 10, 20);
//
// pseudorandomWeightedPick(list, weights): one draw r in [0, total),
// the first index whose running sum plus its weight is not below r
// (the last one at most).
//
//	let shape = pseudorandomWeightedPick(["circle", "square"], [9, 1]);
//	if (shape === "circle") circle(50, 50, 20);
//
// pseudorandomPickButNot(list, excluded): picks again while the pick
// is excluded (a value, or an array of them); a list of one returns
// it; after 10 x length tries, list[0].
//
//	let bg = pseudorandomPickButNot(palette, fg);
//	background(bg);
//
// capture(): the picture is ready (trigger "capture"; see below).
//
//	if (frameCount === 12) capture();
//	// the picture is this frame
//
// With the reference vector of the EmProps Studio, pseudorandomSeed of
// 0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697 then
// pseudorandomPick(["John","Mary","Peter","George","Luis","Mario","Mitzy"])
// is "George".
//
// fxhash (see Seeding):
//
// $fx: hash, rand(), rand.reset(), minter, randminter(), iteration,
// context ("capture"), isPreview, preview(), features(), getFeature(),
// getFeatures(), params(), getParam(), getParams(), getRawParam(),
// getRawParams(), getDefinitions(), on(), emit().
//
//	$fx.features({ Palette: "warm" });
//	$fx.preview();
//
// fxhash, fxrand, fxminter, fxrandminter, fxpreview, isFxpreview: the
// legacy names of $fx.hash, $fx.rand, $fx.minter, $fx.randminter,
// $fx.preview, $fx.isPreview.
//
//	let x = fxrand() * width;
//	fxpreview();
//
// Art Blocks:
//
// tokenData: {hash, tokenId}.
//
//	let seed = parseInt(tokenData.hash.slice(0, 16), 16);
//	let id = Number(tokenData.tokenId);
//
// empplay:
//
// empplay: {hash, seed (the eight words above), variables, components,
// width, height (the job's), capture()}, and in a video video: {fps,
// frames, duration}.
//
//	resizeCanvas(empplay.width, empplay.height);
//	empplay.capture();
//
// In a video $fx.preview(), capture() and empplay.capture() do nothing:
// every frame is recorded.
//
// # Time
//
// A p5 or js page runs on a virtual clock (runtime.js's virtualClock and
// frameDriver, the clock video jobs use), unless its job says clock "real"
// ([empplay.ClockReal]): performance.now, Date (which starts at
// 2025-01-01T00:00:00Z), requestAnimationFrame, setTimeout, setInterval
// and their clear functions are virtual, and through them p5's millis(),
// frameCount and deltaTime. Time stands still while the page loads; from
// its load event, when p5 starts a sketch, timers run (code may start its
// sketch from one; a preload() or setup() that waits on one gets it), and
// once setup() is done (for a js page: at the load event, once fonts are
// ready; for code that starts no p5 sketch: once that is decided, see
// "load" below) the page's animation frames run back to back, as fast as
// the CPU allows, exactly 1/frameRate apart
// (p5's frameRate(), 60 fps by default and for js pages), until the
// picture is taken. In frame N's draw() frameCount is N and millis() is
// (N-1)*1000/frameRate, on p5 1.x and 2.x. Timers due by a frame's time
// run before it, each at its own time; when no frame is asked for (a
// noLoop() sketch), time jumps to the next timer. captureDelayMs and
// TriggerMs are virtual time too. Each callback's exceptions are reported
// as if it had run in a task of its own.
//
// What the page waits for in real time holds the clock: while a fetch()
// (and the reading of its body), an XMLHttpRequest, an <img> loading
// (started by its src or srcset, as a property or through setAttribute,
// by innerHTML or insertAdjacentHTML, or by its being put in the
// document) or decoding, createImageBitmap or a font load is outstanding,
// no timer or frame runs, so a file arrives at the same virtual time on a
// slow or a fast machine. p5 1.x preload() and p5 2.x's async setup()
// finish before frame 1. Not held: a worker's messages and other real events (they
// arrive at a virtual time that depends on the machine).
//
// A js page's CSS animations and transitions, and its Web Animations
// (element.animate()), follow the virtual clock too when its code may
// have any (mayAnimate; runtime.js, virtualAnimations): before each advance, document.getAnimations()
// brings the page's styles up to date, each animation not seen before is
// paused and takes the virtual time then as its start, and every one's
// currentTime is set to where the new time puts it; the page's own
// pause(), play(), currentTime and playbackRate are followed from then.
// The screenshot's last step does the same, so an animation started in
// the capture's own callback is at its start. (A p5 page is hidden: no
// animation runs there, and its picture is its canvas.)
//
// <video> and <audio> elements follow the virtual clock (runtime.js,
// virtualMedia): a load holds the clock until the element's
// canplaythrough (or error), and the browser never plays them. play(),
// pause(), loop, playbackRate and autoplay (started at the end of the
// load) are kept on the virtual clock, and currentTime, paused and ended
// report it; before each advance of the clock every element is seeked to
// its position for the new time, and the clock waits until the seek's
// last event (seeked, or canplaythrough when the seek took the element
// below HAVE_FUTURE_DATA), so a frame draws the video's frame of its
// time. A js page's screenshot also waits until the compositor shows
// those frames (see readyPending in prelude.js). Declared files are
// served in ranges (byterange.go), which a media element needs to seek.
//
// A p5 sketch on the virtual clock, and a video, renders in a hidden page
// (its tab's window minimized): the browser makes no frames of it, which
// it does not need, and its document says it is shown (document.visibilityState
// "visible", document.hidden false), as in the artist's browser. What runs
// only with the browser's frames (IntersectionObserver and ResizeObserver
// callbacks, CSS animations) does not run there. js pages and pages on the
// real clock are shown.
//
// Code that busy-waits on the clock still ends: after [clockFreeReads]
// reads of performance.now or Date in one callback, each further read
// moves time on by [clockReadStep] ms, the same way every run, and the
// output gets a warning that says so. A loop that never reads the clock
// runs until the deadline. The deadline stays real time: BROWSER_TIMEOUT
// or the job's timeoutMs bounds the job's wall clock, and the fallback
// capture takes what was drawn by then (a frame that depends on the
// machine's speed).
//
// With clock "real", the page keeps the machine's clock, as a browser
// would show it: frames come at the display's pace and timers in real
// time.
//
// # When the picture is taken
//
// The prelude hooks p5 itself, so global and instance mode both work:
// p5 1.x through p5.prototype.registerMethod ('post' after each draw(),
// 'afterSetup'), p5 2.x through p5.registerAddon lifecycles (postdraw,
// postsetup). The picture is the main canvas (p5's, else the first canvas
// laid out), or the canvas job.captureSelector (a CSS selector) picks,
// encoded as PNG (alpha kept) in the same task as the draw that made it,
// so that WebGL canvases are not blank. The output's size is the canvas's
// (p5's default is 100x100 for a sketch that never calls createCanvas);
// the viewport is the job's width x height. The trigger that fired is
// reported in [empplay.Output.Trigger], the frame in Frame, and when, in
// milliseconds from job.js (virtual time, see "Time"), in TriggerMs:
//
//   - "draw": after the first draw() (the default).
//   - "setup": after setup(), for a sketch without draw().
//   - "frames": job.captureFrames = N: after the draw() that ends frame N
//     (frameCount == N). A sketch that stops looping before is captured
//     after its last draw, with trigger "draw".
//   - "delay": job.captureDelayMs = D: D ms (of virtual time, unless the
//     clock is real) after setup(), at the end of the next draw() of a
//     looping sketch (a frame due at that very time counts), at once for
//     one that does not loop (p5 keeps its canvases' drawing buffers). A
//     js page: D ms after it is ready.
//   - "load": code that starts no p5 sketch but draws a canvas, once it
//     is clear that it starts none: after the load event and a grace of
//     100 ms for a sketch to start, which on the virtual clock begins once
//     no fetch, image or font the page waits for is on its way (code may
//     start its sketch when a fetch answers), and once the page's timers
//     due in the first second (virtual time) after the load event have
//     run, however long they take (code may start its sketch from one:
//     setTimeout(() => new p5(...), 0)). Code with no canvas by then gets
//     one animation frame more (it may start its sketch, or draw, from
//     requestAnimationFrame). The picture is what the code drew by then
//     (an interval is cut there); without a canvas the job fails with
//     no_canvas.
//   - "fxpreview", "capture": the sketch called $fx.preview() (or the
//     legacy fxpreview(), or a "fxhash-preview" window event, which
//     fxhash's own snippet dispatches), or capture() or empplay.capture().
//     When the job's code (for a js job its html or javascript) contains a
//     call of one of them (a plain text scan: "$fx.preview(", "fxpreview("
//     other than "function fxpreview(", "empplay.capture(", a bare
//     "capture(" unless the code declares a capture of its own; a method
//     definition, "capture(o) {" with the "{" on the line of its ")", in
//     a class or an object literal, is no call), the triggers above are
//     off and only the call captures. Without such a
//     call in the code, a call still captures if it comes first. The
//     canvas is captured once the task that made the call has finished,
//     as fxhash's own capture does, so what the sketch draws after the
//     call is in the picture: at the end of the setup() or draw() it was
//     called from ($fx.preview() first in setup(), then drawing; called
//     in setup() of a sketch with a draw(), at the end of its first
//     draw(), which draws what setup() prepared, also after noLoop()), at
//     the end of the next draw() of a looping sketch when called from a
//     callback, else in a task of its own. A call before the sketch starts
//     (at the top level of the code, before the load event) is taken the
//     same way at the end of setup(), or of the first draw() of a sketch
//     with one, and in code that starts no sketch when that is decided
//     (see "load"; no_canvas if it has no canvas either). TriggerMs is the
//     call's time. A js page's time stops at the call (no timer or
//     animation frame runs after it), and its screenshot is taken once
//     the page has loaded (its load event has fired and its fonts are
//     ready) and no load holds the clock (see "Time"): a capture() at the
//     end of the script, while the page's images load, has them, however
//     fast the network. Frame and TriggerMs are still the call's.
//   - "deadline": a fifth of the job's time (at most a second) before its
//     deadline, the renderer asks the page to capture what it has if it
//     has drawn something (a p5 sketch that finished setup() or a draw();
//     other code: a canvas exists), every 100 ms until the deadline while
//     it has not. A page that does not answer (an infinite loop) or drew
//     nothing fails with render_timeout.
//
// A js page's screenshot (any trigger but "deadline") also waits for every
// load the page has started by then, as long as it moves on: the page
// brings its styles and layout up to date before it reports, which starts
// the loads of the images its CSS names, and the renderer, tracking the
// page's requests in the Network domain for js jobs (their start comes
// from the renderer on the same session as the report, so none is
// missed), takes the screenshot once all have finished. A CSS background
// set after the load event is in the picture however fast the CDN
// answered. A load on which nothing moves for a second while the worker
// fetches nothing (a fetch whose body the page never reads stalls once
// the pipe to the page is full) is not waited for further; media and
// frames' documents are not waited for (loadTracker in loads.go). A page
// still waiting for a file at the job's deadline fails with
// render_timeout, naming the files ("the page was ready, but what it was
// loading had not come within 30s: data/tile.png").
//
// A looping sketch is stopped with noLoop() once captured. A picture whose
// pixels are all the same opaque colour (a sketch that only calls
// background()) is a picture: it succeeds with [empplay.Output.Blank] set.
// Only a picture whose pixels are all fully transparent (or no canvas at
// all, no_canvas) fails, with blank_canvas, unless the job has allowBlank
// (then it succeeds with Blank set).
//
// # js jobs
//
// A js job's html may be a full document (it starts, after whitespace and
// comments, with <!DOCTYPE, <html>, <head> or <body>) or a fragment, which
// is put in a minimal document (<!DOCTYPE html>, <meta charset="utf-8">).
// Its css goes in a <style> at the end of the head (after the html's own
// styles), its javascript in a script after the html's content (before
// </body>). No style reset is added. The prelude comes first in the head,
// so the seeding and globals above are in place for every script of the
// page. The page is ready after its load event, document.fonts.ready and
// two animation frames (trigger "load"), or at $fx.preview() or
// empplay.capture() as above (once it has loaded); errors before then
// fail the job with sketch_error, with the javascript's line when the
// error is in it.
//
// The outputs, by outputType:
//
//   - png (or none): a PNG screenshot of the viewport (Page.captureScreenshot
//     clipped to width x height at the job's device scale factor), at the job's
//     blob name (prefix/filename).
//   - html: one self-contained HTML file at the job's blob name, MIME type
//     "text/html": the document built as above with the css and javascript
//     inline ("</script" and "</style" escaped) and nothing of empplay's
//     (no prelude, no URL), so nothing of empplay's needs the network; URLs
//     in the job's own html stay as they are. The page is still loaded, so
//     a page that throws fails the job.
//   - both: the PNG at the job's blob name (the first artifact, the
//     result's src), then the HTML (the result's htmlSrc) at the same name
//     with its extension replaced by .html (appended when there is none,
//     or when the name already ends in .html).
//
// # Errors and warnings
//
// A job's outcome never depends on when an error arrives. On a p5 page,
// an uncaught exception or unhandled rejection fails the job only when
// the sketch cannot have drawn what it meant: before its setup() has
// finished (in preload() or setup(), or an async setup() that rejects) or
// inside a draw() (which stops p5's loop). One raised anywhere else once
// setup() is done (a timer, an event handler, a promise: a fetch of a
// blocked URL that rejects while draw() keeps running) does not stop the
// sketch: it becomes an entry of [empplay.Output.Warnings] (the message
// and line, at most 20 entries of 500 characters), and the picture is
// taken as usual. A picture that succeeds after blocked requests also has
// a warning listing them. Warnings are what had happened when the picture
// was taken; the outcome and the picture are the same in every run. For
// the refused requests that takes a wait: the page's report and a request
// reach the worker by different ways, so a report waits (at most a
// second) for the page's loads in flight (fetch, XMLHttpRequest, images,
// fonts: what holds the clock), each of which the worker records before
// it refuses it. A js
// page keeps the simpler rule: any error before it is ready fails the
// job.
//
// # Failures
//
// Before the picture is taken, these fail the job, all permanent:
//
//   - sketch_error: an uncaught exception or unhandled rejection that
//     stops the sketch (see Errors and warnings), with the sketch's line.
//     p5 2.x defines each of its functions on the window without
//     looking, and throws "Cannot redefine property" for one the sketch
//     declared at its top level (a function or var; 1.x let the sketch's
//     stand); the message then says so and names it, with any other
//     such global the sketch declared (p5Clash in runtime.js). A sketch
//     that defines preload(), which 2.x never calls, is told so: in the
//     message when it fails, in a warning when it draws all the same
//     (preloadIgnored in runtime.js).
//   - network_blocked: any of these failures when the page made a request
//     that was blocked; the message lists the URLs. (A sketch that keeps
//     drawing after a blocked request succeeds, with warnings.) A p5 1.x preload()
//     whose file failed to load (it would wait forever) fails a second
//     after the load's console.error.
//   - missing_addon: an error that says a name of a known add-on or
//     library does not exist (p5.sound's loadSound or p5.Oscillator, ml5,
//     p5.collide2D, three.js, Tone.js, ...; see addons.go).
//   - webgl_unavailable: an error, or no canvas, after the page asked for
//     a WebGL context and got none.
//   - blank_canvas: the picture is fully transparent (see above).
//   - no_canvas: nothing to capture (noCanvas(), no sketch at all, or a
//     captureSelector that matches no canvas).
//   - render_timeout: nothing drawn by the deadline (the earliest of the
//     caller's context, job.TimeoutMs and [Options.DefaultTimeout]); the
//     page is stopped with Runtime.terminateExecution, so an infinite loop
//     does not wedge the browser.
//   - memory_limit: the job's renderer went over [Options.JobMemory] (see
//     "Memory and the sandbox"), or crashed near it.
//
// A crashed page (other than near the memory limit), a lost DevTools
// connection or a page in which p5.js did not load is a transient
// browser_error.
//
// # Memory and the sandbox
//
// While a job runs, a guard (memory.go) reads the resident size of the
// browser's renderer processes every 150 ms (the list of renderers, those
// of the browser's process group with --type=renderer, every second). The
// job's page is a site of its own and so has a renderer of its own; any
// renderer over [Options.JobMemory] is the job's, and is killed with
// SIGKILL at once: the job fails with memory_limit, its figure in the
// message, and the browser goes on (the tab is closed, the next job gets a
// new renderer). A page spread over several renderers (a sandboxed iframe
// gets one of its own) is stopped, all of them, when the largest renderer
// and what the others grew by during the job come to more than the limit
// plus 256 MiB (see judgeMemory). A renderer that was already over half the
// limit (and 256 MiB) when the job began is the last job's page, still
// running its exit handlers after the tab left it: it is never taken for
// this job's, and is killed over the limit without failing the job.
// V8's old space is limited to the same figure
// (--js-flags=--max-old-space-size), so the JavaScript heap alone cannot
// take a renderer past it; a renderer that crashes after coming within a
// tenth of the limit (V8 ends a full heap with a trap) is memory_limit too.
//
// Chromium's sandbox (seccomp-bpf, user, PID and network namespaces for
// every renderer) is on unless [Options.Sandbox] or the host says
// otherwise: see [ResolveSandbox]. The browser is never run as root with
// it.
//
// A page cannot make the worker keep more than a bounded record of it
// (limits.go): the requests it was refused, its report's message and
// warnings, the parts of its picture sent ahead of the report (at most 256
// MiB of base64, see reportparts.go), the video frames waiting for the
// encoder, a video's output ([Options.VideoMaxBytes]: over it the job
// fails with output_too_large as soon as its encoded frames pass it, and
// ffmpeg stops writing a GIF soon after). Console output is not
// kept: chromedp receives it (the Runtime domain is on for the bindings)
// and drops it.
//
// # Video jobs
//
// A video job ([Browser.RenderVideo], or Render with a video job) runs
// p5, a video prelude (video.js) and the sketch, in a warm p5 page when
// one is ready (see "Warm pages"); the prelude seeds and
// defines the globals as above (empplay also has video: {fps, frames,
// duration}) and puts the page on the virtual clock of "Time":
// performance.now, Date (which starts at 2025-01-01T00:00:00Z),
// requestAnimationFrame, setTimeout and setInterval stand still while the
// sketch loads and sets up, then advance by exactly 1/fps per frame (the
// video's fps; busy reads of the clock move it on as for stills). Frame k (from 0) is the main
// canvas after the timers due by k/fps and the animation frame at k/fps
// have run, so in its draw() frameCount is k+1, millis() is k*1000/fps and
// deltaTime is 1000/fps (p5 1.x and 2.x; a sketch with a slower frameRate()
// draws every few frames), however slow the machine: the same job gives the
// same frames. Time k/fps is counted from when the recording starts: the
// end of setup(), or for code that starts no sketch, the load event. Code
// with neither a sketch nor a canvas by then has its timers due in the
// first second of virtual time run, one at a time, then one animation
// frame, until one starts a sketch (setTimeout(() => new p5(s), 300):
// frame 0 is then at 300 ms, millis() 0) or makes a canvas; with neither
// it fails with no_canvas,
// as a still does. What the page waits for in real time holds the clock
// as in a still (a fetch, an image, a font: see "Time"): the next frame
// waits until it has come, so a file the sketch loads while it records
// (a loadImage callback) is in the same frames however fast the CDN
// answered. A canvas of another size than the job is scaled to it.
// WebGL contexts get preserveDrawingBuffer.
//
// Each frame is copied out of the canvas in a dedicated worker, handed to
// WebCodecs as RGBX tagged BT.709 limited range (odd sizes padded to even
// by repeating the last column and row, transparency composited over
// white), and encoded there: H.264 High (OpenH264) for mp4 and gif, VP9 for
// webm, at [BitsPerPixel] bits per pixel per frame, a keyframe every 2 s.
// The encoded frames come back through a DevTools binding as base64 (a
// few KiB a frame) and stream into ffmpeg (package video) as they arrive.
// The queue is flow-controlled by credit: video.js counts the bytes it
// sends, the recorder tells it how many it has handed to ffmpeg, and no
// frame is drawn while more than half of 256 MiB are unhandled. A slow
// encoder slows the recording down and never decides its outcome,
// however late the word reaches the page. A page that sends past 256 MiB
// all the same (its own calls of the binding) fails with sketch_error.
// The output is the video at the job's blob name, then the poster frame
// (frame 0 as a PNG, transparency kept) at [PosterName] of it. Progress
// (frames done of total) goes to the [video.ProgressFunc] of the context.
//
// An exception fails the job with sketch_error and the frame it was thrown
// at ("at frame 5 (t=0.167s)", or "in setup"); no canvas with no_canvas;
// ffmpeg missing or failing, or the browser's encoder failing, with
// encoder_error (retryable). The recorder hears the main frame's own
// JavaScript only (a same-origin iframe the sketch makes has the binding
// too, and is ignored); a report that video.js does not send, or not at
// that point of the recording (frame sizes that do not add up, the end
// before the last frame, a poster that is not a PNG of the video's size),
// fails the job with sketch_error. The deadline is DefaultTimeout plus
// [empplay.VideoFrameBudget] (100 ms) per frame, [empplay.GIFFrameBudget]
// (300 ms) for a GIF (see [empplay.Job.RenderTimeout]), lowered by
// job.TimeoutMs and the caller's context; a timeout says how many frames
// were done.
package render
