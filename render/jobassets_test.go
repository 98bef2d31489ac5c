package render

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/fetcher"
	"github.com/empplay/empplay/internal/testenv"
)

// solidPNG is a w x h PNG of one colour.
func solidPNG(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cdn is an https origin on loopback standing in for CDN_URI, counting the
// GETs of each path.
type cdn struct {
	*httptest.Server
	mu    sync.Mutex
	gets  map[string]int
	files map[string][]byte
}

func newCDN(t *testing.T, files map[string][]byte) *cdn {
	t.Helper()
	if files == nil {
		files = map[string][]byte{}
	}
	c := &cdn{gets: map[string]int{}, files: files}
	c.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.gets[r.URL.Path]++
		c.mu.Unlock()
		c.mu.Lock()
		body, ok := c.files[r.URL.Path]
		c.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(body)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *cdn) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[path]
}

func TestAssets(t *testing.T) {
	red := color.NRGBA{255, 0, 0, 255}
	blue := color.NRGBA{0, 0, 255, 255}
	src := newCDN(t, map[string][]byte{
		"/jobs/a/tile.png":   solidPNG(t, 4, 4, red),
		"/steps/1/base.png":  solidPNG(t, 4, 4, blue),
		"/shaders/tint.frag": []byte("precision mediump float;\nvoid main(){gl_FragColor=vec4(0.,1.,0.,1.);}\n"),
		"/shaders/tint.vert": []byte("attribute vec3 aPosition;\nvoid main(){vec4 p=vec4(aPosition,1.);p.xy=p.xy*2.-1.;gl_Position=p;}\n"),
	})
	font, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf") // fonts-dejavu-core, installed by setup
	if err != nil {
		t.Fatalf("read a font to serve: %v", err)
	}
	src.files["/fonts/DejaVuSans.ttf"] = font
	canary := newCDN(t, nil) // allowed nowhere: must see nothing
	origins, err := fetcher.NewOrigins(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	cache, err := fetcher.OpenCache(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	f := fetcher.New(fetcher.Config{Origins: origins, Client: src.Client(), Cache: cache})
	b := newTestBrowser(t, Options{Assets: f})

	components, _ := json.Marshal([]map[string]any{
		{"id": 1, "nodeName": "comfy", "nodeAlias": "base", "nodeResponse": map[string]string{"src": src.URL + "/steps/1/base.png"}},
	})
	composite := func(name string) *empplay.Job {
		j := job(`let a, b;
function preload() { a = loadImage(`+jsString(name)+`); b = loadImage(getComponentOutput("base")); }
function setup() { createCanvas(20, 10); pixelDensity(1); noSmooth(); image(a, 0, 0, 10, 10); image(b, 10, 0, 10, 10); }`, 20, 10)
		j.Assets = map[string]string{"data/tile.png": src.URL + "/jobs/a/tile.png"}
		j.Context = &empplay.SketchContext{Components: components}
		return j
	}

	t.Run("declared name and component output", func(t *testing.T) {
		for _, name := range []string{"data/tile.png", "./data/tile.png", "/data/tile.png"} {
			out, img := mustRender(t, b, composite(name))
			checkPixels(t, img, []px{{2, 5, red}, {15, 5, blue}})
			if name == "data/tile.png" && out.AssetMisses != 2 {
				t.Errorf("first job: %d misses %d hits, want 2 misses", out.AssetMisses, out.AssetHits)
			}
			if name != "data/tile.png" && out.AssetHits != 2 {
				t.Errorf("%s: %d hits %d misses, want 2 cache hits", name, out.AssetHits, out.AssetMisses)
			}
		}
		if n := src.count("/jobs/a/tile.png"); n != 1 {
			t.Errorf("the CDN served the tile %d times, want once (then the cache)", n)
		}
	})

	t.Run("large image by reference", func(t *testing.T) {
		// Noise, so that the PNG stays large (about 200 KB): its bytes and
		// p5.js's compilation cache go to the browser by reference on the
		// DevTools pipe in CBOR (see instance.binary), and must arrive
		// whole.
		const w, h = 256, 192
		at := func(x, y int) color.NRGBA {
			v := uint32(x)*0x9e3779b1 ^ uint32(y)*0x85ebca77
			v ^= v >> 15
			v *= 0x2c1b3c6d
			v ^= v >> 12
			v *= 0x297a2d39
			v ^= v >> 15
			return color.NRGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), 255}
		}
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.SetNRGBA(x, y, at(x, y))
			}
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if buf.Len() < 4*refMin {
			t.Fatalf("the noise PNG is %d bytes: too small to go by reference", buf.Len())
		}
		src.files["/jobs/b/noise.png"] = buf.Bytes()
		j := job(`let a;
function preload() { a = loadImage("noise.png"); }
function setup() { createCanvas(`+strconv.Itoa(w)+`, `+strconv.Itoa(h)+`); pixelDensity(1); noSmooth(); image(a, 0, 0); }`, w, h)
		j.Assets = map[string]string{"noise.png": src.URL + "/jobs/b/noise.png"}
		_, got := mustRender(t, b, j)
		var want []px
		for _, p := range [][2]int{{0, 0}, {1, 0}, {0, 1}, {17, 33}, {w - 1, h - 1}, {w / 2, h / 3}} {
			want = append(want, px{p[0], p[1], at(p[0], p[1])})
		}
		checkPixels(t, got, want)
		if err := b.settle(testenv.Context(t, 30*time.Second)); err != nil {
			t.Fatal(err)
		}
		b.mu.Lock()
		inst := b.cur
		b.mu.Unlock()
		if inst.refs == nil {
			t.Skip("the DevTools pipe is in JSON here: nothing goes by reference")
		}
		if given, held := inst.refs.Counts(); given == 0 || held != 0 {
			t.Errorf("%d references given, %d never taken; want some given, none left", given, held)
		}
	})

	t.Run("shader pair", func(t *testing.T) {
		j := job(`let s;
function preload() { s = loadShader("tint.vert", "tint.frag"); }
function setup() { createCanvas(10, 10, WEBGL); pixelDensity(1); shader(s); rect(0, 0, 10, 10); }`, 10, 10)
		j.AllowBlank = true
		j.Assets = map[string]string{"tint.vert": src.URL + "/shaders/tint.vert", "tint.frag": src.URL + "/shaders/tint.frag"}
		_, img := mustRender(t, b, j)
		checkPixels(t, img, []px{{5, 5, color.NRGBA{0, 255, 0, 255}}})
	})

	t.Run("font at a site-absolute name", func(t *testing.T) {
		j := job(`let f;
function preload() { f = loadFont("/assets/Sans.ttf"); }
function setup() { createCanvas(40, 40); pixelDensity(1); background(255); textFont(f); textSize(40); fill(0); text("M", 2, 36); }`, 40, 40)
		j.Assets = map[string]string{"/assets/Sans.ttf": src.URL + "/fonts/DejaVuSans.ttf"}
		_, img := mustRender(t, b, j)
		dark := 0
		for y := 0; y < 40; y++ {
			for x := 0; x < 40; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x4000 {
					dark++
				}
			}
		}
		if dark < 50 {
			t.Fatalf("%d dark pixels; want the glyph drawn in the loaded font", dark)
		}
	})

	t.Run("p5 2 with async setup", func(t *testing.T) {
		j := job(`async function setup() { createCanvas(20, 10); pixelDensity(1); const a = await loadImage("data/tile.png"); const b = await loadImage(getComponentOutput("base")); image(a, 0, 0, 10, 10); image(b, 10, 0, 10, 10); }`, 20, 10)
		j.P5Version = "2"
		j.Assets = map[string]string{"data/tile.png": src.URL + "/jobs/a/tile.png"}
		j.Context = &empplay.SketchContext{Components: components}
		_, img := mustRender(t, b, j)
		checkPixels(t, img, []px{{2, 5, red}, {15, 5, blue}})
	})

	t.Run("a file declared by URL is no page to go to", func(t *testing.T) {
		// A frame at the file's origin would keep its storage there for
		// the next job (only the job's own origin is cleared), and a
		// frame of another site is outside the interception.
		src.mu.Lock()
		src.files["/frame/set.html"] = []byte(`<script>localStorage.setItem("k", "planted")</script>`)
		src.mu.Unlock()
		const frame = "https://frame.example/set.html"
		j := &empplay.Job{Type: empplay.TypeJS, Width: 30, Height: 10, Bucket: "renders", Filename: "frame.png",
			HTML:       `<iframe src="` + frame + `" onload="capture()" width="30" height="10"></iframe>`,
			Assets:     map[string]string{frame: src.URL + "/frame/set.html"},
			AllowBlank: true,
		}
		out, err := render(t, b, j)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if n := src.count("/frame/set.html"); n != 0 {
			t.Errorf("the frame's page was fetched %d times; want none", n)
		}
		if !slices.ContainsFunc(out.Warnings, func(w string) bool { return strings.Contains(w, frame) }) {
			t.Errorf("warnings %q do not list the refused frame %s", out.Warnings, frame)
		}
	})

	t.Run("js page: img, CSS url() and fetch()", func(t *testing.T) {
		j := &empplay.Job{Type: empplay.TypeJS, Width: 30, Height: 10, Bucket: "renders", Filename: "js.png",
			HTML: `<style>body{margin:0;display:flex}#bg{width:10px;height:10px;background:url(img/bg.png);background-size:10px 10px}#f{width:10px;height:10px}</style>
<img src="data/tile.png" width="10" height="10" style="display:block"><div id="bg"></div><div id="f"></div>`,
			JavaScript: `fetch("shader.frag").then(r => r.text()).then(t => { document.getElementById("f").style.background = t.includes("gl_FragColor") ? "rgb(0,255,0)" : "black"; });`,
			Assets: map[string]string{
				"data/tile.png": src.URL + "/jobs/a/tile.png",
				"img/bg.png":    src.URL + "/steps/1/base.png",
				"shader.frag":   src.URL + "/shaders/tint.frag",
			},
			AllowBlank: true,
			OutputType: empplay.OutputBoth,
		}
		j.CaptureDelayMs = 300
		out, err := render(t, b, j)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		img, err := png.Decode(bytes.NewReader(out.Artifacts[0].Body))
		if err != nil {
			t.Fatal(err)
		}
		checkPixels(t, img, []px{{5, 5, red}, {15, 5, blue}, {25, 5, color.NRGBA{0, 255, 0, 255}}})
		if len(out.Artifacts) != 2 {
			t.Fatalf("%d artifacts, want the PNG and the HTML", len(out.Artifacts))
		}
		html := string(out.Artifacts[1].Body)
		for _, name := range []string{`"data/tile.png"`, "url(img/bg.png)", `"shader.frag"`} {
			if strings.Contains(html, name) {
				t.Errorf("the HTML export still refers to %s", name)
			}
		}
		if n := strings.Count(html, "data:image/png;base64,"); n != 2 {
			t.Errorf("the HTML export has %d inline PNGs, want 2", n)
		}
	})

	t.Run("video", func(t *testing.T) {
		needFFmpeg(t)
		j := videoJob(`let a, b;
function preload() { a = loadImage("data/tile.png"); b = loadImage(getComponentOutput("base")); }
function setup() { createCanvas(64, 32); pixelDensity(1); }
function draw() { image(a, 0, 0, 32, 32); image(b, 32, 0, 32, 32); }`, 64, 32, 0.2, 10, "")
		j.Assets = map[string]string{"data/tile.png": src.URL + "/jobs/a/tile.png"}
		j.Context = &empplay.SketchContext{Components: components}
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		out, err := b.Render(ctx, j)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		if out.AssetHits+out.AssetMisses != 2 {
			t.Errorf("%d hits %d misses; want the two files", out.AssetHits, out.AssetMisses)
		}
		poster, err := png.Decode(bytes.NewReader(out.Artifacts[1].Body))
		if err != nil {
			t.Fatalf("poster: %v", err)
		}
		checkPixels(t, poster, []px{{16, 16, red}, {48, 16, blue}})
	})

	t.Run("another job's name is blocked", func(t *testing.T) {
		before := src.count("/jobs/a/tile.png")
		j := job(`let a; function preload() { a = loadImage("data/tile.png"); } function setup() { createCanvas(10, 10); image(a, 0, 0); }`, 10, 10)
		_, err := render(t, b, j)
		if code := empplay.ErrorCode(err); code != empplay.CodeNetworkBlocked || !strings.Contains(err.Error(), "data/tile.png") {
			t.Fatalf("got %v (%s), want network_blocked naming data/tile.png", err, code)
		}
		if n := src.count("/jobs/a/tile.png"); n != before {
			t.Fatalf("the CDN got %d more requests", n-before)
		}
	})

	t.Run("missing file", func(t *testing.T) {
		j := job(`let a; function preload() { a = loadImage("gone.png"); } function setup() { createCanvas(10, 10); image(a, 0, 0); }`, 10, 10)
		j.Assets = map[string]string{"gone.png": src.URL + "/jobs/a/gone.png"}
		_, err := render(t, b, j)
		if code := empplay.ErrorCode(err); code != empplay.CodeAssetUnavailable || !strings.Contains(err.Error(), "/jobs/a/gone.png") || !strings.Contains(err.Error(), "404") {
			t.Fatalf("got %v (%s), want asset_unavailable naming the URL and its 404", err, code)
		}
	})

	t.Run("undeclared full URL", func(t *testing.T) {
		j := job(`let a; function preload() { a = loadImage(`+jsString(canary.URL+"/x.png")+`); } function setup() { createCanvas(10, 10); image(a, 0, 0); }`, 10, 10)
		_, err := render(t, b, j)
		if code := empplay.ErrorCode(err); code != empplay.CodeNetworkBlocked {
			t.Fatalf("got %v (%s), want network_blocked", err, code)
		}
		if n := canary.count("/x.png"); n != 0 {
			t.Fatalf("the canary got %d requests", n)
		}
	})
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func TestExportInlinesLoadedAssets(t *testing.T) {
	t.Parallel()
	files := map[string]string{"data/tile.png": "data:image/png;base64,AAAA", "a.css": "data:text/css;base64,QQ=="}
	for _, tc := range []struct {
		name, in, want string
	}{
		{"img src", `<img src="data/tile.png">`, `<img src="data:image/png;base64,AAAA">`},
		{"dot slash", `<img src='./data/tile.png'>`, `<img src='data:image/png;base64,AAAA'>`},
		{"css url", `div{background:url(data/tile.png)}`, `div{background:url(data:image/png;base64,AAAA)}`},
		{"unquoted attribute", `<img src=data/tile.png>`, `<img src=data:image/png;base64,AAAA>`},
		{"fetch", `fetch("data/tile.png")`, `fetch("data:image/png;base64,AAAA")`},
		{"part of a longer name", `"mydata/tile.png" "data/tile.png.bak"`, `"mydata/tile.png" "data/tile.png.bak"`},
		{"not loaded", `"b.png"`, `"b.png"`},
	} {
		if got := inlineNames(tc.in, files); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Whether a page has a sketch, and whether its preload() failed, is
// decided only once no load the page waits for is on its way: the same job
// gives the same picture whether its files come from the asset cache at
// once or from a CDN that takes longer than the grace periods.
func TestSlowLoadsDecideNothing(t *testing.T) {
	const delay = 1500 * time.Millisecond // over both graces: 100 ms and 1 s
	var slow atomic.Int64
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		slow.Add(1)
		time.Sleep(delay) // the behaviour under test: a CDN slower than the graces
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"r":255,"g":0,"b":0}`))
	})
	red := color.NRGBA{255, 0, 0, 255}
	for _, tc := range []struct{ name, code string }{
		{"sketch started once a fetch answered", `fetch("data/colour.json").then(r => r.json()).then(c => new p5(p => {
  p.setup = () => { p.createCanvas(8, 8); p.pixelDensity(1); p.background(c.r, c.g, c.b); p.noLoop(); };
}));`},
		{"console.error while preload() loads", `let c;
function preload() { c = loadJSON("data/colour.json"); console.error("loading the colour"); }
function setup() { createCanvas(8, 8); pixelDensity(1); background(c.r, c.g, c.b); noLoop(); }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := job(tc.code, 8, 8)
			j.Assets = map[string]string{"data/colour.json": src.URL + "/colour.json"}
			before := slow.Load()
			_, img := mustRender(t, b, j)
			checkPixels(t, img, []px{{0, 0, red}, {7, 7, red}})
			if slow.Load() == before {
				t.Fatal("the CDN was not asked: the test tested nothing")
			}
		})
	}
}

