package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// The EmProps Studio's reference vector (see render/js/runtime.js).
const (
	emRefHash  = "0x1b6d7d3b5716b08423674afa46cb18cc4d9e1a275822e32018d418b272d55697"
	emRefNames = `["John","Mary","Peter","George","Luis","Mario","Mitzy"]`
)

// emJob is a p5 job of code with the EmProps context.
func emJob(code, version, hash, variables, components string) *empplay.Job {
	j := fidJob(code, 40, 40, version)
	j.Context = &empplay.SketchContext{Hash: hash}
	if variables != "" {
		j.Context.Variables = json.RawMessage(variables)
	}
	if components != "" {
		j.Context.Components = json.RawMessage(components)
	}
	return j
}

// emCheck is the end of a sketch that compares got with want: green when
// they are equal, else an error that shows got.
func emCheck(want string) string {
	return fmt.Sprintf(`
  var want = %s;
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error('got ' + JSON.stringify(got));
  background(0, 255, 0);`, want)
}

var emGreen = []px{{0, 0, color.NRGBA{0, 255, 0, 255}}, {39, 39, color.NRGBA{0, 255, 0, 255}}}

// emDraws is the EmProps generator seeded from hash, computed here with
// the Go sfc32 and base58 of seed_test.go.
func emDraws(hash string) func() float64 {
	w := fxSeeds(hash, 2)
	return sfc32(w[0], w[1], w[2], w[3])
}

func TestEmPropsReferenceVector(t *testing.T) {
	b := sharedBrowser(t)
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			code := `function setup() { createCanvas(40, 40);
  pseudorandomSeed("` + emRefHash + `");
  var got = pseudorandomPick(` + emRefNames + `);` + emCheck(`"George"`) + `
}`
			_, img := mustRender(t, b, emJob(code, version, "another hash", "", ""))
			checkPixels(t, img, emGreen)
		})
	}
}

// TestEmPropsPseudorandom checks each function of the family, seeded by
// the job's hash (no pseudorandomSeed call), against values computed here.
func TestEmPropsPseudorandom(t *testing.T) {
	b := sharedBrowser(t)
	for _, hash := range []string{emRefHash, "ooJ5Qq5N1bQ9m9dUuVbPcjJtjBhHqXoLTCdkkXhEtDcYzLzQzTz", "0b6e4b4c-5cf5-4a7b-9a0c-3e7f1d3c6a21"} {
		r := emDraws(hash)
		between := func(lo, hi float64) float64 { return lo + r()*(hi-lo) }
		names := []string{"John", "Mary", "Peter", "George", "Luis", "Mario", "Mitzy"}
		want := []any{
			r(),
			between(10, 20),
			[]float64{between(5, 6), between(5, 6)},
			math.Floor(between(1, 7)),
			[]float64{math.Floor(between(0, 10)), math.Floor(between(0, 10)), math.Floor(between(0, 10))},
			r() < 0.5,
			names[int(math.Floor(between(0, 7)))],
		}
		d := between(0, 10)
		want = append(want, map[bool]string{true: "a", false: map[bool]string{true: "b", false: "c"}[d < 3]}[d < 1])
		var but string
		for but = names[int(math.Floor(between(0, 7)))]; but == "George" || but == "Mary"; but = names[int(math.Floor(between(0, 7)))] {
		}
		want = append(want, but)
		wantJSON, _ := json.Marshal(want)
		code := `function setup() { createCanvas(40, 40);
  var got = [pseudorandom(), pseudorandom(10, 20), pseudorandoms(2, 5, 6), pseudorandomInteger(1, 6),
    pseudorandomIntegers(3, 0, 9), pseudorandomBoolean(), pseudorandomPick(` + emRefNames + `),
    pseudorandomWeightedPick(["a", "b", "c"], [1, 2, 7]), pseudorandomPickButNot(` + emRefNames + `, ["George", "Mary"])];` +
			emCheck(string(wantJSON)) + `
}`
		for _, version := range fidMajors {
			t.Run(hash[:8]+" p5 "+version, func(t *testing.T) {
				_, img := mustRender(t, b, emJob(code, version, hash, "", ""))
				checkPixels(t, img, emGreen)
			})
		}
	}
}

