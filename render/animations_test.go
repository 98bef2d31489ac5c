package render

import (
	"bytes"
	"image/color"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// TestCSSAnimationsOnTheVirtualClock: a js page's CSS animations,
// transitions and Web Animations are where virtual time puts them when
// the screenshot is taken, whether the page's image came from the CDN at
// once or 800 ms later. Each animation goes from red to blue in four
// steps of 250 ms. Before, they ran on the browser's clock: captureDelayMs
// 500 passes in a few real milliseconds, and the screenshot showed them
// near their start, or further on when the image was slow.
func TestCSSAnimationsOnTheVirtualClock(t *testing.T) {
	tile := solidPNG(t, 4, 4, color.NRGBA{0, 255, 0, 255})
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			time.Sleep(800 * time.Millisecond) // the behaviour under test: a slow CDN
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(tile)
	})
	// Step k of red to blue: what the animation shows between k*250 and
	// (k+1)*250 ms.
	step := func(k int) [3]int { return [3]int{255 - k*255/4, 0, k * 255 / 4} }
	const css = `body{margin:0} #a{width:16px;height:16px;background:#f00}
@keyframes rb { from { background: #f00 } to { background: #00f } }`
	for _, tc := range []struct {
		name    string
		css, js string
		delayMs int
		want    int // the step in the picture
	}{
		// From the page's load (virtual 0), captured 500 ms after it is
		// ready (two frames after the load, 16.7 ms): 516.7 ms, step 2.
		{"CSS animation", `#a{animation: rb 1s steps(4, end) forwards}`, ``, 500, 2},
		// Started by a timer at 300 ms; captured at 766.7 ms: 466.7 ms
		// in, step 1.
		{"CSS transition", `#a{transition: background 1s steps(4, end)} #a.on{background:#00f}`,
			`setTimeout(() => document.getElementById('a').className = 'on', 300);`, 750, 1},
		// element.animate() at the load event; captured at 766.7 ms: step 3.
		{"Web Animation", ``, `window.addEventListener('load', () => document.getElementById('a').animate(
  [{ background: '#f00' }, { background: '#00f' }], { duration: 1000, easing: 'steps(4, end)', fill: 'forwards' }));`, 750, 3},
		// Paused by the page at 300 ms (step 1), held there.
		{"paused by the page", `#a{animation: rb 1s steps(4, end) forwards}`,
			`setTimeout(() => document.getAnimations().forEach((a) => a.pause()), 300);`, 900, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var first []byte
			for _, path := range []string{"/slow/tile.png", "/tile.png"} {
				j := jsJob(`<div id="a"></div><img src="data/tile.png" width="4" height="4">`, css+tc.css, tc.js, 16, 16, empplay.OutputPNG)
				j.CaptureDelayMs = tc.delayMs
				j.Assets = map[string]string{"data/tile.png": src.URL + path}
				out, img := mustRender(t, b, j)
				if got, want := rgbAt(img, 8, 8), step(tc.want); !near(got, want, 2) {
					t.Errorf("%s: the picture is %v at %v ms; want step %d, %v", path, got, out.TriggerMs, tc.want, want)
				}
				if first == nil {
					first = out.Artifacts[0].Body
				} else if !bytes.Equal(first, out.Artifacts[0].Body) {
					t.Errorf("the picture differs with the CDN answering at once and later")
				}
			}
		})
	}
}
