package render

import (
	"image/color"
	"testing"

	"github.com/empplay/empplay"
)

// TestSketchPageHidden checks which pages render hidden (see present): a
// p5 sketch on the virtual clock does, so that the browser makes no frames
// of it, yet its document says it is shown, as in the artist's browser; a
// page on the real clock and a js page (a screenshot) are shown. A
// same-origin iframe's document, which the prelude does not touch, tells
// the page's real state: red for hidden. Green is what the job's own
// document says: shown.
func TestSketchPageHidden(t *testing.T) {
	b := sharedBrowser(t)
	const probe = `function paint() {
  const f = document.createElement('iframe');
  document.body.appendChild(f);
  const really = f.contentDocument.visibilityState;
  f.remove();
  const says = document.visibilityState === 'visible' && document.hidden === false;
  return [really === 'hidden' ? 255 : 0, says ? 255 : 0, 0];
}`
	sketch := probe + `
function setup() { createCanvas(20, 20); pixelDensity(1); noStroke(); background(...paint()); noLoop(); }`
	page := `<canvas id="c" width="20" height="20"></canvas>`
	js := probe + `
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