const emComponents = `[{"id":1,"nodeName":"image","nodeAlias":"bg","nodeResponse":{"src":"https://cdn.example/bg.png"}},{"id":2,"nodeName":"text","nodeResponse":{"src":"https://cdn.example/t.txt"}}]`

// emVariablesSketch reads variables and components both ways.
const emVariablesSketch = `function setup() { createCanvas(40, 40);
  var got = [hash, getVariable("size"), variables["name"], getVariable("missing") === undefined,
    components.length, getComponentOutput("bg"), getComponentOutput("nope") === undefined];` +
	`
  var want = ["` + emRefHash + `", 3, "x", true, 2, "https://cdn.example/bg.png", true];
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error('got ' + JSON.stringify(got));
  background(0, 255, 0);
}`

// emAPIPrelude is what the EmProps API puts before a sketch.
const emAPIPrelude = `const hash = "` + emRefHash + `";
const variables = {"size":3,"name":"x"};
function getVariable(name) { return variables[name]; }
const components = ` + emComponents + `;
function getComponentOutput(name) { const c = components.find((c) => c.nodeAlias === name); return c ? c.nodeResponse.src : undefined; }
`

func TestEmPropsVariablesAndComponents(t *testing.T) {
	b := sharedBrowser(t)
	for _, version := range fidMajors {
		t.Run("context p5 "+version, func(t *testing.T) {
			_, img := mustRender(t, b, emJob(emVariablesSketch, version, emRefHash, `{"size":3,"name":"x"}`, emComponents))
			checkPixels(t, img, emGreen)
		})
		t.Run("API prelude p5 "+version, func(t *testing.T) {
			_, img := mustRender(t, b, emJob(emAPIPrelude+emVariablesSketch, version, emRefHash, `{"size":3,"name":"x"}`, emComponents))
			checkPixels(t, img, emGreen)
		})
	}
}

func TestEmPropsOwnDefinitions(t *testing.T) {
	b := sharedBrowser(t)
	for _, tc := range []struct{ name, code string }{
		{"own hash", `const hash = "mine";
function setup() { createCanvas(40, 40); var got = [hash, window.hash !== "mine"];` + emCheck(`["mine", true]`) + ` }`},
		{"own capture", `let capture = "webcam";
function setup() { createCanvas(40, 40); var got = capture;` + emCheck(`"webcam"`) + ` }`},
		{"undeclared assignment", `function setup() { createCanvas(40, 40); undeclared = 7; var got = window.undeclared;` + emCheck(`7`) + ` }`},
	} {
		for _, version := range fidMajors {
			t.Run(tc.name+" p5 "+version, func(t *testing.T) {
				_, img := mustRender(t, b, emJob(tc.code, version, emRefHash, "", ""))
				checkPixels(t, img, emGreen)
			})
		}
	}
}

func TestEmPropsCaptureAtFrame(t *testing.T) {
	b := sharedBrowser(t)
	const code = `const captureAt = 12;
function setup() { createCanvas(40, 40); }
function draw() { background(frameCount * 10, 0, 0); if (frameCount === captureAt) capture(); }`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			out, img := mustRender(t, b, emJob(code, version, emRefHash, "", ""))
			if out.Trigger != TriggerCapture {
				t.Errorf("trigger %q, want %q", out.Trigger, TriggerCapture)
			}
			checkPixels(t, img, []px{{5, 5, color.NRGBA{120, 0, 0, 255}}})
		})
	}
}

// TestEmPropsDrawOnly: no setup, no createCanvas: p5's 100x100 canvas of
// the variable's colour, a picture of one colour that succeeds as blank.
func TestEmPropsDrawOnly(t *testing.T) {
	b := sharedBrowser(t)
	const code = `function draw() { background(getVariable("color")); }`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			out, img := mustRender(t, b, emJob(code, version, emRefHash, `{"color":"#336699"}`, ""))
			if bb := img.Bounds(); bb.Dx() != 100 || bb.Dy() != 100 {
				t.Errorf("picture %dx%d, want 100x100", bb.Dx(), bb.Dy())
			}
			if !out.Blank {
				t.Error("Blank = false for a picture of one colour")
			}
			c := color.NRGBA{0x33, 0x66, 0x99, 255}
			checkPixels(t, img, []px{{0, 0, c}, {99, 99, c}})
		})
	}
}

