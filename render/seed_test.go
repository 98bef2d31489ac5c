package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// sfc32 is the prelude's PRNG, for computing the values a sketch must see.
func sfc32(a, b, c, d uint32) func() float64 {
	return func() float64 {
		t := a + b + d
		d++
		a = b ^ (b >> 9)
		b = c + (c << 3)
		c = (c << 21) | (c >> 11)
		c += t
		return float64(t) / 4294967296
	}
}

// fxSeeds is fxhash's seeding of sfc32 from a hash (see prelude.js).
func fxSeeds(s string, start int) [4]uint32 {
	const alphabet = "123456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	if start > len(s) {
		start = len(s)
	}
	s = s[start:]
	n := len(s) / 4
	var out [4]uint32
	for i := range out {
		var p int32
		for _, c := range s[i*n : (i+1)*n] {
			p = p*58 + int32(strings.IndexRune(alphabet, c))
		}
		out[i] = uint32(p)
	}
	return out
}

// p5First is the first value of p5's random() after randomSeed(seed).
func p5First(seed uint32) float64 {
	const m, a, c = 4294967296, 1664525, 1013904223
	return math.Mod(a*float64(seed)+c, m) / m
}

func byte256(f float64) uint8 { return uint8(math.Floor(f * 256)) }

func withHash(j *empplay.Job, hash string) *empplay.Job {
	c := *j
	c.Context = &empplay.SketchContext{Hash: hash}
	return &c
}

func TestSeedWords(t *testing.T) {
	t.Parallel()
	// SHA-256("empplay") is the default hash itself.
	w := seedWords("empplay")
	if got := fmt.Sprintf("0x%08x%08x%08x%08x%08x%08x%08x%08x", w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]); got != DefaultHash {
		t.Errorf("seedWords(empplay) = %s, want %s", got, DefaultHash)
	}
	// fxhash's reference values: the first outputs of fxrand (and
	// fxrandminter) computed by fxhash's own snippet (b58dec, matcher,
	// sfc32 from fxhash/fxhash-package packages/cli/static/snippet.js,
	// run in node).
	for _, tc := range []struct {
		s     string
		start int
		want  []float64
	}{
		{"ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz", 2, []float64{0.11092007718980312, 0.2437259608414024, 0.861223136773333}},
		{DefaultHash, 2, []float64{0.34393325517885387, 0.8894378617405891, 0.19595104455947876}},
		{DefaultMinter, 3, []float64{0.7522641094401479}},
	} {
		s := fxSeeds(tc.s, tc.start)
		r := sfc32(s[0], s[1], s[2], s[3])
		for i, want := range tc.want {
			if got := r(); got != want {
				t.Errorf("%s: value %d = %v, fxhash gives %v", tc.s, i, got, want)
			}
		}
	}
}

func TestNewConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		ctx       *empplay.SketchContext
		hash, id  string
		minter    string
		iteration int64
	}{
		{name: "no context", hash: DefaultHash, id: "0", minter: DefaultMinter, iteration: 1},
		{name: "empty hash", ctx: &empplay.SketchContext{}, hash: DefaultHash, id: "0", minter: DefaultMinter, iteration: 1},
		{name: "numeric tokenId", ctx: &empplay.SketchContext{Hash: "0xabc", Variables: json.RawMessage(`{"tokenId":123000001,"iteration":7,"minter":"tz1abc"}`)},
			hash: "0xabc", id: "123000001", minter: "tz1abc", iteration: 7},
		{name: "string tokenId", ctx: &empplay.SketchContext{Hash: "h", Variables: json.RawMessage(`{"tokenId":"42","iteration":0,"minter":5}`)},
			hash: "h", id: "42", minter: DefaultMinter, iteration: 1},
		{name: "variables not an object", ctx: &empplay.SketchContext{Hash: "h", Variables: json.RawMessage(`[1,2]`)},
			hash: "h", id: "0", minter: DefaultMinter, iteration: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := job("x", 10, 10)
			j.Context = tc.ctx
			cfg := newConfig(j, modeP5)
			if cfg.Hash != tc.hash || cfg.TokenID != tc.id || cfg.Minter != tc.minter || cfg.Iteration != tc.iteration {
				t.Errorf("hash %q tokenId %q minter %q iteration %d, want %q %q %q %d",
					cfg.Hash, cfg.TokenID, cfg.Minter, cfg.Iteration, tc.hash, tc.id, tc.minter, tc.iteration)
			}
			if cfg.Seed != seedWords(tc.hash) {
				t.Errorf("seed %v is not seedWords(%q)", cfg.Seed, tc.hash)
			}
		})
	}
}

