package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// job returns a p5 job with code and the given viewport.
func job(code string, w, h int) *empplay.Job {
	return &empplay.Job{Type: empplay.TypeP5, Code: code, Width: w, Height: h,
		Bucket: "renders", Prefix: "test", Filename: "out.png"}
}

// flatJob is a job whose picture may be one colour (allowBlank): tests
// that check a pixel or two often draw one.
func flatJob(code string, w, h int) *empplay.Job {
	j := job(code, w, h)
	j.AllowBlank = true
	return j
}

func render(t *testing.T, b *Browser, j *empplay.Job) (*empplay.Output, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return b.Render(ctx, j)
}

// mustRender renders j and decodes its PNG.
func mustRender(t *testing.T, b *Browser, j *empplay.Job) (*empplay.Output, image.Image) {
	t.Helper()
	out, err := render(t, b, j)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(out.Artifacts) != 1 {
		t.Fatalf("got %d artifacts, want 1", len(out.Artifacts))
	}
	a := out.Artifacts[0]
	if a.Name != j.BlobName() || a.MimeType != "image/png" {
		t.Errorf("artifact %q %q, want %q image/png", a.Name, a.MimeType, j.BlobName())
	}
	img, err := png.Decode(bytes.NewReader(a.Body))
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != a.Width || got.Y != a.Height {
		t.Errorf("artifact says %dx%d, the PNG is %dx%d", a.Width, a.Height, got.X, got.Y)
	}
	return out, img
}

// px is an expected colour at a point, with a per-channel tolerance.
type px struct {
	x, y int
	c    color.NRGBA
}

func checkPixels(t *testing.T, img image.Image, want []px) {
	t.Helper()
	const tol = 3
	for _, w := range want {
		got := color.NRGBAModel.Convert(img.At(w.x, w.y)).(color.NRGBA)
		d := func(a, b uint8) int {
			if a > b {
				return int(a - b)
			}
			return int(b - a)
		}
		if d(got.R, w.c.R) > tol || d(got.G, w.c.G) > tol || d(got.B, w.c.B) > tol || d(got.A, w.c.A) > tol {
			t.Errorf("pixel (%d,%d) = %v, want %v", w.x, w.y, got, w.c)
		}
	}
}

var (
	red         = color.NRGBA{255, 0, 0, 255}
	green       = color.NRGBA{0, 255, 0, 255}
	blue        = color.NRGBA{0, 0, 255, 255}
	yellow      = color.NRGBA{255, 255, 0, 255}
	transparent = color.NRGBA{0, 0, 0, 0}
)

