package render

// Fidelity tests: sketches of every kind artists publish (both p5 majors,
// global and instance mode, WebGL with custom shaders, text in every
// script, pixel arrays, seeded platforms, several canvases, transparency,
// HiDPI) and the ways they fail, checked on the pixels that matter rather
// than on "no error".

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// fidTimeoutMs is the deadline of an ordinary job here: generous, as the
// test machine may be loaded.
const fidTimeoutMs = 15000

// fidJob is a p5 job of major version with a generous deadline.
func fidJob(code string, w, h int, version string) *empplay.Job {
	j := job(code, w, h)
	j.P5Version = version
	j.TimeoutMs = fidTimeoutMs
	return j
}

// fidMajors are the p5 major versions, as P5Version values.
var fidMajors = []string{"1", "2"}

// fidNRGBA returns img as *image.NRGBA.
func fidNRGBA(img image.Image) *image.NRGBA {
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	n := image.NewNRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			n.Set(x, y, img.At(x, y))
		}
	}
	return n
}

// fidCountPixels counts the pixels of r in img for which keep is true.
func fidCountPixels(img image.Image, r image.Rectangle, keep func(c color.NRGBA) bool) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if keep(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)) {
				n++
			}
		}
	}
	return n
}

func fidAbsDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// fidDark is an opaque, nearly black pixel.
func fidDark(c color.NRGBA) bool { return c.A > 200 && c.R < 100 && c.G < 100 && c.B < 100 }

// fidColourful is an opaque pixel far from grey.
func fidColourful(c color.NRGBA) bool {
	return c.A > 200 && fidAbsDiff(c.R, c.G)+fidAbsDiff(c.G, c.B) > 120
}

// fidKeepImage writes img to the temporary directory for a look after a
// failure.
func fidKeepImage(t *testing.T, img image.Image, name string) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return
	}
	path := filepath.Join(os.TempDir(), "empplay-fidelity-"+name+".png")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err == nil {
		t.Logf("the render is in %s", path)
	}
}

// fidRenderRetry is mustRender, with up to attempts tries while the job fails
// with render_timeout.
func fidRenderRetry(t *testing.T, b *Browser, j *empplay.Job, attempts int) (*empplay.Output, image.Image) {
	t.Helper()
	for i := 1; i < attempts; i++ {
		out, err := render(t, b, j)
		if err == nil {
			img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
			if err != nil {
				t.Fatalf("decode the PNG: %v", err)
			}
			return out, img
		}
		if empplay.ErrorCode(err) != empplay.CodeRenderTimeout {
			t.Fatalf("Render: %v", err)
		}
		t.Logf("attempt %d: %v; again", i, err)
	}
	return mustRender(t, b, j)
}

// fidWantSize fails the test unless img is w x h.
func fidWantSize(t *testing.T, img image.Image, w, h int) {
	t.Helper()
	if got := img.Bounds().Size(); got.X != w || got.Y != h {
		t.Errorf("image is %dx%d, want %dx%d", got.X, got.Y, w, h)
	}
}

// fidWantError checks that err is a permanent *empplay.Error with code whose
// message contains every one of want.
func fidWantError(t *testing.T, err error, code empplay.Code, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Render succeeded; want %s", code)
	}
	var e *empplay.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *empplay.Error", err, err)
	}
	t.Logf("message: %v", err)
	if e.Code != code || e.Retryable {
		t.Errorf("code %s retryable=%v, want %s permanent (%v)", e.Code, e.Retryable, code, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("message %q does not mention %q", err, w)
		}
	}
}

// fidTwoColours is a job that must succeed, for checking that a browser still
// works: green with a blue square.
func fidTwoColours(version string) *empplay.Job {
	return fidJob(`
function setup() {
  createCanvas(20, 20);
  background(0, 255, 0);
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 5, 5);
}`, 20, 20, version)
}

func fidCheckTwoColours(t *testing.T, b *Browser, version string) {
	t.Helper()
	_, img := mustRender(t, b, fidTwoColours(version))
	checkPixels(t, img, []px{{15, 15, green}, {2, 2, blue}})
}

var fidWhite = color.NRGBA{255, 255, 255, 255}

