package render

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// The virtual clock's tests (see the package doc, "Time"). A sketch paints
// what it read of the clock into the picture, and the test reads it back.

// clockPaint is sketch code that fills the canvas with the colour
// (frameCount, round(millis()) & 255, round(millis()) >> 8).
const clockPaint = `
function paintClock() {
  const m = Math.round(millis());
  background(frameCount & 255, m & 255, (m >> 8) & 255);
}
`

// pixelAt is the exact colour of img at (x, y).
func pixelAt(img image.Image, x, y int) color.NRGBA {
	return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
}

// clockColour is what clockPaint paints at frame n and millis m.
func clockColour(n int, m float64) color.NRGBA {
	r := int(math.Round(m))
	return color.NRGBA{uint8(n & 255), uint8(r & 255), uint8((r >> 8) & 255), 255}
}

func TestClockFrameN(t *testing.T) {
	b := sharedBrowser(t)
	for _, major := range []string{"1", "2"} {
		for _, fps := range []int{60, 24} {
			for _, n := range []int{1, 30, 120} {
				t.Run(fmt.Sprintf("p5@%s/%dfps/frame%d", major, fps, n), func(t *testing.T) {
					rate := ""
					if fps != 60 {
						rate = fmt.Sprintf("frameRate(%d);", fps) // 60 is the default
					}
					j := flatJob(clockPaint+`
function setup() { createCanvas(20, 20); `+rate+` }
function draw() { paintClock(); }`, 20, 20)
					j.P5Version = major
					j.CaptureFrames = n
					out, img := mustRender(t, b, j)
					want := float64(n-1) * 1000 / float64(fps)
					if out.Trigger != "frames" || out.Frame != n {
						t.Errorf("trigger %q at frame %d, want frames at %d", out.Trigger, out.Frame, n)
					}
					if math.Abs(out.TriggerMs-want) > 1e-6 {
						t.Errorf("triggerMs %v, want %v", out.TriggerMs, want)
					}
					if got, w := pixelAt(img, 10, 10), clockColour(n, want); got != w {
						t.Errorf("painted %v, want %v (frame %d, millis %v)", got, w, n, want)
					}
				})
			}
		}
	}
}