// TestEmPropsPreviewFirst: $fx.preview() first in setup, then drawing: the
// picture has the drawing.
func TestEmPropsPreviewFirst(t *testing.T) {
	b := sharedBrowser(t)
	for _, tc := range []struct{ name, code, trigger string }{
		{"$fx.preview in setup", `function setup() { $fx.preview(); createCanvas(40, 40); background(0, 0, 255); fill(255, 0, 0); noStroke(); rect(0, 0, 20, 40); }`, TriggerFxPreview},
		{"capture in draw", `function setup() { createCanvas(40, 40); } function draw() { capture(); background(0, 0, 255); fill(255, 0, 0); noStroke(); rect(0, 0, 20, 40); }`, TriggerCapture},
	} {
		for _, version := range fidMajors {
			t.Run(tc.name+" p5 "+version, func(t *testing.T) {
				out, img := mustRender(t, b, emJob(tc.code, version, emRefHash, "", ""))
				if out.Trigger != tc.trigger {
					t.Errorf("trigger %q, want %q", out.Trigger, tc.trigger)
				}
				checkPixels(t, img, []px{{5, 20, color.NRGBA{255, 0, 0, 255}}, {35, 20, color.NRGBA{0, 0, 255, 255}}})
			})
		}
	}
}

// TestEmPropsCaptureBeforeDrawing: a capture asked for before the sketch
// draws (in setup() of a sketch that draws in draw(), or at the top level,
// before setup()) is taken once it has: after the first draw(), or after
// setup() for a sketch without draw(). With no canvas even then, the
// error says why.
func TestEmPropsCaptureBeforeDrawing(t *testing.T) {
	b := sharedBrowser(t)
	red := color.NRGBA{255, 0, 0, 255}
	for _, tc := range []struct{ name, code, trigger string }{
		{"$fx.preview in setup, noLoop", `function setup() { createCanvas(20, 20); noLoop(); $fx.preview(); }
function draw() { background(255, 0, 0); }`, TriggerFxPreview},
		{"capture in setup, noLoop", `function setup() { createCanvas(20, 20); noLoop(); capture(); }
function draw() { background(255, 0, 0); }`, TriggerCapture},
		{"capture in setup, looping", `function setup() { createCanvas(20, 20); capture(); }
function draw() { background(frameCount === 1 ? color(255, 0, 0) : color(0, 0, 255)); }`, TriggerCapture},
		{"$fx.preview at the top, setup only", `$fx.preview();
function setup() { createCanvas(20, 20); background(255, 0, 0); }`, TriggerFxPreview},
		{"$fx.preview at the top, noLoop draw", `$fx.preview();
function setup() { createCanvas(20, 20); noLoop(); }
function draw() { background(255, 0, 0); }`, TriggerFxPreview},
		{"$fx.preview at the top, canvas by hand", `const c = document.createElement('canvas');
c.width = c.height = 20;
document.body.appendChild(c);
const g = c.getContext('2d');
g.fillStyle = 'red';
g.fillRect(0, 0, 20, 20);
$fx.preview();`, TriggerFxPreview},
	} {
		for _, version := range fidMajors {
			t.Run(tc.name+" p5 "+version, func(t *testing.T) {
				out, img := mustRender(t, b, fidJob(tc.code, 20, 20, version))
				if out.Trigger != tc.trigger || out.TriggerMs != 0 {
					t.Errorf("trigger %q at %v ms, want %q at 0", out.Trigger, out.TriggerMs, tc.trigger)
				}
				checkPixels(t, img, []px{{10, 10, red}})
			})
		}
	}
	for _, tc := range []struct{ name, code, want string }{
		{"$fx.preview at the top, no sketch", `$fx.preview();`, "no setup() or draw()"},
		{"$fx.preview at the top, noCanvas", `$fx.preview();
function setup() { noCanvas(); }`, "noCanvas()"},
	} {
		for _, version := range fidMajors {
			t.Run(tc.name+" p5 "+version, func(t *testing.T) {
				_, err := render(t, b, fidJob(tc.code, 20, 20, version))
				if empplay.ErrorCode(err) != empplay.CodeNoCanvas || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("got %v, want no_canvas saying %q", err, tc.want)
				}
			})
		}
	}
}