// TestFidelityModes draws the same scene in both majors, in global and in
// instance mode.
func TestFidelityModes(t *testing.T) {
	b := sharedBrowser(t)
	const global = `
function setup() {
  createCanvas(80, 60);
  noLoop();
}
function draw() {
  background(255);
  noStroke();
  fill(255, 0, 0);
  rect(0, 0, 40, 30);
  push();
  translate(60, 45);
  fill(0, 0, 255);
  ellipse(0, 0, 20, 20);
  pop();
  stroke(0, 255, 0);
  strokeWeight(4);
  line(0, 55, 40, 55);
}`
	const instance = `
new p5(function (p) {
  p.setup = function () {
    p.createCanvas(80, 60);
    p.noLoop();
  };
  p.draw = function () {
    p.background(255);
    p.noStroke();
    p.fill(255, 0, 0);
    p.rect(0, 0, 40, 30);
    p.push();
    p.translate(60, 45);
    p.fill(0, 0, 255);
    p.ellipse(0, 0, 20, 20);
    p.pop();
    p.stroke(0, 255, 0);
    p.strokeWeight(4);
    p.line(0, 55, 40, 55);
  };
});`
	for _, version := range fidMajors {
		for _, mode := range []struct{ name, code string }{{"global", global}, {"instance", instance}} {
			t.Run(fmt.Sprintf("p5 %s %s", version, mode.name), func(t *testing.T) {
				out, img := mustRender(t, b, fidJob(mode.code, 80, 60, version))
				fidWantSize(t, img, 80, 60)
				if out.Trigger != TriggerDraw {
					t.Errorf("trigger %q, want %q", out.Trigger, TriggerDraw)
				}
				checkPixels(t, img, []px{{20, 15, red}, {60, 45, blue}, {70, 10, fidWhite}, {20, 55, green}, {60, 55, fidWhite}})
			})
		}
	}
}

// fidShaderGradient is the colour the gradient shaders below give the pixel
// (x, y) of a w x h canvas: r = x/w, g = y/h from the bottom, b = 0.5.
func fidShaderGradient(x, y, w, h int) color.NRGBA {
	r := (float64(x) + 0.5) / float64(w) * 255
	g := (float64(h-y) - 0.5) / float64(h) * 255
	return color.NRGBA{uint8(r + 0.5), uint8(g + 0.5), 128, 255}
}

// TestFidelityWebGLShader renders a WEBGL canvas through a custom shader
// (GLSL ES 1.00, vertex and fragment source) whose fragment colour is a
// gradient of gl_FragCoord.
func TestFidelityWebGLShader(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
const vert = ` + "`" + `
attribute vec3 aPosition;
uniform mat4 uModelViewMatrix;
uniform mat4 uProjectionMatrix;
void main() {
  gl_Position = uProjectionMatrix * uModelViewMatrix * vec4(aPosition, 1.0);
}` + "`" + `;
const frag = ` + "`" + `
precision highp float;
uniform vec2 uRes;
void main() {
  gl_FragColor = vec4(gl_FragCoord.x / uRes.x, gl_FragCoord.y / uRes.y, 0.5, 1.0);
}` + "`" + `;
let sh;
function setup() {
  createCanvas(100, 100, WEBGL);
  pixelDensity(1);
  sh = createShader(vert, frag);
  noLoop();
}
function draw() {
  background(0);
  noStroke();
  shader(sh);
  sh.setUniform('uRes', [width, height]);
  plane(width, height);
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			out, img := mustRender(t, b, fidJob(code, 100, 100, version))
			fidWantSize(t, img, 100, 100)
			if out.Renderer == "" {
				t.Errorf("no WebGL renderer reported")
			}
			var want []px
			for _, p := range [][2]int{{5, 5}, {50, 50}, {94, 10}, {10, 94}, {80, 30}} {
				want = append(want, px{p[0], p[1], fidShaderGradient(p[0], p[1], 100, 100)})
			}
			checkPixels(t, img, want)
		})
	}
}