func TestRenderPixels(t *testing.T) {
	b := sharedBrowser(t)
	const redWithBlueRect = `
function setup() {
  createCanvas(200, 100);
  noLoop();
}
function draw() {
  background(255, 0, 0);
  noStroke();
  fill(0, 0, 255);
  rect(50, 25, 50, 50);
}`
	const webgl = `
function setup() {
  createCanvas(100, 100, WEBGL);
  noLoop();
}
function draw() {
  background(0, 0, 255);
  noStroke();
  fill(255, 0, 0);
  plane(50, 50);
}`
	for _, tc := range []struct {
		name    string
		job     *empplay.Job
		version string
		w, h    int
		trigger string
		webgl   bool
		pixels  []px
	}{
		{
			name: "global mode noLoop 2D", job: job(redWithBlueRect, 200, 100),
			w: 200, h: 100, trigger: TriggerDraw,
			pixels: []px{{10, 10, red}, {75, 50, blue}, {190, 90, red}},
		},
		{
			name: "instance mode", job: job(`
new p5(function (p) {
  p.setup = function () { p.createCanvas(120, 80); p.noLoop(); };
  p.draw = function () { p.background(0, 255, 0); p.noStroke(); p.fill(0, 0, 255); p.rect(0, 0, 20, 20); };
});`, 120, 80),
			w: 120, h: 80, trigger: TriggerDraw,
			pixels: []px{{10, 10, blue}, {100, 60, green}},
		},
		{
			name: "p5 2 global mode", job: job(redWithBlueRect, 200, 100), version: "2",
			w: 200, h: 100, trigger: TriggerDraw,
			pixels: []px{{10, 10, red}, {75, 50, blue}},
		},
		{
			name: "p5 2 instance mode", job: job(`
new p5(function (p) {
  p.setup = function () { p.createCanvas(120, 80); };
  p.draw = function () { p.background(0, 255, 0); };
});`, 120, 80), version: "2",
			w: 120, h: 80, trigger: TriggerDraw,
			pixels: []px{{60, 40, green}},
		},
		{
			// The first frame is yellow and every later one black: the
			// capture must be the first frame.
			name: "looping sketch", job: job(`
function setup() { createCanvas(64, 64); }
function draw() { if (frameCount === 1) background(255, 255, 0); else background(0); }`, 64, 64),
			w: 64, h: 64, trigger: TriggerDraw,
			pixels: []px{{32, 32, yellow}},
		},
		{
			name: "setup only", job: job(`function setup() { createCanvas(40, 30); background(0, 0, 255); }`, 40, 30),
			w: 40, h: 30, trigger: TriggerSetup,
			pixels: []px{{20, 15, blue}},
		},
		{
			name: "webgl", job: job(webgl, 100, 100),
			w: 100, h: 100, trigger: TriggerDraw, webgl: true,
			pixels: []px{{50, 50, red}, {5, 5, blue}, {95, 95, blue}},
		},
		{
			name: "p5 2 webgl", job: job(webgl, 100, 100), version: "2",
			w: 100, h: 100, trigger: TriggerDraw, webgl: true,
			pixels: []px{{50, 50, red}, {5, 5, blue}},
		},
		{
			name: "transparent background", job: job(`
function setup() { createCanvas(50, 50); noLoop(); }
function draw() { clear(); noStroke(); fill(255, 0, 0); rect(0, 0, 10, 10); }`, 50, 50),
			w: 50, h: 50, trigger: TriggerDraw,
			pixels: []px{{5, 5, red}, {30, 30, transparent}, {49, 49, transparent}},
		},
		{
			// The viewport is the job's size: a sketch that fills the
			// window gets exactly that, at device scale factor 1.
			name: "non-square viewport", job: job(`
function setup() { createCanvas(windowWidth, windowHeight); background(0, 255, 0); }`, 300, 150),
			w: 300, h: 150, trigger: TriggerSetup,
			pixels: []px{{0, 0, green}, {299, 149, green}},
		},
		{
			name: "job context", job: func() *empplay.Job {
				j := job(`
function setup() {
  createCanvas(empplay.width, empplay.height);
  var v = empplay.variables;
  background(v.r, v.g, empplay.hash === '0xabc' ? 255 : 0);
}`, 30, 20)
				j.Context = &empplay.SketchContext{Hash: "0xabc", Variables: json.RawMessage(`{"r":10,"g":200}`)}
				return j
			}(),
			w: 30, h: 20, trigger: TriggerSetup,
			pixels: []px{{15, 10, color.NRGBA{10, 200, 255, 255}}},
		},
		{
			name: "plain canvas without p5 functions", job: job(`
var c = document.createElement('canvas');
c.width = 20; c.height = 10;
document.body.appendChild(c);
var g = c.getContext('2d');
g.fillStyle = '#00f';
g.fillRect(0, 0, 20, 10);`, 20, 10),
			w: 20, h: 10, trigger: TriggerLoad,
			pixels: []px{{10, 5, blue}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.P5Version = tc.version
			tc.job.AllowBlank = true // some of these pictures are one colour
			out, img := mustRender(t, b, tc.job)
			if got := img.Bounds().Size(); got.X != tc.w || got.Y != tc.h {
				t.Errorf("image is %dx%d, want %dx%d", got.X, got.Y, tc.w, tc.h)
			}
			if out.Trigger != tc.trigger {
				t.Errorf("trigger %q, want %q", out.Trigger, tc.trigger)
			}
			if tc.webgl && out.Renderer == "" {
				t.Errorf("no WebGL renderer reported")
			}
			if !tc.webgl && out.Renderer != "" {
				t.Errorf("renderer %q reported for a 2D canvas", out.Renderer)
			}
			checkPixels(t, img, tc.pixels)
		})
	}
}

func TestRenderSeededIsByteIdentical(t *testing.T) {
	b := sharedBrowser(t)
	j := job(`
function setup() {
  createCanvas(256, 256);
  randomSeed(42);
  noiseSeed(42);
  noLoop();
}
function draw() {
  background(20);
  noStroke();
  for (var i = 0; i < 300; i++) {
    fill(random(255), random(255), random(255), 180);
    circle(random(width), random(height), 5 + 40 * noise(i * 0.1));
  }
}`, 256, 256)
	first, _ := mustRender(t, b, j)
	second, _ := mustRender(t, b, j)
	if !bytes.Equal(first.Artifacts[0].Body, second.Artifacts[0].Body) {
		t.Fatalf("two renders of the same seeded sketch differ (%d and %d bytes)",
			len(first.Artifacts[0].Body), len(second.Artifacts[0].Body))
	}
}