// TestEmPropsBlockedFetchDeterministic: a sketch whose fetch of a blocked
// URL rejects while it keeps drawing renders, ten times out of ten, with
// the same bytes; the rejection is a warning, not a failure.
func TestEmPropsBlockedFetchDeterministic(t *testing.T) {
	b := sharedBrowser(t)
	const code = `function setup() {
  createCanvas(40, 40);
  fetch("https://example.com/data.json").then(function (r) { return r.json(); }).then(function (d) { window.data = d; });
}
function draw() {
  background(30);
  fill(random(255), 80, 200);
  circle(20, 20, 10 + frameCount);
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			sums := map[string]int{}
			for i := 0; i < 10; i++ {
				out, err := render(t, b, emJob(code, version, emRefHash, "", ""))
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				s := sha256.Sum256(out.Artifacts[0].Body)
				sums[hex.EncodeToString(s[:])]++
				for _, w := range out.Warnings {
					if len(w) > 500 && !strings.HasPrefix(w, "sketches run without network access") {
						t.Errorf("warning of %d characters", len(w))
					}
				}
			}
			if len(sums) != 1 {
				t.Errorf("ten runs gave %d different pictures: %v", len(sums), sums)
			}
		})
	}
}

// TestEmPropsJS: a js job gets the same globals before its scripts, and a
// bare capture() is its trigger.
func TestEmPropsJS(t *testing.T) {
	b := sharedBrowser(t)
	const script = `var c = document.getElementById('c').getContext('2d');
var ok = pseudorandomPick(["John","Mary","Peter","George","Luis","Mario","Mitzy"]) === "George" && getVariable("v") === 5;
c.fillStyle = ok ? '#00ff00' : '#ff0000';
c.fillRect(0, 0, 40, 40);
setTimeout(function () { capture(); }, 50);`
	j := jsJob(`<canvas id="c" width="40" height="40"></canvas>`, `body{margin:0}`, script, 40, 40, empplay.OutputPNG)
	j.Context = &empplay.SketchContext{Hash: emRefHash, Variables: json.RawMessage(`{"v":5}`)}
	out, img := mustRender(t, b, j)
	if out.Trigger != TriggerCapture {
		t.Errorf("trigger %q, want %q", out.Trigger, TriggerCapture)
	}
	checkPixels(t, img, []px{{20, 20, color.NRGBA{0, 255, 0, 255}}})
}

// TestEmPropsVideo: a video page has the same globals; capture() does
// nothing there (every frame is recorded).
func TestEmPropsVideo(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const code = `function setup() { createCanvas(32, 32); }
function draw() {
  var ok = frameCount > 1 || (pseudorandomPick(["John","Mary","Peter","George","Luis","Mario","Mitzy"]) === "George" && getVariable("v") === 5);
  background(ok ? color(0, 255, 0) : color(255, 0, 0));
  capture();
}`
	j := videoJob(code, 32, 32, 0.5, 10, "")
	j.Context = &empplay.SketchContext{Hash: emRefHash, Variables: json.RawMessage(`{"v":5}`)}
	out, err := render(t, b, j)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if len(out.Artifacts) < 2 {
		t.Fatalf("%d artifacts; want the video and its poster", len(out.Artifacts))
	}
	img, err := png.Decode(bytes.NewReader(out.Artifacts[1].Body))
	if err != nil {
		t.Fatalf("poster: %v", err)
	}
	checkPixels(t, img, []px{{16, 16, color.NRGBA{0, 255, 0, 255}}})
}
