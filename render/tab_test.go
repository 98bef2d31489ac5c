package render

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/cdproto/target"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/assets"
	"github.com/empplay/empplay/internal/testenv"
)

// TestParkForgetsTheJob: parking a tab of the shared context leaves the
// page, has the browser forget what the page stored at its origin, closes
// windows that are not the browser's tabs and resets the tab's history.
func TestParkForgetsTheJob(t *testing.T) {
	b := newTestBrowser(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inst := b.current()
	tb, err := b.idleTab(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := newJSPage(jsJob("<p>x</p>", "", "", 10, 10, ""))
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.load(ctx, pg); err != nil {
		t.Fatal(err)
	}
	origin := tb.currentOrigin()
	eval := func(expr string) string {
		t.Helper()
		return evalString(ctx, t, tb, expr)
	}
	// The park clears the kinds of storage a page can write (clearTypes);
	// the APIs of the kinds it leaves must be off.
	if got := eval(`JSON.stringify([typeof navigator.storageBuckets, typeof navigator.joinAdInterestGroup,
  typeof navigator.runAdAuction, typeof window.sharedStorage])`); got != `["undefined","undefined","undefined","undefined"]` {
		t.Errorf("storage buckets, interest groups, auctions, shared storage: %s; want all undefined", got)
	}
	eval(`(async () => {
  localStorage.setItem('k', 'x'.repeat(100000));
  document.cookie = 'k=v; max-age=3600';
  await new Promise(r => { const o = indexedDB.open('db', 1); o.onupgradeneeded = () => o.result.createObjectStore('s'); o.onsuccess = r; });
  await (await caches.open('c')).put('/k', new Response('x'.repeat(100000)));
  const f = await (await navigator.storage.getDirectory()).getFileHandle('f', {create: true});
  const w = await f.createWritable(); await w.write('x'.repeat(100000)); await w.close();
  history.pushState(null, '', '?a'); history.pushState(null, '', '?b');
  return 'ok';
})()`)
	usage := func() float64 {
		t.Helper()
		u, err := cdp.Call(ctx, tb.target.Load(), storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: origin})
		if err != nil {
			t.Fatal(err)
		}
		return u.Usage
	}
	cookies := func() int {
		t.Helper()
		c, err := cdp.Call(ctx, inst.cdp, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: inst.shared})
		if err != nil {
			t.Fatal(err)
		}
		return len(c.Cookies)
	}
	if usage() == 0 || cookies() == 0 {
		t.Fatalf("the page stored nothing (usage %v, %d cookies): the test proves nothing", usage(), cookies())
	}
	// A window the page opened: a page target in the shared context that
	// is not one of the browser's tabs.
	stray, err := cdp.Call(ctx, inst.cdp, target.CreateTarget, target.CreateTargetParams{URL: "about:blank", BrowserContextID: inst.shared})
	if err != nil {
		t.Fatal(err)
	}

	if err := b.park(tb); err != nil {
		t.Fatalf("park: %v", err)
	}
	if got := usage(); got != 0 {
		t.Errorf("the job's origin still uses %v bytes after park", got)
	}
	if n := cookies(); n != 0 {
		t.Errorf("%d cookies left in the shared context after park", n)
	}
	targets, err := cdp.Call(ctx, inst.cdp, target.GetTargets, target.GetTargetsParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range targets.TargetInfos {
		if ti.TargetID == stray.TargetID {
			t.Errorf("the stray window is still open after park")
		}
	}
	if o := tb.currentOrigin(); o == origin {
		t.Errorf("the parked tab is still at the job's origin %s", o)
	}
	if n := eval(`String(history.length)`); n != "1" {
		t.Errorf("history.length = %s after park, want 1", n)
	}
}

// evalString evaluates expr in tb's page, awaiting a promise, and returns
// its value as a string ("" when it is not one).
func evalString(ctx context.Context, t *testing.T, tb *tab, expr string) string {
	t.Helper()
	yes := true
	res, err := cdp.Call(ctx, tb.target.Load(), runtime.Evaluate, runtime.EvaluateParams{
		Expression: expr, AwaitPromise: &yes, ReturnByValue: &yes,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		t.Fatalf("%s: %s", expr, res.ExceptionDetails.Text)
	}
	var v string
	_ = json.Unmarshal(res.Result.Value, &v)
	return v
}

// contextCookies lists the names of the cookies in the browser's shared
// context, whatever their site.
func contextCookies(ctx context.Context, t *testing.T, inst *instance) []string {
	t.Helper()
	c, err := cdp.Call(ctx, inst.cdp, storage.GetCookies, storage.GetCookiesParams{BrowserContextID: inst.shared})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range c.Cookies {
		names = append(names, k.Name)
	}
	return names
}

// TestParkForgetsLateWrites: a page that is left runs its pagehide,
// visibilitychange and unload handlers in its old renderer after the
// navigation away, and they can store at its origin again after the first
// clear. Here the unload handler stores half a second after it starts, so
// its writes usually land after the first park's clear; once the page's
// renderer has exited (its handlers are done), the next park must take
// whatever they left.
func TestParkForgetsLateWrites(t *testing.T) {
	b := newTestBrowser(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	inst := b.current()
	tb, err := b.idleTab(ctx, inst)
	if err != nil {
		t.Fatal(err)
	}
	load := func(origin string) {
		t.Helper()
		pg, err := newJSPage(jsJob("<p>x</p>", "", "", 10, 10, ""))
		if err != nil {
			t.Fatal(err)
		}
		if origin == "" {
			err = tb.load(ctx, pg)
		} else { // back at an origin a page was loaded at before
			tb.mu.Lock()
			tb.origin = origin
			tb.mu.Unlock()
			tb.page.Store(pg)
			err = tb.navigate(ctx, origin+pg.path)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	eval := func(expr string) string {
		t.Helper()
		return evalString(ctx, t, tb, expr)
	}

	load("")
	origin := tb.currentOrigin()
	eval(`(() => {
  const store = (e) => {
    if (e.type === 'unload') { const t = Date.now(); while (Date.now() - t < 500) {} }
    localStorage.setItem(e.type, 'x'.repeat(100000));
    document.cookie = e.type + '=v; max-age=3600';
    caches.open('c-' + e.type);
  };
  addEventListener('pagehide', store);
  document.addEventListener('visibilitychange', store);
  addEventListener('unload', store);
  return 'ok';
})()`)
	before := renderers(inst.procs) // the left page's among them
	if err := b.park(tb); err != nil {
		t.Fatalf("park: %v", err)
	}
	for gone := false; !gone; {
		now := renderers(inst.procs)
		for _, pid := range before {
			gone = gone || !slices.Contains(now, pid)
		}
		if ctx.Err() != nil {
			t.Fatalf("no renderer exited after the park (before %v, now %v)", before, now)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if late := contextCookies(ctx, t, inst); len(late) > 0 {
		t.Logf("stored after the first park's clear: cookies %v", late)
	} else {
		t.Logf("the page's handlers all ran before the first park's clear; the second clear had nothing to take")
	}

	load("") // the next job's page
	if err := b.park(tb); err != nil {
		t.Fatalf("park: %v", err)
	}
	if c := contextCookies(ctx, t, inst); len(c) > 0 {
		t.Errorf("cookies %v left in the shared context after the next park", c)
	}
	load(origin)
	if got := eval(`(async () => JSON.stringify({localStorage: Object.keys(localStorage), cookie: document.cookie,
  caches: await caches.keys()}))()`); got != `{"localStorage":[],"cookie":"","caches":[]}` {
		t.Errorf("what the left page stored as it went is still at its origin after the next park: %s", got)
	}
}

// TestClosedTabForgotten: a tab that is closed after its job instead of
// parked (a video's) leaves what its page stored to the next park.
func TestClosedTabForgotten(t *testing.T) {
	needFFmpeg(t)
	b := newTestBrowser(t, Options{})
	v := videoJob(`function setup() {
  createCanvas(16, 16);
  localStorage.setItem('video', 'x');
  document.cookie = 'video=v; max-age=3600';
}
function draw() { background(frameCount * 20 % 255); }`, 16, 16, 0.2, 10, "")
	if _, err := render(t, b, v); err != nil {
		t.Fatalf("video job: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.settle(ctx); err != nil {
		t.Fatal(err)
	}
	if c := contextCookies(ctx, t, b.current()); !slices.Contains(c, "video") {
		t.Fatalf("the video's page stored no cookie (cookies %v): the test proves nothing", c)
	}
	mustRender(t, b, flatJob("function setup() { createCanvas(10, 10); background(0); }", 10, 10))
	if err := b.settle(ctx); err != nil {
		t.Fatal(err)
	}
	if c := contextCookies(ctx, t, b.current()); len(c) > 0 {
		t.Errorf("cookies %v left in the shared context after the next job's park", c)
	}
}

// TestRenderWindows: a page that opens windows, or closes its own, leaves
// nothing behind for the next job: the windows are closed (headless
// Chromium's popup blocker refuses window.open without a user gesture, so
// the page's canvas says how many it got: park closes any there are, see
// TestParkForgetsTheJob), and the next job renders (in a tab of its own if
// the page closed the one it had).
func TestRenderWindows(t *testing.T) {
	b := newTestBrowser(t, Options{})
	for _, tc := range []struct {
		name string
		code string
	}{
		{"opens windows", `function setup() {
  createCanvas(10, 10);
  var opened = 0;
  for (var i = 0; i < 3; i++) {
    var w = window.open('about:blank', 'w' + i);
    if (w) { opened++; w.eval("setInterval(function () { localStorage.x = Date.now(); }, 10)"); }
  }
  background(opened * 80);
}`},
		{"closes itself", `function setup() { createCanvas(10, 10); background(255, 0, 0); window.close(); }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// It may fail: its window may be gone.
			if out, err := render(t, b, flatJob(tc.code, 10, 10)); err == nil && tc.name == "opens windows" {
				if img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body)); err == nil {
					r, _, _, _ := img.At(5, 5).RGBA()
					t.Logf("the page's canvas says %d windows opened", (r>>8)/80)
				}
			}
			_, img := mustRender(t, b, flatJob("function setup() { createCanvas(10, 10); background(0, 255, 0); }", 10, 10))
			checkPixels(t, img, []px{{5, 5, green}})
			if err := b.settle(context.Background()); err != nil {
				t.Fatal(err)
			}
			inst := b.current()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := cdp.Call(ctx, inst.cdp, target.GetTargets, target.GetTargetsParams{})
			if err != nil {
				t.Fatal(err)
			}
			pages := 0
			for _, ti := range res.TargetInfos {
				if ti.BrowserContextID == inst.shared && ti.Type == "page" {
					pages++
				}
			}
			if pages > maxIdle+1 {
				t.Errorf("%d pages open in the shared context after the jobs; want at most the browser's %d tabs", pages, maxIdle+1)
			}
		})
	}
}

// TestRenderP5DidNotLoad: a page in which p5.js did not load (here a
// broken build) fails its job as a retryable browser_error, not as the
// sketch's error, for stills and videos.
func TestRenderP5DidNotLoad(t *testing.T) {
	broken := assets.FromFS(fstest.MapFS{
		"p5/p5-1.min.js": {Data: []byte("throw new Error('broken build');")},
		"p5/p5-2.min.js": {Data: []byte("throw new Error('broken build');")},
	})
	b := New(Options{ChromiumPath: testenv.ChromiumPath(t), ProfileDir: testRoot}, broken, testLogger())
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	still := job("function setup() { createCanvas(10, 10); background(0); }", 10, 10)
	vid := videoJob(still.Code, 16, 16, 0.2, 10, "")
	for _, j := range []*empplay.Job{still, still, vid} {
		_, err := render(t, b, j)
		var e *empplay.Error
		if !errors.As(err, &e) || e.Code != empplay.CodeBrowserError || !e.Retryable || !strings.Contains(err.Error(), "p5.js did not load") {
			t.Errorf("%s job: %v; want a retryable browser_error saying p5.js did not load", j.Type, err)
		}
	}
}

// TestHistoryAcrossJobs: every p5 job's page has a history of one entry,
// whichever page its tab showed before: the shell page it was parked on,
// another p5 version's, or about:blank after a js job (a tab prepared from
// one of those kept it as a second entry until its next park). A js page
// is navigated to from the page its tab showed (a new tab's about:blank,
// or the page it was parked on, its history reset), so it has two, in
// every tab, under both isolation modes.
func TestHistoryAcrossJobs(t *testing.T) {
	for _, mode := range []string{IsolateOrigin, IsolateContext} {
		t.Run(mode, func(t *testing.T) {
			b := newTestBrowser(t, Options{Isolation: mode})
			p5 := func(version string) *empplay.Job {
				return fidJob(`function setup() { createCanvas(10, 10); var got = [history.length];`+emCheck("[1]")+`}`, 10, 10, version)
			}
			// Green when the history has two entries, red otherwise.
			page := jsJob(`<style>html, body { margin: 0; width: 100%; height: 100%; background: red; }</style>`, "",
				`if (history.length === 2) document.body.style.background = 'lime';`, 10, 10, empplay.OutputPNG)
			for i, j := range []*empplay.Job{page, p5("1"), page, p5("1"), p5("1"), p5("2"), p5("1"), page, page, p5("2"), p5("2"), p5("1"), page} {
				out, err := render(t, b, j)
				if err != nil {
					t.Fatalf("job %d (%s %s): %v", i, j.Type, j.P5Version, err)
				}
				img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
				if err != nil {
					t.Fatal(err)
				}
				if got := color.NRGBAModel.Convert(img.At(5, 5)); got != (color.NRGBA{0, 255, 0, 255}) {
					t.Errorf("job %d (%s %s): pixel %v, want green: its page's history.length is not the one every such page has", i, j.Type, j.P5Version, got)
				}
			}
		})
	}
}

// TestViewportAcrossJobs runs jobs of repeated and changing sizes through
// one browser, whose two tabs take turns, so that a job's shell page was
// loaded at its own size or at another: each job's page must have its own
// viewport from the start, as p5 1.x reads it in its constructor
// (windowWidth, windowHeight, the pixel density), in a hidden page and in
// a shown one (the real clock), and no resize or visibilitychange event
// from the shell page's resizing.
func TestViewportAcrossJobs(t *testing.T) {
	sizes := []struct {
		w, h  int
		scale float64
	}{
		{120, 80, 1}, {120, 80, 1}, {120, 80, 1}, {120, 80, 1},
		{64, 48, 2}, {64, 48, 2}, {64, 48, 2},
		{120, 80, 1}, {90, 70, 1}, {120, 80, 1}, {120, 80, 1},
	}
	for _, version := range fidMajors {
		for _, clock := range []string{empplay.ClockVirtual, empplay.ClockReal} {
			t.Run("p5 "+version+" "+clock, func(t *testing.T) {
				b := newTestBrowser(t, Options{})
				for i, size := range sizes {
					code := `var resized = 0, seen = 0;
document.addEventListener('visibilitychange', function () { seen++; });
function windowResized() { resized++; }
function setup() { createCanvas(windowWidth, windowHeight);
  var got = [innerWidth, innerHeight, windowWidth, windowHeight, devicePixelRatio, pixelDensity(), resized, seen];` +
						emCheck(fmt.Sprintf("[%d, %d, %d, %d, %v, %v, 0, 0]", size.w, size.h, size.w, size.h, size.scale, size.scale)) + `
}`
					j := fidJob(code, size.w, size.h, version)
					j.DeviceScaleFactor = size.scale
					j.Clock = clock
					_, img := mustRender(t, b, j)
					if got := img.Bounds().Size(); got.X != int(float64(size.w)*size.scale) || got.Y != int(float64(size.h)*size.scale) {
						t.Errorf("job %d: picture %v; want %dx%d at %v", i, got, size.w, size.h, size.scale)
					}
					checkPixels(t, img, []px{{0, 0, color.NRGBA{0, 255, 0, 255}}})
				}
			})
		}
	}
}