// TestFidelityWebGL2 renders through a GLSL ES 3.00 shader, which needs a
// WebGL2 context: p5 2's WEBGL canvas is one, p5 1 asks for it with
// setAttributes('version', 2).
func TestFidelityWebGL2(t *testing.T) {
	b := sharedBrowser(t)
	// The sketch paints the whole canvas red with a white corner when it
	// has no WebGL2 context (the test then skips for p5 1), and otherwise a
	// magenta background with the shader's gradient over the middle.
	const code = `
const vert = ` + "`" + `#version 300 es
in vec3 aPosition;
uniform mat4 uModelViewMatrix;
uniform mat4 uProjectionMatrix;
void main() {
  gl_Position = uProjectionMatrix * uModelViewMatrix * vec4(aPosition, 1.0);
}` + "`" + `;
const frag = ` + "`" + `#version 300 es
precision highp float;
uniform vec2 uRes;
out vec4 outColor;
void main() {
  outColor = vec4(gl_FragCoord.x / uRes.x, gl_FragCoord.y / uRes.y, 0.5, 1.0);
}` + "`" + `;
function setup() {
  createCanvas(100, 100, WEBGL);
  if (SET_ATTRIBUTES) setAttributes('version', 2);
  pixelDensity(1);
  const gl2 = typeof WebGL2RenderingContext !== 'undefined' && drawingContext instanceof WebGL2RenderingContext;
  noStroke();
  if (!gl2) {
    background(255, 0, 0);
    fill(255);
    rect(-50, -50, 10, 10);
    return;
  }
  background(255, 0, 255);
  const sh = createShader(vert, frag);
  shader(sh);
  sh.setUniform('uRes', [width, height]);
  plane(50, 50);
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			setAttrs := "false"
			if version == "1" {
				setAttrs = "typeof setAttributes === 'function'"
			}
			out, img := mustRender(t, b, fidJob(strings.Replace(code, "SET_ATTRIBUTES", setAttrs, 1), 100, 100, version))
			fidWantSize(t, img, 100, 100)
			if c := color.NRGBAModel.Convert(img.At(80, 80)).(color.NRGBA); c.R > 200 && c.G < 50 && c.B < 50 {
				if version == "1" {
					t.Skip("p5 1 gave no WebGL2 context after setAttributes('version', 2)")
				}
				t.Fatalf("p5 %s's WEBGL canvas is not WebGL2", version)
			}
			if out.Renderer == "" {
				t.Errorf("no WebGL renderer reported")
			}
			magenta := color.NRGBA{255, 0, 255, 255}
			checkPixels(t, img, []px{
				{5, 5, magenta}, {95, 95, magenta},
				{30, 30, fidShaderGradient(30, 30, 100, 100)},
				{50, 50, fidShaderGradient(50, 50, 100, 100)},
				{70, 60, fidShaderGradient(70, 60, 100, 100)},
			})
		})
	}
}

// TestFidelityText draws Latin, CJK and emoji text large, black on white,
// one character per 80x80 cell: Latin and CJK cells must have dark glyph
// pixels, CJK cells must differ from each other (missing glyphs all look
// alike: the same .notdef box), and emoji cells must be in colour (Noto
// Color Emoji).
func TestFidelityText(t *testing.T) {
	b := sharedBrowser(t)
	const cell = 80
	latin := []string{"A", "g", "W", "&"}
	cjk := []string{"漢", "字", "か", "な", "한", "글"}
	emoji := []string{"🎨", "🌈"}
	rows := [][]string{latin, cjk, emoji}
	w, h := cell*len(cjk), cell*len(rows)
	js, err := json.Marshal(rows)
	if err != nil {
		t.Fatal(err)
	}
	code := fmt.Sprintf(`
const rows = %s;
function setup() {
  createCanvas(%d, %d);
  pixelDensity(1);
  background(255);
  fill(0);
  noStroke();
  textSize(56);
  textAlign(CENTER, CENTER);
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < rows[r].length; c++) {
      text(rows[r][c], c * %[4]d + %[4]d / 2, r * %[4]d + %[4]d / 2);
    }
  }
}`, js, w, h, cell)
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			_, img := mustRender(t, b, fidJob(code, w, h, version))
			fidWantSize(t, img, w, h)
			cellRect := func(r, c int) image.Rectangle {
				return image.Rect(c*cell, r*cell, (c+1)*cell, (r+1)*cell)
			}
			for c, s := range latin {
				if n := fidCountPixels(img, cellRect(0, c), fidDark); n < 80 {
					t.Errorf("Latin %q: %d dark pixels, want at least 80", s, n)
				}
			}
			masks := make([][]bool, len(cjk))
			for c, s := range cjk {
				r := cellRect(1, c)
				if n := fidCountPixels(img, r, fidDark); n < 150 {
					t.Errorf("CJK %q: %d dark pixels, want at least 150", s, n)
				}
				for y := r.Min.Y; y < r.Max.Y; y++ {
					for x := r.Min.X; x < r.Max.X; x++ {
						masks[c] = append(masks[c], fidDark(color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)))
					}
				}
			}
			for i := range cjk {
				for j := i + 1; j < len(cjk); j++ {
					diff := 0
					for k := range masks[i] {
						if masks[i][k] != masks[j][k] {
							diff++
						}
					}
					if diff < 100 {
						t.Errorf("CJK %q and %q differ in %d pixels: the same glyph (a missing-glyph box?)", cjk[i], cjk[j], diff)
					}
				}
			}
			for c, s := range emoji {
				if n := fidCountPixels(img, cellRect(2, c), fidColourful); n < 300 {
					t.Errorf("emoji %q: %d coloured pixels, want at least 300 (is Noto Color Emoji installed and used?)", s, n)
				}
			}
			if t.Failed() {
				fidKeepImage(t, img, "text-p5-"+version)
			}
		})
	}
}

// TestFidelityPixelsArray writes a known pattern through pixels[] and
// updatePixels() and checks every pixel exactly.
func TestFidelityPixelsArray(t *testing.T) {
	b := sharedBrowser(t)
	const w, h = 64, 32
	pattern := func(x, y int) color.NRGBA {
		return color.NRGBA{uint8(x * 4), uint8(y * 8), uint8((x*y + 7) % 256), 255}
	}
	code := fmt.Sprintf(`