// TestClockSameBytes renders a sketch whose picture depends on millis()
// twice: the same PNG both times.
func TestClockSameBytes(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
function setup() { createCanvas(120, 80); }
function draw() {
  background(20);
  noStroke();
  for (let i = 0; i < 40; i++) {
    fill((i * 37 + millis() / 3) % 255, 120, 200);
    circle(60 + 50 * sin(millis() / 300 + i), 40 + 30 * cos(millis() / 170 + i * 2), 6);
  }
  fill(255);
  text(nf(millis(), 0, 3) + ' ' + Date.now(), 4, 76);
}`
	for _, major := range []string{"1", "2"} {
		t.Run("p5@"+major, func(t *testing.T) {
			var sums [2][32]byte
			for i := range sums {
				j := job(code, 120, 80)
				j.P5Version = major
				j.CaptureFrames = 77
				out, _ := mustRender(t, b, j)
				sums[i] = sha256.Sum256(out.Artifacts[0].Body)
			}
			if sums[0] != sums[1] {
				t.Errorf("two renders differ: %x and %x", sums[0], sums[1])
			}
		})
	}
}

// TestClockSignalFrame100: a 10 fps sketch that calls capture() or
// $fx.preview() in frame 100 is captured there, at 9.9 s of virtual time
// (which the default deadline would not allow in real time on a busy test
// machine either way: the trigger and frame say it was not the deadline).
func TestClockSignalFrame100(t *testing.T) {
	b := sharedBrowser(t)
	for _, major := range []string{"1", "2"} {
		for _, call := range []struct{ code, trigger string }{
			{"capture()", TriggerCapture},
			{"$fx.preview()", TriggerFxPreview},
		} {
			t.Run("p5@"+major+"/"+call.trigger, func(t *testing.T) {
				j := flatJob(clockPaint+`
function setup() { createCanvas(20, 20); frameRate(10); }
function draw() { paintClock(); if (frameCount === 100) `+call.code+`; }`, 20, 20)
				j.P5Version = major
				out, img := mustRender(t, b, j)
				if out.Trigger != call.trigger || out.Frame != 100 {
					t.Errorf("trigger %q at frame %d, want %q at 100", out.Trigger, out.Frame, call.trigger)
				}
				if out.TriggerMs != 9900 {
					t.Errorf("triggerMs %v, want 9900", out.TriggerMs)
				}
				if got, w := pixelAt(img, 5, 5), clockColour(100, 9900); got != w {
					t.Errorf("painted %v, want %v", got, w)
				}
			})
		}
	}
}

// TestClockTimers: timers fire in virtual time, captureDelayMs is virtual
// time, and Date is virtual.
func TestClockTimers(t *testing.T) {
	b := sharedBrowser(t)
	for _, major := range []string{"1", "2"} {
		t.Run("p5@"+major+"/setInterval", func(t *testing.T) {
			// A sketch without a loop, drawn by a timer: the fifth tick of a
			// 700 ms interval paints the clock and captures.
			j := flatJob(`
function setup() {
  createCanvas(20, 20);
  noLoop();
  const t0 = Date.now();
  let n = 0;
  const id = setInterval(() => {
    n++;
    if (n < 5) return;
    clearInterval(id);
    const m = Math.round(millis()), d = Date.now() - t0;
    background(n, m & 255, d === m ? (m >> 8) : 0);
    capture();
  }, 700);
}`, 20, 20)
			j.P5Version = major
			out, img := mustRender(t, b, j)
			if out.Trigger != TriggerCapture || out.TriggerMs != 3500 {
				t.Errorf("trigger %q at %v ms, want capture at 3500", out.Trigger, out.TriggerMs)
			}
			if got, w := pixelAt(img, 5, 5), (color.NRGBA{5, 3500 & 255, 3500 >> 8, 255}); got != w {
				t.Errorf("painted %v, want %v", got, w)
			}
		})
		t.Run("p5@"+major+"/captureDelayMs", func(t *testing.T) {
			j := flatJob(clockPaint+`
function setup() { createCanvas(20, 20); frameRate(20); }
function draw() { paintClock(); }`, 20, 20)
			j.P5Version = major
			j.CaptureDelayMs = 4000
			out, img := mustRender(t, b, j)
			// The delay is due at 4000 ms, before frame 81 at 20 fps:
			// timers due by a frame's time run before it.
			if out.Trigger != "delay" || out.Frame != 81 || out.TriggerMs != 4000 {
				t.Errorf("trigger %q at frame %d, %v ms; want delay at frame 81, 4000 ms", out.Trigger, out.Frame, out.TriggerMs)
			}
			if got, w := pixelAt(img, 5, 5), clockColour(81, 4000); got != w {
				t.Errorf("painted %v, want %v", got, w)
			}
		})
	}
}

// TestClockBusyWait: a draw() that busy-waits on Date.now() still ends,
// and the output says it busy-waited.
func TestClockBusyWait(t *testing.T) {
	b := sharedBrowser(t)
	for _, major := range []string{"1", "2"} {
		t.Run("p5@"+major, func(t *testing.T) {
			j := flatJob(`
function setup() { createCanvas(20, 20); }
function draw() {
  const t = Date.now();
  while (Date.now() - t < 50) {}
  background(frameCount, 0, 0);
}`, 20, 20)
			j.P5Version = major
			j.CaptureFrames = 3
			out, img := mustRender(t, b, j)
			if out.Trigger != "frames" || out.Frame != 3 {
				t.Errorf("trigger %q at frame %d, want frames at 3", out.Trigger, out.Frame)
			}
			if got := pixelAt(img, 5, 5); got.R != 3 {
				t.Errorf("painted %v, want red 3", got)
			}
			if !strings.Contains(strings.Join(out.Warnings, "\n"), "busy wait") {
				t.Errorf("warnings %q do not mention the busy wait", out.Warnings)
			}
		})
	}
}

// TestClockReal: clock "real" keeps the machine's clock: Date is not the
// virtual epoch, and performance.now() has moved on since navigation.
func TestClockReal(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
function setup() {
  createCanvas(20, 20);
  noLoop();
  const epoch = Date.now() === 1735689600000, zero = performance.now() === 0;
  background(epoch ? 255 : 0, zero ? 255 : 0, 0);
}`
	for _, major := range []string{"1", "2"} {
		for _, tc := range []struct {
			clock string
			want  color.NRGBA
		}{
			{"", color.NRGBA{255, 255, 0, 255}},
			{empplay.ClockReal, color.NRGBA{0, 0, 0, 255}},
		} {
			t.Run("p5@"+major+"/"+tc.clock, func(t *testing.T) {
				j := flatJob(code, 20, 20)
				j.P5Version = major
				j.Clock = tc.clock
				_, img := mustRender(t, b, j)
				if got := pixelAt(img, 5, 5); got != tc.want {
					t.Errorf("painted %v, want %v", got, tc.want)
				}
			})
		}
	}
}