func TestRenderErrors(t *testing.T) {
	b := sharedBrowser(t)
	for _, tc := range []struct {
		name    string
		job     *empplay.Job
		version string
		code    empplay.Code
		want    []string // substrings of the message
	}{
		{
			name: "throw in setup", job: job("function setup() {\n  createCanvas(10, 10);\n  throw new Error('boom');\n}", 10, 10),
			code: empplay.CodeSketchError, want: []string{"sketch error: Error: boom", "(line 3)"},
		},
		{
			name: "throw in draw", version: "2",
			job:  job("function setup() { createCanvas(10, 10); }\nfunction draw() {\n  undefinedFunction();\n}", 10, 10),
			code: empplay.CodeSketchError, want: []string{"ReferenceError", "undefinedFunction", "(line 3)"},
		},
		{
			name: "syntax error", job: job("function setup() {\n  createCanvas(10, 10)\n  let = ;\n}", 10, 10),
			code: empplay.CodeSketchError, want: []string{"SyntaxError", "(line 3)"},
		},
		{
			name: "rejected promise", job: job("function setup() {\n  createCanvas(10, 10);\n  Promise.reject(new Error('nope'));\n  noLoop();\n}\nfunction draw() {}", 10, 10),
			// the rejection is reported after the first draw's microtasks, so
			// this may be done first: either way it must not hang.
			code: "",
		},
		{
			name: "rejected promise before done", job: job("async function setup() {\n  createCanvas(10, 10);\n  await Promise.reject(new Error('nope'));\n}", 10, 10), version: "2",
			code: empplay.CodeSketchError, want: []string{"sketch error: Error: nope", "(line 3)"},
		},
		{
			name: "rejected with a plain value", job: job("async function setup() {\n  createCanvas(10, 10);\n  await Promise.reject('plain');\n}", 10, 10), version: "2",
			code: empplay.CodeSketchError, want: []string{"sketch error: unhandled promise rejection: plain"},
		},
		{
			name: "noCanvas", job: job("function setup() { noCanvas(); }\nfunction draw() {}", 10, 10),
			code: empplay.CodeNoCanvas, want: []string{"no canvas"},
		},
		{
			name: "p5 2 noCanvas", version: "2", job: job("function setup() { noCanvas(); }", 10, 10),
			code: empplay.CodeNoCanvas, want: []string{"no canvas"},
		},
		{
			name: "no sketch at all", job: job("var x = 1 + 1;", 10, 10),
			code: empplay.CodeNoCanvas, want: []string{"no setup() or draw()"},
		},
		{
			name: "loadImage in preload", job: job(`
var img;
function preload() { img = loadImage('http://example.com/x.png'); }
function setup() { createCanvas(10, 10); image(img, 0, 0); }`, 10, 10),
			code: empplay.CodeNetworkBlocked, want: []string{"preload() did not finish", "http://example.com/x.png"},
		},
		{
			name: "p5 2 await loadImage", version: "2", job: job(`
async function setup() {
  createCanvas(10, 10);
  let img = await loadImage('http://example.com/y.png');
  image(img, 0, 0);
}`, 10, 10),
			code: empplay.CodeNetworkBlocked, want: []string{"http://example.com/y.png"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.P5Version = tc.version
			start := time.Now()
			_, err := render(t, b, tc.job)
			// Failed as soon as it was known, not at the deadline (30 s);
			// the margin is for a loaded host.
			if elapsed := time.Since(start); elapsed > 15*time.Second {
				t.Errorf("took %v", elapsed)
			}
			if tc.code == "" {
				return
			}
			if err == nil {
				t.Fatalf("Render succeeded; want %s", tc.code)
			}
			var e *empplay.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *empplay.Error", err, err)
			}
			if e.Code != tc.code || e.Retryable {
				t.Errorf("code %s retryable=%v, want %s permanent (%v)", e.Code, e.Retryable, tc.code, err)
			}
			t.Logf("message: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestRenderInfiniteLoop(t *testing.T) {
	// A browser of its own: the check that the same Chromium served both
	// jobs of a subtest must not depend on what the suite's other tests
	// did to the shared one.
	b := newTestBrowser(t, Options{})
	for _, version := range []string{"1", "2"} {
		t.Run("p5 "+version, func(t *testing.T) {
			j := job("function setup() {\n  createCanvas(10, 10);\n  while (true) {}\n}", 10, 10)
			j.P5Version = version
			j.TimeoutMs = 1500
			start := time.Now()
			_, err := render(t, b, j)
			elapsed := time.Since(start)
			if code := empplay.ErrorCode(err); code != empplay.CodeRenderTimeout || empplay.IsRetryable(err) {
				t.Fatalf("error %v (code %s); want a permanent %s", err, code, empplay.CodeRenderTimeout)
			}
			// The job's own deadline, not the renderer's default (30 s),
			// ended it; the margin is for a loaded host (CI saw 4.5 s).
			if elapsed > 1500*time.Millisecond+8*time.Second {
				t.Errorf("took %v for a 1.5s deadline", elapsed)
			}
			pid := b.PID()
			// The browser must not be wedged: the next job works, in the same
			// Chromium.
			_, img := mustRender(t, b, flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10))
			checkPixels(t, img, []px{{5, 5, green}})
			if b.PID() != pid {
				t.Errorf("chromium was restarted (pid %d -> %d); terminateExecution should have been enough", pid, b.PID())
			}
		})
	}
}

func TestRenderDeadlineFromContext(t *testing.T) {
	b := sharedBrowser(t)
	// The deadline covers taking a tab too: let the last test's cleanup
	// finish first, and give the sketch time to start on a loaded host.
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, err := b.Render(ctx, job("function setup() { createCanvas(10, 10); }\nfunction draw() { while (true) {} }", 10, 10))
	if code := empplay.ErrorCode(err); code != empplay.CodeRenderTimeout {
		t.Fatalf("error %v (code %s); want %s", err, code, empplay.CodeRenderTimeout)
	}
	// The context's deadline, not the job's default (30 s), ended it.
	if elapsed := time.Since(start); elapsed > 2*time.Second+8*time.Second {
		t.Errorf("took %v for a 2s deadline", elapsed)
	}
}

func TestRenderCancelled(t *testing.T) {
	b := sharedBrowser(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(500*time.Millisecond, cancel)
	_, err := b.Render(ctx, job("function setup() { while (true) {} }", 10, 10))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v; want context.Canceled", err)
	}
	var e *empplay.Error
	if errors.As(err, &e) {
		t.Errorf("a cancelled render is classified as %s; the caller decides", e.Code)
	}
	_, img := mustRender(t, b, flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10))
	checkPixels(t, img, []px{{5, 5, green}})
}

// TestRenderIsolation: job A leaves traces everywhere a page can, then the
// next jobs look for them and report what they find as an error: a green
// picture means clean. Under IsolateOrigin the jobs run in the same two
// reused tabs, so the later jobs include one in A's own tab.
func TestRenderIsolation(t *testing.T) {
	for _, mode := range []string{IsolateOrigin, IsolateContext} {
		t.Run(mode, func(t *testing.T) {
			// A browser of its own: the shared one's tabs depend on what
			// the suite's other tests did with it.
			b := newTestBrowser(t, Options{Isolation: mode})
			a := flatJob(`
async function setup() {
  localStorage.setItem('leak', 'a');
  sessionStorage.setItem('leak', 'a');
  document.cookie = 'leak=a; max-age=3600';
  // A cookie for every host under .invalid, if the browser took it.
  document.cookie = 'wide=a; max-age=3600; domain=invalid';
  window.leaked = 'a';
  window.name = 'leak';
  history.pushState(null, '', '?leak');
  await new Promise(function (resolve) { indexedDB.open('leak', 1).onsuccess = resolve; });
  await (await caches.open('leak')).put('/leak', new Response('a'));
  var dir = await navigator.storage.getDirectory();
  await dir.getFileHandle('leak', { create: true });
  // A service worker cannot even be fetched (every request but the page's
  // own fails), but try.
  try { await navigator.serviceWorker.register('/sw.js'); } catch (e) { /* blocked */ }
  new BroadcastChannel('leak').postMessage('a');
  createCanvas(10, 10);
}`, 10, 10)
			a.P5Version = "2"
			if _, err := render(t, b, a); err != nil {
				t.Fatalf("job A: %v", err)
			}
			look := flatJob(`
async function setup() {
  createCanvas(10, 10);
  var found = [];
  var bc = new BroadcastChannel('leak');
  bc.onmessage = function () { found.push('broadcast'); };
  if (localStorage.length > 0) found.push('localStorage');
  if (sessionStorage.length > 0) found.push('sessionStorage');
  if (document.cookie !== '') found.push('cookie ' + document.cookie);
  if (window.leaked !== undefined) found.push('window');
  if (window.name !== '') found.push('window.name');
  if (history.length > 2) found.push('history ' + history.length);
  if ((await indexedDB.databases()).length > 0) found.push('indexedDB');
  if ((await caches.keys()).length > 0) found.push('caches');
  var dir = await navigator.storage.getDirectory();
  for await (var name of dir.keys()) found.push('OPFS ' + name);
  if ((await navigator.serviceWorker.getRegistrations()).length > 0) found.push('serviceWorker');
  await new Promise(function (r) { setTimeout(r, 50); });
  if (found.length) throw new Error('leaked: ' + found.join(', '));
  background(0, 255, 0);
}`, 10, 10)
			look.P5Version = "2"
			tabs := map[string]bool{}
			for i := range 3 {
				out, err := render(t, b, look)
				if err != nil {
					t.Fatalf("job %d after A: %v", i+1, err)
				}
				img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
				if err != nil {
					t.Fatal(err)
				}
				checkPixels(t, img, []px{{5, 5, green}})
				if err := b.settle(context.Background()); err != nil {
					t.Fatal(err)
				}
				b.mu.Lock()
				if b.spare != nil {
					tabs[string(b.spare.target.Load().TargetID)] = true
				}
				b.mu.Unlock()
			}
			if mode == IsolateOrigin && len(tabs) != 2 {
				t.Errorf("the jobs ran in %d tabs, want the same 2 reused", len(tabs))
			}
			if mode == IsolateContext && len(tabs) != 3 {
				t.Errorf("the jobs ran in %d tabs, want a new one each (3)", len(tabs))
			}
		})
	}
}

func TestRenderKeepsBrowserBetweenJobs(t *testing.T) {
	// A browser of its own: whether the shared one was restarted depends
	// on what the suite's other tests did to it.
	b := newTestBrowser(t, Options{})
	if err := b.Healthy(context.Background()); err != nil {
		t.Fatalf("Healthy: %v", err)
	}
	pid := b.PID()
	for i := range 3 {
		_, img := mustRender(t, b, flatJob(fmt.Sprintf("function setup() { createCanvas(10, 10); background(%d); }", i*100), 10, 10))
		checkPixels(t, img, []px{{5, 5, color.NRGBA{uint8(i * 100), uint8(i * 100), uint8(i * 100), 255}}})
	}
	if b.PID() != pid {
		t.Errorf("pid changed from %d to %d", pid, b.PID())
	}
	// After a job, the next job's tab is opened ahead of time.
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	spare := b.spare
	b.mu.Unlock()
	if spare == nil || spare.inst != b.current() {
		t.Errorf("no tab prewarmed for the next job")
	}
}

func TestRenderConcurrentCalls(t *testing.T) {
	b := sharedBrowser(t)
	errs := make(chan error, 4)
	for i := range 4 {
		go func() {
			_, err := render(t, b, flatJob(fmt.Sprintf("function setup() { createCanvas(10, 10); background(%d); }", i), 10, 10))
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Errorf("Render: %v", err)
		}
	}
}

func TestRenderBadSize(t *testing.T) {
	b := sharedBrowser(t)
	_, err := render(t, b, job("function setup() {}", 0, 10))
	if code := empplay.ErrorCode(err); code != empplay.CodeSizeOutOfRange {
		t.Errorf("error %v (code %s), want %s", err, code, empplay.CodeSizeOutOfRange)
	}
}

func TestRenderLargeCanvas(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a 4096x4096 noise canvas")
	}
	b := sharedBrowser(t)
	// Random pixels do not compress: the worst case for the capture's size.
	j := job(`
function setup() {
  createCanvas(4096, 4096);
  loadPixels();
  for (let i = 0; i < pixels.length; i += 65536) {
    crypto.getRandomValues(pixels.subarray(i, i + 65536));
  }
  updatePixels();
}`, 4096, 4096)
	start := time.Now()
	out, err := render(t, b, j)
	if err != nil {
		t.Fatal(err)
	}
	a := out.Artifacts[0]
	cfg, err := png.DecodeConfig(bytes.NewReader(a.Body))
	if err != nil || cfg.Width != 4096 || cfg.Height != 4096 || a.Width != 4096 || a.Height != 4096 {
		t.Fatalf("PNG %dx%d (artifact %dx%d): %v", cfg.Width, cfg.Height, a.Width, a.Height, err)
	}
	t.Logf("4096x4096 noise: %d MB PNG in %v", len(a.Body)>>20, time.Since(start))
}