function setup() {
  createCanvas(%d, %d);
  pixelDensity(1);
  loadPixels();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      pixels[i] = x * 4;
      pixels[i + 1] = y * 8;
      pixels[i + 2] = (x * y + 7) %% 256;
      pixels[i + 3] = 255;
    }
  }
  updatePixels();
}`, w, h)
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			out, img := mustRender(t, b, fidJob(code, w, h, version))
			fidWantSize(t, img, w, h)
			if out.Trigger != TriggerSetup {
				t.Errorf("trigger %q, want %q", out.Trigger, TriggerSetup)
			}
			n := fidNRGBA(img)
			bad := 0
			for y := 0; y < h; y++ {
				for x := 0; x < w; x++ {
					if got, want := n.NRGBAAt(x, y), pattern(x, y); got != want {
						if bad < 5 {
							t.Errorf("pixel (%d,%d) = %v, want exactly %v", x, y, got, want)
						}
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d pixels differ", bad, w*h)
			}
		})
	}
}

// TestFidelitySeeded renders fxhash- and Art Blocks-style sketches, which
// draw only from the platform's PRNG: the same hash gives the same bytes,
// another hash another picture. (TestRenderHashSeeding covers p5's
// random(), noise() and Math.random().)
func TestFidelitySeeded(t *testing.T) {
	b := sharedBrowser(t)
	const fxhashSketch = `
function setup() {
  createCanvas(64, 64);
  noLoop();
}
function draw() {
  background(20);
  noStroke();
  for (let i = 0; i < 40; i++) {
    fill($fx.rand() * 255, $fx.rand() * 255, $fx.rand() * 255);
    rect($fx.rand() * width, $fx.rand() * height, 4 + $fx.rand() * 12, 6);
  }
  $fx.features({ Density: 40 });
  $fx.preview();
}`
	const artBlocksSketch = artBlocksRandom + `let R;
function setup() {
  R = new Random();
  createCanvas(64, 64);
  noLoop();
}
function draw() {
  background(240);
  noStroke();
  for (let i = 0; i < 40; i++) {
    fill(R.random_num(0, 255), R.random_num(0, 255), R.random_num(0, 255));
    circle(R.random_num(0, width), R.random_num(0, height), R.random_num(4, 16));
  }
}`
	for _, tc := range []struct {
		name, code, trigger string
		hashA, hashB        string
	}{
		{
			name: "fxhash", code: fxhashSketch, trigger: TriggerFxPreview,
			hashA: "ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz",
			hashB: "ooK7Rr6P2cR8n8eVvWcQdkKukCiJrYpMUDelmYiFuEdZaMaRaUa",
		},
		{
			name: "Art Blocks", code: artBlocksSketch, trigger: TriggerDraw,
			hashA: "0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
			hashB: "0x9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
		},
	} {
		for _, version := range fidMajors {
			t.Run(fmt.Sprintf("%s p5 %s", tc.name, version), func(t *testing.T) {
				j := fidJob(tc.code, 64, 64, version)
				pngOf := func(hash string) []byte {
					t.Helper()
					out, _ := mustRender(t, b, withHash(j, hash))
					if out.Trigger != tc.trigger {
						t.Errorf("trigger %q, want %q", out.Trigger, tc.trigger)
					}
					return out.Artifacts[0].Body
				}
				a1, a2, b1 := pngOf(tc.hashA), pngOf(tc.hashA), pngOf(tc.hashB)
				if !bytes.Equal(a1, a2) {
					t.Errorf("two renders with the same hash differ (%d and %d bytes)", len(a1), len(a2))
				}
				if bytes.Equal(a1, b1) || samePixels(t, a1, b1) {
					t.Errorf("renders with different hashes have the same pixels")
				}
			})
		}
	}
}

// TestFidelityMultiCanvas renders a sketch with p5's main canvas, a
// p5.Graphics and a canvas made by hand: the main canvas by default, the
// other one with CaptureSelector.
func TestFidelityMultiCanvas(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
let other, pg;
function setup() {
  createCanvas(60, 40);
  pixelDensity(1);
  other = document.createElement('canvas');
  other.id = 'other';
  other.width = 60;
  other.height = 40;
  document.body.appendChild(other);
  pg = createGraphics(60, 40);
  pg.pixelDensity(1);
  noLoop();
}
function draw() {
  background(255, 0, 0);
  pg.background(0, 255, 0);
  image(pg, 0, 0, 20, 20);
  const g = other.getContext('2d');
  g.fillStyle = '#0000ff';
  g.fillRect(0, 0, 60, 40);
  g.fillStyle = '#ffff00';
  g.fillRect(40, 20, 20, 20);
}`
	for _, version := range fidMajors {
		for _, tc := range []struct {
			selector string
			pixels   []px
		}{
			{"", []px{{10, 10, green}, {50, 30, red}, {30, 5, red}}},
			{"#other", []px{{10, 10, blue}, {50, 30, yellow}, {30, 5, blue}}},
		} {
			name := "default"
			if tc.selector != "" {
				name = tc.selector
			}
			t.Run(fmt.Sprintf("p5 %s %s", version, name), func(t *testing.T) {
				j := fidJob(code, 60, 40, version)
				j.CaptureSelector = tc.selector
				_, img := mustRender(t, b, j)
				fidWantSize(t, img, 60, 40)
				checkPixels(t, img, tc.pixels)
			})
		}
	}
}