// TestClockJSFrames: a js page animated with requestAnimationFrame runs
// on the virtual clock from its load event, 60 frames a second.
func TestClockJSFrames(t *testing.T) {
	b := sharedBrowser(t)
	j := jsJob(`<canvas id="c" width="20" height="20"></canvas>`, "body{margin:0}", `
const g = document.getElementById('c').getContext('2d');
let n = 0;
function frame(ts) {
  n++;
  const m = Math.round(ts);
  g.fillStyle = 'rgb(' + n + ',' + (m & 255) + ',' + (m >> 8) + ')';
  g.fillRect(0, 0, 20, 20);
  if (n === 120) { empplay.capture(); return; }
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);`, 20, 20, "")
	j.AllowBlank = true
	out, err := render(t, b, j)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	want := 119 * 1000.0 / 60
	if out.Trigger != TriggerCapture || out.Frame != 120 || math.Abs(out.TriggerMs-want) > 1e-6 {
		t.Errorf("trigger %q at frame %d, %v ms; want capture at frame 120, %v ms", out.Trigger, out.Frame, out.TriggerMs, want)
	}
	img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	if got, w := pixelAt(img, 10, 10), clockColour(120, want); got != w {
		t.Errorf("painted %v, want %v", got, w)
	}
}

// TestClockSetupWaitsOnTimer: a p5 2.x setup() that awaits a timer gets
// it, in virtual time, and frame 1 comes after.
func TestClockSetupWaitsOnTimer(t *testing.T) {
	b := sharedBrowser(t)
	j := flatJob(clockPaint+`
let waited = 0;
async function setup() {
  createCanvas(20, 20);
  const t0 = performance.now();
  await new Promise(r => setTimeout(r, 1500));
  waited = performance.now() - t0;
}
function draw() { paintClock(); if (frameCount === 3) { fill(waited === 1500 ? 255 : 0); rect(0, 0, 5, 5); capture(); } }`, 20, 20)
	j.P5Version = "2"
	out, img := mustRender(t, b, j)
	if out.Trigger != TriggerCapture || out.Frame != 3 {
		t.Errorf("trigger %q at frame %d, want capture at frame 3", out.Trigger, out.Frame)
	}
	if got := pixelAt(img, 1, 1); got != (color.NRGBA{255, 255, 255, 255}) {
		t.Errorf("setup() waited other than 1500 virtual ms: corner %v", got)
	}
	if got, w := pixelAt(img, 10, 10), clockColour(3, 2*1000.0/60); got != w {
		t.Errorf("painted %v, want %v", got, w)
	}
}

// TestClockHoldsForLoads: an image a looping sketch loads in draw()
// arrives before the next frame, however long the browser takes to
// decode it: the clock waits for it.
func TestClockHoldsForLoads(t *testing.T) {
	b := sharedBrowser(t)
	// A 1x1 PNG.
	const dot = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
	for _, major := range []string{"1", "2"} {
		t.Run("p5@"+major, func(t *testing.T) {
			j := flatJob(`
let arrived = 0;
function setup() { createCanvas(20, 20); }
function draw() {
  if (frameCount === 3) loadImage('`+dot+`', () => { arrived = frameCount; });
  background(arrived, 0, 0);
}`, 20, 20)
			j.P5Version = major
			j.CaptureFrames = 30
			_, img := mustRender(t, b, j)
			if got := pixelAt(img, 5, 5); got.R != 3 {
				t.Errorf("the image arrived in frame %d, want 3 (before frame 4)", got.R)
			}
		})
	}
}

// TestClockJSTimers: a js page's timers and its captureDelayMs run in
// virtual time, from the load event (and its two frames).
func TestClockJSTimers(t *testing.T) {
	b := sharedBrowser(t)
	j := jsJob(`<canvas id="c" width="20" height="20"></canvas>`, "body{margin:0}", `
const g = document.getElementById('c').getContext('2d');
let n = 0;
setInterval(() => {
  n++;
  g.fillStyle = 'rgb(' + (n * 10) + ',0,0)';
  g.fillRect(0, 0, 20, 20);
}, 100);`, 20, 20, "")
	j.AllowBlank = true
	j.CaptureDelayMs = 1000
	out, err := render(t, b, j)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	// Ready after two frames (at 0 and 1000/60 ms), then 1000 ms: ten
	// ticks of the interval have run.
	want := 1000 + 1000.0/60
	if out.Trigger != "delay" || math.Abs(out.TriggerMs-want) > 1e-6 {
		t.Errorf("trigger %q at %v ms, want delay at %v", out.Trigger, out.TriggerMs, want)
	}
	img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	checkPixels(t, img, []px{{10, 10, color.NRGBA{100, 0, 0, 255}}})
}

