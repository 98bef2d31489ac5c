package render

import (
	"bytes"
	"image/color"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
)

// TestSlowAssetsSamePicture: a job whose image comes from the CDN at once
// or 800 ms later gets the same picture, the image in it: a js page's
// capture() waits for the loads in flight, and the virtual clock waits
// for an image however its load was started (src or srcset, by property,
// setAttribute or HTML inserted after the page loaded).
func TestSlowAssetsSamePicture(t *testing.T) {
	const delay = 800 * time.Millisecond
	red := color.NRGBA{255, 0, 0, 255}
	tile := solidPNG(t, 4, 4, red)
	var slow atomic.Int64
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			slow.Add(1)
			time.Sleep(delay) // the behaviour under test: a slow CDN
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(tile)
	})

	// p5 sketches that draw the image once it is complete, in frame 30 at
	// the latest: blue unless it arrived by then.
	p5Tile := func(load string) func() *empplay.Job {
		return func() *empplay.Job {
			j := fidJob(`let img;
function setup() { createCanvas(8, 8); pixelDensity(1); `+load+` }
function draw() { background(0, 0, 255); if (img && img.complete && img.naturalWidth) drawingContext.drawImage(img, 0, 0, 8, 8); }`, 8, 8, "1")
			j.CaptureFrames = 30
			return j
		}
	}
	// A js page that inserts HTML with the image in frame 1 and draws the
	// image, if complete, in frame 30. (A canvas under 10x10 pixels comes
	// out blank in a js page's screenshot: 16x16.)
	jsInserted := func(insert string) func() *empplay.Job {
		return func() *empplay.Job {
			return jsJob(`<canvas id="c" width="16" height="16"></canvas><div id="d" style="display:none"></div>`, `body{margin:0}`, `
const g = document.getElementById('c').getContext('2d');
const d = document.getElementById('d');
let n = 0;
function frame() {
  n++;
  if (n === 1) { `+insert+` }
  if (n < 30) { requestAnimationFrame(frame); return; }
  const img = document.getElementById('t');
  g.fillStyle = '#00f';
  g.fillRect(0, 0, 16, 16);
  if (img.complete && img.naturalWidth) g.drawImage(img, 0, 0, 16, 16);
  capture();
}
requestAnimationFrame(frame);`, 16, 16, empplay.OutputPNG)
		}
	}
	const tag = `<img id="t" src="data/tile.png">`
	for _, tc := range []struct {
		name    string
		job     func() *empplay.Job
		trigger string
	}{
		// A: capture() at the end of the script, while the page loads.
		{"js capture() while the page loads", func() *empplay.Job {
			return jsJob(`<img src="data/tile.png" style="display:block;width:8px;height:8px">`, `body{margin:0;background:#00f}`,
				`capture();`, 8, 8, empplay.OutputPNG)
		}, TriggerCapture},
		// A: $fx.preview() once loaded, while an image it added loads.
		{"js $fx.preview() while an image loads", func() *empplay.Job {
			return jsJob(``, `body{margin:0;background:#00f}`, `window.addEventListener('load', function () {
  var i = new Image();
  i.style.cssText = 'display:block;width:8px;height:8px';
  i.src = 'data/tile.png';
  document.body.appendChild(i);
  $fx.preview();
});`, 8, 8, empplay.OutputPNG)
		}, TriggerFxPreview},
		// A: CSS images, which no <img> stands for.
		{"js CSS background added after load", func() *empplay.Job {
			return jsJob(``, `body{margin:0;background:#00f}`, `window.addEventListener('load', function () {
  var d = document.createElement('div');
  d.style.cssText = 'width:8px;height:8px;background:url(data/tile.png)';
  document.body.appendChild(d);
  capture();
});`, 8, 8, empplay.OutputPNG)
		}, TriggerCapture},
		{"js CSS class set in a timer", func() *empplay.Job {
			return jsJob(`<div id="d" style="width:8px;height:8px"></div>`, `body{margin:0;background:#00f} .on{background:url(data/tile.png)}`,
				`setTimeout(function () { document.getElementById('d').className = 'on'; capture(); }, 100);`, 8, 8, empplay.OutputPNG)
		}, TriggerCapture},
		// B: the ways to start an image's load other than its src property.
		{"p5 setAttribute src", p5Tile(`img = document.createElement('img'); img.setAttribute('src', 'data/tile.png');`), "frames"},
		{"p5 setAttribute srcset", p5Tile(`img = document.createElement('img'); img.setAttribute('srcset', 'data/tile.png 1x');`), "frames"},
		{"p5 new Image srcset", p5Tile(`img = new Image(); img.srcset = 'data/tile.png 1x';`), "frames"},
		{"p5 innerHTML of a detached div", p5Tile(`const d = document.createElement('div'); d.innerHTML = '` + tag + `'; img = d.firstChild;`), "frames"},
		{"p5 insertAdjacentHTML of a detached div", p5Tile(`const d = document.createElement('div'); d.insertAdjacentHTML('beforeend', '` + tag + `'); img = d.firstChild;`), "frames"},
		{"p5 createDiv with an img", p5Tile(`createDiv('` + tag + `').hide(); img = document.getElementById('t');`), "frames"},
		{"js innerHTML after load", jsInserted(`d.innerHTML = '` + tag + `';`), TriggerCapture},
		{"js insertAdjacentHTML after load", jsInserted(`d.insertAdjacentHTML('beforeend', '` + tag + `');`), TriggerCapture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first *empplay.Output
			for _, speed := range []string{"fast", "slow"} {
				j := tc.job()
				j.TimeoutMs = fidTimeoutMs
				j.Assets = map[string]string{"data/tile.png": src.URL + "/" + speed + "/tile.png"}
				before := slow.Load()
				out, img := mustRender(t, b, j)
				if speed == "slow" && slow.Load() == before {
					t.Fatal("the slow CDN was not asked: the test tested nothing")
				}
				if out.Trigger != tc.trigger {
					t.Errorf("%s: trigger %q, want %q", speed, out.Trigger, tc.trigger)
				}
				checkPixels(t, img, []px{{4, 4, red}})
				if first == nil {
					first = out
					continue
				}
				if out.Frame != first.Frame || out.TriggerMs != first.TriggerMs {
					t.Errorf("slow: frame %d at %v ms, fast: frame %d at %v ms", out.Frame, out.TriggerMs, first.Frame, first.TriggerMs)
				}
				if !bytes.Equal(out.Artifacts[0].Body, first.Artifacts[0].Body) {
					t.Errorf("the slow CDN's picture differs from the fast one's")
				}
			}
		})
	}
}