// TestFidelityWindowSize checks that windowWidth and windowHeight are the
// job's size.
func TestFidelityWindowSize(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
function setup() {
  createCanvas(windowWidth, windowHeight);
  const ok = windowWidth === 137 && windowHeight === 71 && width === 137 && height === 71 &&
    window.innerWidth === 137 && window.innerHeight === 71;
  background(ok ? color(0, 255, 0) : color(255, 0, 0));
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 10, 10);
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			_, img := mustRender(t, b, fidJob(code, 137, 71, version))
			fidWantSize(t, img, 137, 71)
			checkPixels(t, img, []px{{5, 5, blue}, {100, 50, green}, {136, 70, green}})
		})
	}
}

// TestFidelityTransparency checks that a transparent background stays
// transparent in the PNG.
func TestFidelityTransparency(t *testing.T) {
	b := sharedBrowser(t)
	for _, tc := range []struct {
		name, code string
	}{
		{"clear", `
function setup() { createCanvas(50, 50); noLoop(); }
function draw() { clear(); noStroke(); fill(255, 0, 0); rect(20, 20, 10, 10); }`},
		{"background alpha 0", `
function setup() { createCanvas(50, 50); background(0, 0); noStroke(); fill(255, 0, 0); rect(20, 20, 10, 10); }`},
		{"webgl clear", `
function setup() { createCanvas(50, 50, WEBGL); noLoop(); }
function draw() { clear(); noStroke(); fill(255, 0, 0); plane(10, 10); }`},
	} {
		for _, version := range fidMajors {
			t.Run(fmt.Sprintf("%s p5 %s", tc.name, version), func(t *testing.T) {
				_, img := mustRender(t, b, fidJob(tc.code, 50, 50, version))
				fidWantSize(t, img, 50, 50)
				checkPixels(t, img, []px{{25, 25, red}, {0, 0, transparent}, {49, 49, transparent}, {10, 40, transparent}})
			})
		}
	}
}

