package render

import (
	"image/color"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/video"
)

// visibilityProbe defines paint(), the colour of what a page is told and
// what it is: red when a same-origin iframe's document (which the prelude
// does not touch) says the page is hidden, green when the page's own
// document says it is shown.
const visibilityProbe = `function paint() {
  const f = document.createElement('iframe');
  document.body.appendChild(f);
  const really = f.contentDocument.visibilityState;
  f.remove();
  const says = document.visibilityState === 'visible' && document.hidden === false;
  return [really === 'hidden' ? 255 : 0, says ? 255 : 0, 0];
}`

// TestSketchPageHidden checks which pages render hidden (see present): a
// p5 sketch on the virtual clock does, so that the browser makes no frames
// of it, yet its document says it is shown, as in the artist's browser; a
// page on the real clock and a js page (a screenshot) are shown. A
// same-origin iframe's document, which the prelude does not touch, tells
// the page's real state: red for hidden. Green is what the job's own
// document says: shown.
func TestSketchPageHidden(t *testing.T) {
	b := sharedBrowser(t)
	sketch := visibilityProbe + `
function setup() { createCanvas(20, 20); pixelDensity(1); noStroke(); background(...paint()); noLoop(); }`
	page := `<canvas id="c" width="20" height="20"></canvas>`
	js := visibilityProbe + `
addEventListener('load', () => { const g = document.getElementById('c').getContext('2d');
  const [r, gr, bl] = paint(); g.fillStyle = 'rgb(' + r + ',' + gr + ',' + bl + ')'; g.fillRect(0, 0, 20, 20); });`
	for _, tc := range []struct {
		name string
		job  *empplay.Job
		want color.NRGBA
	}{
		{"p5, virtual clock: hidden, says shown", flatJob(sketch, 20, 20), yellow},
		{"p5, real clock: shown", realClock(flatJob(sketch, 20, 20)), green},
		{"js page: shown", jsJob(page, `body{margin:0}`, js, 20, 20, empplay.OutputPNG), green},
		{"p5 again, after a shown page: hidden", flatJob(sketch, 20, 20), yellow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, img := mustRender(t, b, tc.job)
			checkPixels(t, img, []px{{10, 10, tc.want}})
		})
	}
}

// TestVideoPageHidden: a video renders hidden too (its frames are read
// from the canvas, never looked at), and its sketch is told it is shown:
// every frame is yellow (see TestSketchPageHidden), not green.
func TestVideoPageHidden(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	code := visibilityProbe + `
function setup() { createCanvas(64, 64); pixelDensity(1); noStroke(); }
function draw() { background(...paint()); }`
	ctx := testenv.Context(t, time.Minute)
	out, err := b.Render(ctx, videoJob(code, 64, 64, 0.5, 10, ""))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	n := 0
	err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 64, 64, func(k int, rgb []byte) error {
		n++
		if got, want := patch(rgb, 64, 16, 16, 32, 32), [3]int{255, 255, 0}; !near(got, want, 24) {
			t.Errorf("frame %d: colour %v; want %v (hidden, told shown)", k, got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no frames")
	}
}