func TestWaitsForSignal(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"function draw() { if (frameCount == 9) $fx.preview(); }": true,
		"fxpreview()":     true,
		"$fx .preview ()": true,
		"setTimeout(() => empplay.capture(), 10)":           true,
		"function fxpreview() { console.log('FXPREVIEW') }": false,
		"window.$fx = { preview: fxpreview }":               false,
		"function setup() { createCanvas(10, 10); }":        false,
		"myfxpreview()": false,
		"function draw() { if (frameCount === 12) capture(); }": true,
		"capture()":               true,
		"if (done)\n  capture();": true,
		"else capture()":          true,
		"let capture; capture = createCapture(VIDEO); capture.hide();": false,
		"function capture() {} capture()":                              false,
		"createCapture(VIDEO)":                                         false,
		"P5Capture.capture()":                                          false,
		"recapture()":                                                  false,
		// A method named capture is a definition, not a call: "{" follows
		// its ")" on the same line, which no call can have.
		"class Piece {\n  capture(other) { return other; }\n}\nfunction setup(){}": false,
		"const game = { capture(p) { return p; } };":                               false,
		"class P { async capture() {} static capture(a, b)\t{} }":                  false,
		"class P { capture(o) { return o; } }\nfunction draw() { capture(); }":     true,
		"capture();":      true,
		"if(x) capture()": true,
		"if (done) capture()\n{ background(0); }": true,
		"capture(function () { ready = true; })":  true,
		"class P {\n  capture(o)\n  {\n  }\n}":    true, // "{" on the next line: counted as a call
	} {
		if got := waitsForSignal(code); got != want {
			t.Errorf("waitsForSignal(%q) = %v, want %v", code, got, want)
		}
	}
}

// seedSketch draws 60 rectangles from random(), noise() and Math.random(),
// and never calls randomSeed or noiseSeed.
const seedSketch = `
function setup() { createCanvas(64, 64); noLoop(); }
function draw() {
  background(20);
  noStroke();
  for (var i = 0; i < 60; i++) {
    fill(random(255), Math.random() * 255, noise(i * 0.37) * 255);
    rect(random(width), Math.random() * height, 4 + 20 * noise(i * 0.11, 3), 6);
  }
}`

func TestRenderHashSeeding(t *testing.T) {
	b := sharedBrowser(t)
	const hashA = "0x8f3c2b1a9e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d3"
	const hashB = "0x8f3c2b1a9e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170615e4d4"
	for _, version := range []string{"1", "2"} {
		t.Run("p5 "+version, func(t *testing.T) {
			j := job(seedSketch, 64, 64)
			j.P5Version = version
			pngOf := func(hash string) []byte {
				out, _ := mustRender(t, b, withHash(j, hash))
				return out.Artifacts[0].Body
			}
			a1, a2, b1 := pngOf(hashA), pngOf(hashA), pngOf(hashB)
			if !bytes.Equal(a1, a2) {
				t.Errorf("two renders with the same hash differ (%d and %d bytes)", len(a1), len(a2))
			}
			if samePixels(t, a1, b1) {
				t.Errorf("renders with different hashes have the same pixels")
			}
			if version == "1" {
				// No hash: DefaultHash, just as deterministic.
				d1, d2 := pngOf(""), pngOf("")
				if !bytes.Equal(d1, d2) {
					t.Errorf("two renders without a hash differ")
				}
				if d3 := pngOf(DefaultHash); !bytes.Equal(d1, d3) {
					t.Errorf("a render without a hash differs from one with DefaultHash")
				}
			}
		})
	}
}