// TestFidelityDeviceScaleFactor renders a 50x40 job at device scale factor
// 2: a 100x80 PNG with the drawing scaled, and p5's pixelDensity() 2.
func TestFidelityDeviceScaleFactor(t *testing.T) {
	b := sharedBrowser(t)
	const code = `
function setup() {
  createCanvas(50, 40);
  noStroke();
  background(255, 0, 0);
  fill(0, 0, 255);
  rect(0, 0, 25, 20);
  if (pixelDensity() !== 2 || window.devicePixelRatio !== 2) {
    fill(0, 255, 0);
    rect(40, 30, 10, 10);
  }
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			j := fidJob(code, 50, 40, version)
			j.DeviceScaleFactor = 2
			_, img := mustRender(t, b, j)
			fidWantSize(t, img, 100, 80)
			checkPixels(t, img, []px{
				{2, 2, blue}, {47, 37, blue}, {53, 43, red}, {60, 10, red}, {10, 60, red},
				{85, 65, red}, {98, 78, red},
			})
		})
	}
}

// TestFidelityNetworkBlocked loads an image from the network, which the
// renderer blocks: network_blocked, naming the URL.
func TestFidelityNetworkBlocked(t *testing.T) {
	b := sharedBrowser(t)
	const url = "https://example.com/a.png"
	for _, tc := range []struct{ version, code string }{
		{"1", `
let img;
function preload() { img = loadImage('` + url + `'); }
function setup() { createCanvas(20, 20); image(img, 0, 0); }`},
		{"2", `
let img;
async function setup() {
  createCanvas(20, 20);
  img = await loadImage('` + url + `');
  image(img, 0, 0);
}`},
	} {
		t.Run("p5 "+tc.version, func(t *testing.T) {
			_, err := render(t, b, fidJob(tc.code, 20, 20, tc.version))
			fidWantError(t, err, empplay.CodeNetworkBlocked, url)
		})
	}
}

// TestFidelitySketchError throws from draw(): sketch_error with the line.
func TestFidelitySketchError(t *testing.T) {
	b := sharedBrowser(t)
	const code = "function setup() {\n  createCanvas(20, 20);\n}\nfunction draw() {\n  background(0);\n  let shape = null;\n  shape.vertices.push(1);\n}"
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			_, err := render(t, b, fidJob(code, 20, 20, version))
			fidWantError(t, err, empplay.CodeSketchError, "TypeError", "(line 7)")
		})
	}
}

// TestFidelityGlobalClash declares, at the sketch's top level, functions
// that p5 2.x also defines as globals: p5 1.x lets the sketch's stand,
// p5 2.x throws while it starts, and the error says which name and to
// rename it. A property the sketch redefines that is not p5's gets no
// such note.
func TestFidelityGlobalClash(t *testing.T) {
	b := sharedBrowser(t)
	const clash = "function mix(a, b, t) { return a + (b - a) * t; }\nvar text = 'mine';\n" +
		"function setup() {\n  createCanvas(20, 20);\n  background(mix(0, 255, 0.5));\n}"
	t.Run("p5 1", func(t *testing.T) {
		if _, err := render(t, b, fidJob(clash, 20, 20, "1")); err != nil {
			t.Fatalf("Render: %v", err)
		}
	})
	t.Run("p5 2", func(t *testing.T) {
		_, err := render(t, b, fidJob(clash, 20, 20, "2"))
		fidWantError(t, err, empplay.CodeSketchError, "Cannot redefine property: text; ",
			"p5.js 2.x defines text and mix as globals itself", "give the sketch's other names")
	})
	t.Run("not p5's", func(t *testing.T) {
		const own = "function setup() {\n  createCanvas(20, 20);\n  Object.defineProperty(window, 'mine', { value: 1 });\n" +
			"  Object.defineProperty(window, 'mine', { value: 2 });\n}"
		_, err := render(t, b, fidJob(own, 20, 20, "2"))
		fidWantError(t, err, empplay.CodeSketchError, "Cannot redefine property: mine")
		if strings.Contains(err.Error(), "p5.js 2.x defines") {
			t.Errorf("message %q names a clash with p5 for the sketch's own property", err)
		}
	})
}

// TestFidelityPreloadOn2 has a preload(), which p5 2.x never calls: a
// sketch that needs what it loads fails, and the error says why; one that
// does not succeeds, with a warning that says the same. Under 1.x, which
// calls it, both render with no such word.
func TestFidelityPreloadOn2(t *testing.T) {
	b := sharedBrowser(t)
	const needs = "let img;\nfunction preload() {\n  img = createImage(4, 4);\n}\n" +
		"function setup() {\n  createCanvas(20, 20);\n  background(0);\n  image(img, 0, 0);\n  fill(255);\n  rect(0, 0, 10, 10);\n}"
	const copes = "let c = 0;\nfunction preload() {\n  c = 255;\n}\n" +
		"function setup() {\n  createCanvas(20, 20);\n  background(c);\n  fill(128);\n  rect(0, 0, 10, 10);\n}"
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			_, err := render(t, b, fidJob(needs, 20, 20, version))
			if version == "1" {
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
			} else {
				fidWantError(t, err, empplay.CodeSketchError, "(line 8); "+preloadNote)
			}
			out, err := render(t, b, fidJob(copes, 20, 20, version))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			warned := slices.Contains(out.Warnings, preloadNote)
			if warned != (version == "2") {
				t.Errorf("warnings %q; want preloadNote only under p5 2", out.Warnings)
			}
		})
	}
}

// TestFidelityInfiniteLoop loops forever in draw(): render_timeout, and the
// next job in the same browser works.
func TestFidelityInfiniteLoop(t *testing.T) {
	b := sharedBrowser(t)
	const code = "function setup() { createCanvas(20, 20); }\nfunction draw() {\n  background(0);\n  for (;;) {}\n}"
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			j := fidJob(code, 20, 20, version)
			j.TimeoutMs = 3000
			_, err := render(t, b, j)
			fidWantError(t, err, empplay.CodeRenderTimeout)
			fidCheckTwoColours(t, b, version)
		})
	}
}

// TestFidelityRunawayMemory allocates without end: the job fails with
// memory_limit, and the next job in the same Browser works.
func TestFidelityRunawayMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates until the renderer runs out of memory")
	}
	b := newTestBrowser(t, Options{})
	j := fidJob(`
let a = [];
function setup() { createCanvas(20, 20); }
function draw() {
  for (let i = 0; i < 1e6; i++) a.push(new Array(1000).fill(i));
}`, 20, 20, "1")
	j.TimeoutMs = 8000
	_, err := render(t, b, j)
	if err == nil {
		t.Fatalf("Render succeeded; want an error")
	}
	var e *empplay.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *empplay.Error", err, err)
	}
	t.Logf("code %s retryable=%v: %v", e.Code, e.Retryable, err)
	if e.Code != empplay.CodeMemoryLimit || e.Retryable {
		t.Errorf("code %s retryable=%v; want memory_limit, not retryable", e.Code, e.Retryable)
	}
	fidCheckTwoColours(t, b, "1")
}

// TestFidelityMissingAddon uses p5.sound and ml5, which the renderer does
// not load: missing_addon, naming the add-on.
func TestFidelityMissingAddon(t *testing.T) {
	b := sharedBrowser(t)
	for _, tc := range []struct {
		name, version, code, addon string
	}{
		{"p5.Oscillator", "1", `
let osc;
function setup() { createCanvas(20, 20); osc = new p5.Oscillator('sine'); osc.start(); }`, "p5.sound"},
		{"p5.Oscillator", "2", `
let osc;
function setup() { createCanvas(20, 20); osc = new p5.Oscillator('sine'); osc.start(); }`, "p5.sound"},
		{"loadSound in preload", "1", `
let song;
function preload() { song = loadSound('assets/song.mp3'); }
function setup() { createCanvas(20, 20); song.play(); }`, "p5.sound"},
		{"loadSound in setup", "2", `
let song;
async function setup() { createCanvas(20, 20); song = await loadSound('assets/song.mp3'); }`, "p5.sound"},
		{"ml5.imageClassifier", "1", `
let classifier;
function preload() { classifier = ml5.imageClassifier('MobileNet'); }
function setup() { createCanvas(20, 20); }`, "ml5"},
		{"ml5.imageClassifier", "2", `
let classifier;
function setup() { createCanvas(20, 20); classifier = ml5.imageClassifier('MobileNet'); }`, "ml5"},
	} {
		t.Run(fmt.Sprintf("%s p5 %s", tc.name, tc.version), func(t *testing.T) {
			_, err := render(t, b, fidJob(tc.code, 20, 20, tc.version))
			fidWantError(t, err, empplay.CodeMissingAddon, tc.addon)
		})
	}
}

// TestFidelityBlankCanvas renders a canvas of one colour: a picture, with
// Blank set; a fully transparent one fails as blank_canvas, unless the job
// allows it.
func TestFidelityBlankCanvas(t *testing.T) {
	b := sharedBrowser(t)
	const code = `function setup() { createCanvas(50, 50); background(200); }`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			out, img := mustRender(t, b, fidJob(code, 50, 50, version))
			if out.Trigger != TriggerSetup {
				t.Errorf("trigger %q, want %q", out.Trigger, TriggerSetup)
			}
			if !out.Blank {
				t.Error("Blank = false for a picture of one colour")
			}
			grey := color.NRGBA{200, 200, 200, 255}
			checkPixels(t, img, []px{{0, 0, grey}, {25, 25, grey}, {49, 49, grey}})
		})
	}
	const clear = `function setup() { createCanvas(50, 50); clear(); }`
	t.Run("transparent", func(t *testing.T) {
		_, err := render(t, b, fidJob(clear, 50, 50, "1"))
		fidWantError(t, err, empplay.CodeBlankCanvas)
	})
	t.Run("transparent allowBlank", func(t *testing.T) {
		j := fidJob(clear, 50, 50, "1")
		j.AllowBlank = true
		out, _ := mustRender(t, b, j)
		if !out.Blank {
			t.Error("Blank = false for a transparent picture")
		}
	})
}

// TestFidelityWebGLUnavailable asks for WEBGL in a browser without WebGL:
// webgl_unavailable.
func TestFidelityWebGLUnavailable(t *testing.T) {
	b := newTestBrowser(t, Options{ExtraFlags: []string{"--disable-webgl"}})
	const code = `
function setup() { createCanvas(50, 50, WEBGL); noLoop(); }
function draw() { background(0, 0, 255); fill(255, 0, 0); plane(20, 20); }`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			_, err := render(t, b, fidJob(code, 50, 50, version))
			fidWantError(t, err, empplay.CodeNoWebGL)
		})
	}
	t.Run("2D still works", func(t *testing.T) {
		fidCheckTwoColours(t, b, "1")
	})
}

// TestFidelityTriggers checks what took the picture, and when.
func TestFidelityTriggers(t *testing.T) {
	b := sharedBrowser(t)
	// byFrame paints the frame's number into red, with a blue marker.
	const byFrame = `
function setup() { createCanvas(40, 40); }
function draw() {
  background((frameCount * 40) % 256, 0, 0);
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 10, 10);
}`
	scene := []px{{5, 5, blue}, {30, 30, green}}
	for _, tc := range []struct {
		name    string
		code    string
		frames  int
		delayMs int
		timeout int
		trigger string
		minMs   float64
		pixels  []px
	}{
		{name: "noLoop", trigger: "draw", pixels: scene, code: `