// TestPageAssetNames: a declared name is found by the URL the page's
// request has, a name with a host of its own ("//cdn.example/a.png")
// under that host, not under the page's own path.
func TestPageAssetNames(t *testing.T) {
	t.Parallel()
	origins, err := fetcher.NewOrigins("https://cdn.example")
	if err != nil {
		t.Fatal(err)
	}
	j := job(`function setup(){}`, 8, 8)
	j.Assets = map[string]string{
		"data/tile.png":              "https://cdn.example/1.png",
		"//cdn.example/a.png":        "https://cdn.example/2.png",
		"http://other.example/b.png": "https://cdn.example/3.png",
	}
	a := newPageAssets(j, fetcher.New(fetcher.Config{Origins: origins}), AssetLimits{})
	const page = "https://j0123.invalid"
	for _, tc := range []struct{ req, want string }{
		{page + "/data/tile.png", "https://cdn.example/1.png"},
		{"https://cdn.example/a.png", "https://cdn.example/2.png"},
		{page + "/a.png", ""},
		{"http://other.example/b.png", "https://cdn.example/3.png"},
		{"https://other.example/b.png", "https://cdn.example/3.png"}, // upgraded as mixed content
		{page + "/b.png", ""},
	} {
		if got, _ := a.source(page, tc.req); got != tc.want {
			t.Errorf("source(%s) = %q; want %q", tc.req, got, tc.want)
		}
	}
}