func samePixels(t *testing.T, a, b []byte) bool {
	t.Helper()
	ia, ib := decodeRGBA(t, a), decodeRGBA(t, b)
	return ia.Rect == ib.Rect && bytes.Equal(ia.Pix, ib.Pix)
}

func decodeRGBA(t *testing.T, data []byte) *image.NRGBA {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	n := image.NewNRGBA(img.Bounds())
	draw.Draw(n, n.Rect, img, img.Bounds().Min, draw.Src)
	return n
}

// TestRenderSeedDefinition pins the documented seeding: the first values
// of Math.random(), p5's random() and $fx.rand(), and the platforms'
// globals, as the sketch sees them.
func TestRenderSeedDefinition(t *testing.T) {
	b := sharedBrowser(t)
	const hash = "ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz"
	w := seedWords(hash)
	fx := fxSeeds(hash, 2)
	mathRandom := byte256(sfc32(w[0], w[1], w[2], w[3])())
	fxRand := byte256(sfc32(fx[0], fx[1], fx[2], fx[3])())
	p5Random := byte256(p5First(w[4]))
	for _, version := range []string{"1", "2"} {
		t.Run("p5 "+version, func(t *testing.T) {
			j := withHash(job(fmt.Sprintf(`
function setup() {
  // Read Math.random first: p5's random() must not consume it.
  var m = Math.floor(Math.random() * 256);
  createCanvas(4, 2);
  background(m, Math.floor(random() * 256), Math.floor($fx.rand() * 256));
  var ok = $fx.hash === %[1]q && fxhash === %[1]q && tokenData.hash === %[1]q && empplay.hash === %[1]q &&
    tokenData.tokenId === '0' && fxrand === $fx.rand && $fx.isPreview === true && isFxpreview === true &&
    $fx.minter === %[2]q && $fx.iteration === 1 && $fx.context === 'capture' &&
    empplay.seed.length === 8 && empplay.seed[4] === %[3]d &&
    new URLSearchParams(location.search).get('fxhash') === %[1]q;
  set(0, 1, ok ? color(0, 255, 0) : color(255, 0, 0));
  updatePixels();
}`, hash, DefaultMinter, w[4]), 4, 2), hash)
			j.P5Version = version
			out, img := mustRender(t, b, j)
			if out.Trigger != TriggerSetup {
				t.Errorf("trigger %q, want %q", out.Trigger, TriggerSetup)
			}
			checkPixels(t, img, []px{
				{3, 0, color.NRGBA{mathRandom, p5Random, fxRand, 255}},
				{0, 1, green},
			})
		})
	}
}

// artBlocksRandom is the Random class of Art Blocks' project template: two
// sfc32 generators seeded from the halves of tokenData.hash, alternated.
const artBlocksRandom = `
class Random {
  constructor() {
    this.useA = false;
    let sfc32 = function (uint128Hex) {
      let a = parseInt(uint128Hex.substring(0, 8), 16);
      let b = parseInt(uint128Hex.substring(8, 16), 16);
      let c = parseInt(uint128Hex.substring(16, 24), 16);
      let d = parseInt(uint128Hex.substring(24, 32), 16);
      return function () {
        a |= 0; b |= 0; c |= 0; d |= 0;
        let t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        return (t >>> 0) / 4294967296;
      };
    };
    this.prngA = new sfc32(tokenData.hash.substring(2, 34));
    this.prngB = new sfc32(tokenData.hash.substring(34, 66));
    for (let i = 0; i < 1e6; i += 2) { this.prngA(); this.prngB(); }
  }
  random_dec() { this.useA = !this.useA; return this.useA ? this.prngA() : this.prngB(); }
  random_num(a, b) { return a + (b - a) * this.random_dec(); }
}
`