function setup() { createCanvas(40, 40); noLoop(); }
function draw() { background(0, 255, 0); noStroke(); fill(0, 0, 255); rect(0, 0, 10, 10); }`},
		{name: "setup only", trigger: "setup", pixels: scene, code: `
function setup() { createCanvas(40, 40); background(0, 255, 0); noStroke(); fill(0, 0, 255); rect(0, 0, 10, 10); }`},
		{name: "captureFrames 5", trigger: "frames", frames: 5, code: byFrame,
			pixels: []px{{5, 5, blue}, {30, 30, color.NRGBA{200, 0, 0, 255}}}},
		{name: "captureDelayMs 300", trigger: "delay", delayMs: 300, minMs: 300, code: byFrame,
			pixels: []px{{5, 5, blue}}},
		{name: "fxpreview never called", trigger: "deadline", timeout: 2000, pixels: scene, code: `
function setup() { createCanvas(40, 40); }
function draw() {
  background(0, 255, 0);
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 10, 10);
  if (frameCount < 0) $fx.preview();
}`},
		{name: "fxpreview", trigger: "fxpreview", pixels: scene, code: `
function setup() { createCanvas(40, 40); }
function draw() {
  background(frameCount < 3 ? color(255, 0, 0) : color(0, 255, 0));
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 10, 10);
  if (frameCount === 3) $fx.preview();
}`},
		{name: "empplay.capture", trigger: "capture", pixels: scene, code: `