// TestPageAssetsServedBound: the budget charges a file once, however
// often the page asks for it; every answer is a copy in the browser, so
// the bytes handed over in all are bounded too (twice the job's budget:
// what each answer carried, a whole file or a range of it), and the job
// fails for good past it.
func TestPageAssetsServedBound(t *testing.T) {
	t.Parallel()
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, 600<<10))
	}))
	t.Cleanup(src.Close)
	origins, err := fetcher.NewOrigins(src.URL)
	if err != nil {
		t.Fatal(err)
	}
	j := job(`function setup(){}`, 8, 8)
	j.Assets = map[string]string{"big.bin": src.URL + "/big.bin?sig=secret"}
	a := newPageAssets(j, fetcher.New(fetcher.Config{Origins: origins}), AssetLimits{JobBytes: 1 << 20, JobTimeout: 10 * time.Second})
	ctx := testenv.Context(t, 10*time.Second)
	answer := func(n int64) error { // a request answered with n bytes of the file
		if _, err := a.get(ctx, src.URL+"/big.bin?sig=secret"); err != nil {
			return err
		}
		return a.charge(src.URL+"/big.bin?sig=secret", n)
	}
	for i := 1; i <= 3; i++ {
		if err := answer(600 << 10); err != nil {
			t.Fatalf("request %d (%d KiB in all): %v", i, i*600, err)
		}
	}
	// Ranges of it count what they carried: 1800 + 240 KiB.
	for i := 1; i <= 4; i++ {
		if err := answer(60 << 10); err != nil {
			t.Fatalf("range %d (%d KiB in all): %v", i, 1800+i*60, err)
		}
	}
	err = answer(600 << 10)
	if empplay.ErrorCode(err) != empplay.CodeAssetUnavailable || empplay.IsRetryable(err) || a.err() == nil {
		t.Fatalf("request 4 (2640 KiB in all, over 2 MiB): %v; want a permanent asset_unavailable that fails the job", err)
	}
	if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "load each file once") {
		t.Errorf("message %q: want advice, and no query", err)
	}
}