// TestSlowAssetsUnreadBody: a js page that fetches a file and never reads
// its body leaves the load unfinished (the pipe to the page fills up); its
// screenshot waits for the page's loads only while they move, so the page
// is captured rather than timed out.
func TestSlowAssetsUnreadBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB, more than the pipe holds
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(big)
	})
	j := jsJob(``, `body{margin:0;background:#f00}`, `fetch('data/big.bin').then(function (r) {
  window.kept = r; // the body is never read
  document.body.style.background = '#00f';
  capture();
});`, 16, 16, empplay.OutputPNG)
	j.TimeoutMs = 15000
	j.Assets = map[string]string{"data/big.bin": src.URL + "/big.bin"}
	out, img := mustRender(t, b, j)
	if out.Trigger != TriggerCapture {
		t.Errorf("trigger %q, want %q", out.Trigger, TriggerCapture)
	}
	checkPixels(t, img, []px{{4, 4, color.NRGBA{0, 0, 255, 255}}})
}

// slowCDNBrowser starts a CDN on loopback that answers with h, and a test
// browser whose worker fetches the jobs' files from it with no cache, so
// that every job asks the CDN.
func slowCDNBrowser(t *testing.T, h http.HandlerFunc) (*Browser, *httptest.Server) {
	t.Helper()
	src := httptest.NewTLSServer(h)
	t.Cleanup(src.Close)
	origins, err := fetcher.NewOrigins(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := fetcher.New(fetcher.Config{Origins: origins, Client: src.Client()})
	return newTestBrowser(t, Options{Assets: f}), src
}

// TestSlowAssetsDeadline: a js page whose file has not come by the job's
// deadline fails with render_timeout naming the file, not "the page did
// not load" (it had).
func TestSlowAssetsDeadline(t *testing.T) {
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		select { // the behaviour under test: a CDN that does not answer in time
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	})
	j := jsJob(``, `body{margin:0;background:#00f}`, `window.addEventListener('load', function () {
  var d = document.createElement('div');
  d.style.cssText = 'width:8px;height:8px;background:url(data/tile.png)';
  document.body.appendChild(d);
  capture();
});`, 8, 8, empplay.OutputPNG)
	j.TimeoutMs = 3000
	j.Assets = map[string]string{"data/tile.png": src.URL + "/tile.png"}
	_, err := render(t, b, j)
	t.Logf("message: %v", err)
	if code := empplay.ErrorCode(err); code != empplay.CodeRenderTimeout ||
		!strings.Contains(err.Error(), "the page was ready") || !strings.HasSuffix(err.Error(), ": data/tile.png") {
		t.Errorf("got %s: %v; want render_timeout saying the page was ready and naming data/tile.png", code, err)
	}
}