function setup() { createCanvas(40, 40); }
function draw() {
  background(frameCount < 2 ? color(255, 0, 0) : color(0, 255, 0));
  noStroke();
  fill(0, 0, 255);
  rect(0, 0, 10, 10);
  if (frameCount === 2) empplay.capture();
}`},
	} {
		for _, version := range fidMajors {
			t.Run(fmt.Sprintf("%s p5 %s", tc.name, version), func(t *testing.T) {
				j := fidJob(tc.code, 40, 40, version)
				j.CaptureFrames = tc.frames
				j.CaptureDelayMs = tc.delayMs
				if tc.timeout > 0 {
					j.TimeoutMs = tc.timeout
				}
				attempts := 1
				if tc.trigger == "deadline" {
					// The deadline capture needs a page that has drawn by
					// then: on a loaded machine a 2 s job may not even have
					// loaded p5 yet, and fails with render_timeout. Try
					// again then (a renderer that never captures at the
					// deadline fails every time).
					attempts = 3
				}
				out, img := fidRenderRetry(t, b, j, attempts)
				if out.Trigger != tc.trigger {
					t.Errorf("trigger %q, want %q", out.Trigger, tc.trigger)
				}
				// Virtual time: a trigger in the first frame fires at 0 ms.
				if out.TriggerMs < 0 || out.TriggerMs < tc.minMs {
					t.Errorf("triggerMs %v, want at least 0 and at least %v", out.TriggerMs, tc.minMs)
				}
				checkPixels(t, img, tc.pixels)
			})
		}
	}
}