// TestClockSketchStarted: code may start its p5 sketch from a timer (or a
// load handler's timer): the page runs its timers in virtual time before
// it decides that the code has no sketch, the same way every run. Code
// without a sketch still fails promptly, and a canvas drawn by hand with
// an interval is captured once its first second of timers has run.
func TestClockSketchStartedByTimer(t *testing.T) {
	b := sharedBrowser(t)
	const sketch = `p => { p.setup = () => { p.createCanvas(8, 8); p.pixelDensity(1); p.background(n * 20, 0, 0); }; }`
	for _, tc := range []struct {
		name, code string
		red        uint8
		triggerMs  float64
	}{
		{"setTimeout 0", `let n = 12; setTimeout(() => new p5(` + sketch + `), 0);`, 240, 1},
		{"load handler's timer", `let n = 12; window.addEventListener('load', () => setTimeout(() => new p5(` + sketch + `), 10));`, 240, 10},
		// The interval's ticks at 10, 20, ..., 100 come first: the same
		// count every run.
		{"after an interval's ticks", `let n = 0; setInterval(() => n++, 10); setTimeout(() => new p5(` + sketch + `), 105);`, 200, 105},
		{"a timer at 900 ms", `let n = 12; setTimeout(() => new p5(` + sketch + `), 900);`, 240, 900},
		// The driver's first frame, once the timers have run.
		{"an animation frame", `let n = 12; requestAnimationFrame(() => new p5(` + sketch + `));`, 240, 0},
	} {
		for _, major := range fidMajors {
			t.Run(tc.name+" p5@"+major, func(t *testing.T) {
				out, img := mustRender(t, b, fidJob(tc.code, 8, 8, major))
				if out.Trigger != TriggerSetup || out.TriggerMs != tc.triggerMs {
					t.Errorf("trigger %q at %v ms, want setup at %v", out.Trigger, out.TriggerMs, tc.triggerMs)
				}
				if got, w := pixelAt(img, 4, 4), (color.NRGBA{tc.red, 0, 0, 255}); got != w {
					t.Errorf("painted %v, want %v", got, w)
				}
			})
		}
	}
	t.Run("no sketch, an interval", func(t *testing.T) {
		start := time.Now()
		_, err := render(t, b, fidJob(`let n = 0; setInterval(() => n++, 5);`, 8, 8, "1"))
		// Decided, not timed out (30 s); the margin is for a loaded host.
		if elapsed := time.Since(start); elapsed > 15*time.Second {
			t.Errorf("took %v", elapsed)
		}
		if empplay.ErrorCode(err) != empplay.CodeNoCanvas || !strings.Contains(err.Error(), "no setup() or draw()") {
			t.Errorf("got %v, want no_canvas: no setup() or draw()", err)
		}
	})
	t.Run("canvas by hand, an interval", func(t *testing.T) {
		// Ticks at 100, 200, ..., 1000: the timers of the first second.
		out, img := mustRender(t, b, fidJob(`const c = document.createElement('canvas');
c.width = c.height = 8;
document.body.appendChild(c);
const g = c.getContext('2d');
let n = 0;
setInterval(() => { n++; g.fillStyle = 'rgb(' + n * 20 + ',0,0)'; g.fillRect(0, 0, 8, 8); }, 100);`, 8, 8, "1"))
		if out.Trigger != TriggerLoad || out.TriggerMs != 1000 {
			t.Errorf("trigger %q at %v ms, want load at 1000", out.Trigger, out.TriggerMs)
		}
		if got, w := pixelAt(img, 4, 4), (color.NRGBA{200, 0, 0, 255}); got != w {
			t.Errorf("painted %v, want %v", got, w)
		}
	})
	t.Run("canvas by hand in an animation frame", func(t *testing.T) {
		out, img := mustRender(t, b, fidJob(`requestAnimationFrame(() => {
  const c = document.createElement('canvas');
  c.width = c.height = 8;
  document.body.appendChild(c);
  const g = c.getContext('2d');
  g.fillStyle = 'rgb(0,0,240)';
  g.fillRect(0, 0, 8, 8);
});`, 8, 8, "1"))
		if out.Trigger != TriggerLoad {
			t.Errorf("trigger %q, want load", out.Trigger)
		}
		if got, w := pixelAt(img, 4, 4), (color.NRGBA{0, 0, 240, 255}); got != w {
			t.Errorf("painted %v, want %v", got, w)
		}
	})
}
