package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/storage"
)

// countingCDN stands in front of Azurite as CDN_URI and counts the GETs of
// each path; it also serves two paths of its own: an oversized file and a
// redirect to another origin.
type countingCDN struct {
	*httptest.Server
	mu   sync.Mutex
	gets map[string]int
}

func newCountingCDN(t *testing.T, azurite, foreign string) *countingCDN {
	t.Helper()
	target, err := url.Parse(azurite)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	c := &countingCDN{gets: map[string]int{}}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			c.mu.Lock()
			c.gets[r.URL.Path]++
			c.mu.Unlock()
		}
		switch {
		case strings.HasSuffix(r.URL.Path, "/big.bin"):
			w.Write(make([]byte, 1<<20+1))
		case strings.HasSuffix(r.URL.Path, "/moved.png"):
			http.Redirect(w, r, foreign+"/stolen.png", http.StatusFound)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *countingCDN) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gets[path]
}

// canary is a loopback server on another port that no job may reach; it
// counts the connections made to it.
func newCanary(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// Jobs draw an earlier job's output through getComponentOutput and a
// declared relative asset, fetched by the worker from the CDN (Azurite
// behind a counting proxy), cached, and nothing else.
func TestAssetsEndToEnd(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 5*time.Minute)
	canary, canaryConns := newCanary(t)
	cdn := newCountingCDN(t, s.azurite.Endpoint, canary.URL)
	cdnURI := cdn.URL + "/devstoreaccount1"
	s.env = append(s.env, "CDN_URI="+cdnURI)
	s.startWorker(t, "BROWSER_TIMEOUT=10000", "ASSET_CACHE_DIR="+t.TempDir(), "ASSET_MAX_FILE_MB=1")

	solid := func(name string, r, g, b int) string {
		res := s.submit(t, ctx, job(t, map[string]any{
			"code":  "function setup(){ createCanvas(8, 8); background(" + strconv.Itoa(r) + "," + strconv.Itoa(g) + "," + strconv.Itoa(b) + "); }",
			"width": 8, "height": 8, "filename": name, "allowBlank": true,
		}))
		if !res.Success {
			t.Fatalf("render %s: %s (%s)", name, res.Error, res.ErrorCode)
		}
		if !strings.HasPrefix(res.Src, cdnURI+"/") {
			t.Fatalf("src %s is not on the CDN %s", res.Src, cdnURI)
		}
		return res.Src
	}
	base := solid("base.png", 255, 0, 0) // an earlier workflow step's output
	tile := solid("tile.png", 0, 0, 255) // a file the job declares

	composite := func(filename string, assets map[string]string) *empplay.Result {
		return s.submit(t, ctx, job(t, map[string]any{
			"code": `let a, b;
function preload() { a = loadImage("data/tile.png"); b = loadImage(getComponentOutput("base")); }
function setup() { createCanvas(20, 10); pixelDensity(1); image(a, 0, 0, 10, 10); image(b, 10, 0, 10, 10); }`,
			"width": 20, "height": 10, "filename": filename,
			"context": map[string]any{"components": []any{map[string]any{
				"id": 1, "nodeName": "comfy", "nodeAlias": "base", "nodeResponse": map[string]any{"src": base},
			}}},
			"assets": assets,
		}))
	}
	tilePath := strings.TrimPrefix(tile, cdn.URL)
	basePath := strings.TrimPrefix(base, cdn.URL)

	t.Run("component output and declared asset, then the cache", func(t *testing.T) {
		for i, name := range []string{"composite-1.png", "composite-2.png"} {
			res := composite(name, map[string]string{"data/tile.png": tile})
			if !res.Success {
				t.Fatalf("composite %d: %s (%s)", i, res.Error, res.ErrorCode)
			}
			img, _ := fetchPNG(t, res.Src)
			if c := img.At(5, 5); !near(c, 0, 0, 255) {
				t.Errorf("composite %d: declared asset pixel %v; want blue", i, c)
			}
			if c := img.At(15, 5); !near(c, 255, 0, 0) {
				t.Errorf("composite %d: component pixel %v; want red", i, c)
			}
			wantHits, wantMisses := 0, 2
			if i == 1 {
				wantHits, wantMisses = 2, 0
			}
			if res.Timings.AssetHits != wantHits || res.Timings.AssetMisses != wantMisses {
				t.Errorf("composite %d: %d hits %d misses; want %d and %d", i, res.Timings.AssetHits, res.Timings.AssetMisses, wantHits, wantMisses)
			}
		}
		if n, m := cdn.count(tilePath), cdn.count(basePath); n != 1 || m != 1 {
			t.Errorf("the CDN got %d GETs of the tile and %d of the base; want 1 each (then the cache)", n, m)
		}
	})

	for _, tc := range []struct {
		name string
		src  string
		code empplay.Code
		msg  string
	}{
		{"source outside the allowed origins", canary.URL + "/x.png", empplay.CodeInvalidField, canary.URL + "/x.png"},
		{"404", cdnURI + "/e2e/tests/run/missing.png", empplay.CodeAssetUnavailable, "404"},
		{"oversized", cdnURI + "/e2e/big.bin", empplay.CodeAssetUnavailable, "over the limit of 1048576 bytes"},
		{"redirect to another origin", cdnURI + "/e2e/moved.png", empplay.CodeAssetUnavailable, "not on an allowed origin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := composite("fail.png", map[string]string{"data/tile.png": tc.src})
			if res.Success || res.ErrorCode != tc.code || !strings.Contains(res.Error, tc.msg) || res.Retryable {
				t.Fatalf("got success=%v %s %q retryable=%v; want %s containing %q, not retryable", res.Success, res.ErrorCode, res.Error, res.Retryable, tc.code, tc.msg)
			}
		})
	}
	if n := canaryConns.Load(); n != 0 {
		t.Errorf("the canary saw %d connections; want none", n)
	}

	t.Run("shader pair and font from the library", func(t *testing.T) {
		blob, err := storage.New(storage.Config{ConnectionString: s.azurite.ConnStr}, nil)
		if err != nil {
			t.Fatal(err)
		}
		font, err := os.ReadFile("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf") // fonts-dejavu-core, installed by setup
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string][]byte{
			"lib/tint.vert": []byte("attribute vec3 aPosition;\nvoid main(){vec4 p=vec4(aPosition,1.);p.xy=p.xy*2.-1.;gl_Position=p;}\n"),
			"lib/tint.frag": []byte("precision mediump float;\nvoid main(){gl_FragColor=vec4(0.,1.,0.,1.);}\n"),
			"lib/Sans.ttf":  font,
		} {
			if err := blob.Upload(ctx, "e2e", name, body, "application/octet-stream"); err != nil {
				t.Fatal(err)
			}
		}
		res := s.submit(t, ctx, job(t, map[string]any{
			"code": `let sh, f, g;
function preload() { sh = loadShader("tint.vert", "tint.frag"); f = loadFont("/assets/Sans.ttf"); }
function setup() { createCanvas(60, 30, WEBGL); pixelDensity(1); shader(sh); rect(0, 0, 30, 30);
  g = createGraphics(30, 30); g.background(255); g.textFont(f); g.textSize(30); g.fill(0); g.text("M", 2, 27);
  resetShader(); image(g, 0, -15, 30, 30); }`,
			"width": 60, "height": 30, "filename": "lib.png",
			"assets": map[string]string{
				"tint.vert": cdnURI + "/e2e/lib/tint.vert", "tint.frag": cdnURI + "/e2e/lib/tint.frag",
				"/assets/Sans.ttf": cdnURI + "/e2e/lib/Sans.ttf",
			},
		}))
		if !res.Success {
			t.Fatalf("%s (%s)", res.Error, res.ErrorCode)
		}
		img, _ := fetchPNG(t, res.Src)
		if c := img.At(8, 15); !near(c, 0, 255, 0) {
			t.Errorf("shader pixel %v; want green", c)
		}
		dark := 0
		for y := 0; y < 30; y++ {
			for x := 30; x < 60; x++ {
				if r, _, _, _ := img.At(x, y).RGBA(); r < 0x4000 {
					dark++
				}
			}
		}
		if dark < 30 {
			t.Errorf("%d dark pixels in the text half; want the glyph drawn in the loaded font", dark)
		}
	})

	t.Run("another job's asset name without declaring it", func(t *testing.T) {
		res := s.submit(t, ctx, job(t, map[string]any{
			"code":  `let a; function preload() { a = loadImage("data/tile.png"); } function setup() { createCanvas(10, 10); image(a, 0, 0); }`,
			"width": 10, "height": 10, "filename": "thief.png",
		}))
		if res.Success || res.ErrorCode != empplay.CodeNetworkBlocked || !strings.Contains(res.Error, "data/tile.png") {
			t.Fatalf("got success=%v %s %q; want network_blocked naming data/tile.png", res.Success, res.ErrorCode, res.Error)
		}
	})
	s.assertQueueEmpty(t, ctx)
}