func TestRenderArtBlocksStyle(t *testing.T) {
	b := sharedBrowser(t)
	// An Art Blocks sketch brings its own PRNG, seeded from tokenData.hash.
	j := job(artBlocksRandom+`
let R;
function setup() {
  R = new Random();
  createCanvas(20, 20);
  noLoop();
}
function draw() {
  let h = tokenData.hash;
  background(parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16), parseInt(h.slice(6, 8), 16));
  noStroke();
  fill(Number(tokenData.tokenId) % 256, R.random_dec() < 2 ? 255 : 0, 0);
  rect(0, 0, 5, 5);
}`, 20, 20)
	j.Context = &empplay.SketchContext{
		Hash:      "0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809",
		Variables: json.RawMessage(`{"tokenId": 1000077}`),
	}
	out, img := mustRender(t, b, j)
	if out.Trigger != TriggerDraw {
		t.Errorf("trigger %q, want %q", out.Trigger, TriggerDraw)
	}
	checkPixels(t, img, []px{
		{15, 15, color.NRGBA{0x1a, 0x2b, 0x3c, 255}},
		{2, 2, color.NRGBA{1000077 % 256, 255, 0, 255}},
	})
}

func TestRenderCaptureSignal(t *testing.T) {
	b := sharedBrowser(t)
	const hash = "ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz"
	fx := fxSeeds(hash, 2)
	first := byte256(sfc32(fx[0], fx[1], fx[2], fx[3])())
	// An fxhash sketch as published: it animates, and says when the
	// picture is ready. Frames before the fourth are red.
	fxhashSketch := fmt.Sprintf(`
let c;
function setup() {
  createCanvas(40, 40);
  c = Math.floor($fx.rand() * 256);
  $fx.features({ Palette: 'warm', Density: c });
}
function draw() {
  if (frameCount < 4) { background(255, 0, 0); return; }
  background(0, 255, $fx.hash === %q ? 255 : 0);
  noStroke();
  fill(c, $fx.getFeatures().Palette === 'warm' ? 255 : 0, 0);
  rect(0, 0, 10, 10);
  $fx.preview();
  // Drawn after the call, in the same draw(): in the picture, as with
  // fxhash's own capture, which runs once the task is done.
  fill(0, 0, 255);
  rect(30, 0, 10, 10);
}`, hash)
	for _, tc := range []struct {
		name, version, code string
		trigger             string
		pixels              []px
	}{
		{name: "fxhash p5 1", code: fxhashSketch, trigger: TriggerFxPreview,
			pixels: []px{{30, 30, color.NRGBA{0, 255, 255, 255}}, {5, 5, color.NRGBA{first, 255, 0, 255}}, {35, 5, blue}}},
		{name: "fxhash p5 2", version: "2", code: fxhashSketch, trigger: TriggerFxPreview,
			pixels: []px{{30, 30, color.NRGBA{0, 255, 255, 255}}, {5, 5, color.NRGBA{first, 255, 0, 255}}, {35, 5, blue}}},
		{name: "legacy fxhash", code: `
function setup() { createCanvas(20, 20); }
function draw() {
  background(0, 0, Math.floor(fxrand() * 256) >= 0 ? 255 : 0);
  if (frameCount === 3) fxpreview();
}`, trigger: TriggerFxPreview, pixels: []px{{10, 10, blue}}},
		{name: "empplay.capture after a timer", code: `
var ready = false;
function setup() { createCanvas(20, 20); setTimeout(function () { ready = true; }, 50); }
function draw() {
  background(ready ? 0 : 255, ready ? 255 : 0, 0);
  if (ready) empplay.capture();
}`, trigger: TriggerCapture, pixels: []px{{10, 10, green}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := withHash(job(tc.code, 40, 40), hash)
			j.P5Version = tc.version
			j.AllowBlank = true
			out, img := mustRender(t, b, j)
			if out.Trigger != tc.trigger {
				t.Errorf("trigger %q, want %q", out.Trigger, tc.trigger)
			}
			checkPixels(t, img, tc.pixels)
		})
	}
}
