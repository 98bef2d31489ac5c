package render

import (
	"bytes"
	"errors"
	"fmt"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/empplay/empplay"
)

// jsJob returns a js job with the given parts, viewport and output type.
func jsJob(html, css, js string, w, h int, outputType string) *empplay.Job {
	return &empplay.Job{Type: empplay.TypeJS, HTML: html, CSS: css, JavaScript: js, Width: w, Height: h,
		OutputType: outputType, Bucket: "renders", Prefix: "test", Filename: "page.png"}
}

func TestJSDocument(t *testing.T) {
	t.Parallel()
	const head, script = "<script>PRELUDE</script>\n", "<script>USER</script>\n"
	order := func(t *testing.T, doc string, parts ...string) {
		t.Helper()
		at := -1
		for _, p := range parts {
			i := strings.Index(doc, p)
			if i < 0 {
				t.Fatalf("%q is missing from\n%s", p, doc)
			}
			if i < at {
				t.Errorf("%q is out of order in\n%s", p, doc)
			}
			at = i
		}
	}
	t.Run("fragment", func(t *testing.T) {
		doc := jsDocument(`<div id="a">x</div>`, head, "p{color:red}", script)
		order(t, doc, "<!DOCTYPE html>", `<meta charset="utf-8">`, "PRELUDE", "<style>\np{color:red}\n</style>", "</head>", "<body>", `<div id="a">x</div>`, "USER", "</body>")
	})
	t.Run("full document", func(t *testing.T) {
		doc := jsDocument("<!-- hi -->\n<!DOCTYPE html>\n<HTML lang=en><Head>\n<meta charset=utf-8><style>own</style>\n</HEAD>\n<body class=x>\n<p>hi</p>\n</body>\n</html>\n", head, "css", script)
		order(t, doc, "<!DOCTYPE html>", "<Head>", "PRELUDE", "<meta charset=utf-8>", "<style>own</style>", "<style>\ncss\n</style>", "</HEAD>", "<body class=x>", "<p>hi</p>", "USER", "</body>", "</html>")
		if strings.Count(doc, "<body") != 1 || strings.Count(doc, "<!DOCTYPE") != 1 {
			t.Errorf("the document was wrapped again:\n%s", doc)
		}
	})
	t.Run("document without head or body", func(t *testing.T) {
		doc := jsDocument("<!doctype html><title>t</title><p>x</p>", head, "css", script)
		order(t, doc, "<!doctype html>", "PRELUDE", "<style>", "<title>t</title>", "<p>x</p>", "USER")
	})
	t.Run("escaping", func(t *testing.T) {
		j := jsJob("<p>x</p>", "a::after{content:'</style>'}", "var s = '</SCRIPT><script>alert(1)<!--';", 10, 10, empplay.OutputHTML)
		doc := exportJS(j, nil)
		if strings.Count(strings.ToLower(doc), "</script>") != 1 || strings.Count(doc, "</style>") != 1 {
			t.Errorf("the css or javascript closes its element early:\n%s", doc)
		}
		for _, want := range []string{`'<\/SCRIPT><script>alert(1)<\!--'`, `'<\/style>'`} {
			if !strings.Contains(doc, want) {
				t.Errorf("the export lacks %s:\n%s", want, doc)
			}
		}
	})
}

func TestNewJSPage(t *testing.T) {
	t.Parallel()
	j := jsJob("<p>x</p>", "p{}", "empplay.capture();", 10, 20, "")
	j.Context = &empplay.SketchContext{Hash: "oo&x=1"}
	pg, err := newJSPage(j)
	if err != nil {
		t.Fatal(err)
	}
	if !pg.waitSignal || pg.mode != modeJS {
		t.Errorf("mode %q waitSignal %v, want js true", pg.mode, pg.waitSignal)
	}
	if want := docPath + "?fxcontext=capture&fxhash=oo%26x%3D1&fxiteration=1&fxminter=" + DefaultMinter + "&preview=1"; pg.path != want {
		t.Errorf("path %s, want %s", pg.path, want)
	}
	doc := string(pg.resources[pg.path].body)
	iPrelude, iHTML, iScript := strings.Index(doc, "window.empplay"), strings.Index(doc, "<p>x</p>"), strings.Index(doc, `<script src="`+sketchPath+`"></script>`)
	if iPrelude < 0 || iHTML < iPrelude || iScript < iHTML {
		t.Errorf("want the prelude, the html, then the script:\n%s", doc)
	}
	if got := string(pg.resources[sketchPath].body); got != j.JavaScript {
		t.Errorf("sketch.js = %q", got)
	}
	if string(pg.export) != exportJS(j, nil) {
		t.Errorf("export is not exportJS(job, nil)")
	}
}

func TestHTMLName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"tokens/42/preview.png": "tokens/42/preview.html",
		"preview":               "preview.html",
		"a.b/preview":           "a.b/preview.html",
		"x/page.html":           "x/page.html.html",
	} {
		if got := htmlName(in); got != want {
			t.Errorf("htmlName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The page of the js tests: a blue body, a red box from the html and a
// green one the javascript adds after it.
const (
	boxHTML = `<div id="red" style="position:absolute;left:20px;top:10px;width:30px;height:40px;background:#f00"></div>`
	boxCSS  = `html,body{margin:0;background:rgb(0,0,255)} #green{position:absolute;left:60px;top:0;width:10px;height:10px;background:#0f0}`
	boxJS   = `var g = document.createElement('div');
g.id = 'green';
document.body.appendChild(g);
if (!document.getElementById('red')) throw new Error('the script ran before the html');`
)

var boxPixels = []px{{25, 15, red}, {5, 5, blue}, {65, 5, green}, {99, 59, blue}, {49, 49, red}, {50, 50, blue}}

func TestRenderJS(t *testing.T) {
	b := sharedBrowser(t)

	t.Run("png", func(t *testing.T) {
		j := jsJob(boxHTML, boxCSS, boxJS, 100, 60, empplay.OutputPNG)
		out, img := mustRender(t, b, j)
		if out.Trigger != TriggerLoad {
			t.Errorf("trigger %q, want %q", out.Trigger, TriggerLoad)
		}
		if got := img.Bounds().Size(); got.X != 100 || got.Y != 60 {
			t.Errorf("image is %dx%d, want 100x60", got.X, got.Y)
		}
		checkPixels(t, img, boxPixels)
	})

	t.Run("full document", func(t *testing.T) {
		j := jsJob(`<!DOCTYPE html>
<html><head><title>box</title><style>body{background:#ff0}</style></head>
<body>`+boxHTML+`</body></html>`, boxCSS, boxJS, 100, 60, "")
		_, img := mustRender(t, b, j) // the job's css comes after the page's own
		checkPixels(t, img, boxPixels)
	})

	t.Run("html", func(t *testing.T) {
		j := jsJob(boxHTML, boxCSS, boxJS, 100, 60, empplay.OutputHTML)
		out, err := render(t, b, j)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Artifacts) != 1 {
			t.Fatalf("got %d artifacts, want 1", len(out.Artifacts))
		}
		a := out.Artifacts[0]
		if a.Name != j.BlobName() || a.MimeType != "text/html" {
			t.Errorf("artifact %q %q, want %q text/html", a.Name, a.MimeType, j.BlobName())
		}
		checkExport(t, j, a.Body)
	})

	t.Run("both", func(t *testing.T) {
		j := jsJob(boxHTML, boxCSS, boxJS, 100, 60, empplay.OutputBoth)
		out, err := render(t, b, j)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Artifacts) != 2 {
			t.Fatalf("got %d artifacts, want 2", len(out.Artifacts))
		}
		p, h := out.Artifacts[0], out.Artifacts[1]
		if p.Name != "test/page.png" || p.MimeType != "image/png" || p.Width != 100 || p.Height != 60 {
			t.Errorf("first artifact %q %q %dx%d, want test/page.png image/png 100x60", p.Name, p.MimeType, p.Width, p.Height)
		}
		img, err := png.Decode(bytes.NewReader(p.Body))
		if err != nil {
			t.Fatal(err)
		}
		checkPixels(t, img, boxPixels)
		if h.Name != "test/page.html" || h.MimeType != "text/html" {
			t.Errorf("second artifact %q %q, want test/page.html text/html", h.Name, h.MimeType)
		}
		checkExport(t, j, h.Body)
	})

	t.Run("seeded and captured on signal", func(t *testing.T) {
		// Math.random is seeded for js pages too, and empplay.capture()
		// takes the picture when the page says so.
		w := seedWords(DefaultHash)
		r := sfc32(w[0], w[1], w[2], w[3])
		want := color.NRGBA{byte256(r()), byte256(r()), 0, 255}
		j := jsJob(`<div id="box" style="width:16px;height:16px;background:#fff"></div>`, "body{margin:0}", `
var c = 'rgb(' + Math.floor(Math.random() * 256) + ',' + Math.floor(Math.random() * 256) + ',0)';
setTimeout(function () {
  document.getElementById('box').style.background = c;
  empplay.capture();
}, 100);`, 16, 16, "")
		out, img := mustRender(t, b, j)
		if out.Trigger != TriggerCapture {
			t.Errorf("trigger %q, want %q", out.Trigger, TriggerCapture)
		}
		checkPixels(t, img, []px{{8, 8, want}})
	})

	t.Run("script error", func(t *testing.T) {
		_, err := render(t, b, jsJob("<p>x</p>", "", "var a = 1;\nnope();", 10, 10, empplay.OutputHTML))
		var e *empplay.Error
		if !errors.As(err, &e) || e.Code != empplay.CodeSketchError || !strings.Contains(err.Error(), "nope") || !strings.Contains(err.Error(), "(line 2)") {
			t.Errorf("error %v, want sketch_error about nope on line 2", err)
		}
	})

	t.Run("blocked request", func(t *testing.T) {
		_, err := render(t, b, jsJob(`<p>x</p>`, "", `fetch('https://example.com/data.json').then(function (r) { return r.json(); })`, 10, 10, ""))
		if empplay.ErrorCode(err) != empplay.CodeNetworkBlocked || !strings.Contains(fmt.Sprint(err), "https://example.com/data.json") {
			t.Errorf("error %v, want network_blocked naming the blocked URL", err)
		}
	})
}

// checkExport checks a js job's HTML export: one file with the css and
// javascript inline, and nothing that needs the network.
func checkExport(t *testing.T, j *empplay.Job, body []byte) {
	t.Helper()
	doc := string(body)
	for _, want := range []string{boxHTML, "<style>\n" + boxCSS + "\n</style>", "<script>\n" + boxJS + "\n</script>", `<meta charset="utf-8">`} {
		if !strings.Contains(doc, want) {
			t.Errorf("the html lacks %q:\n%s", want, doc)
		}
	}
	for _, bad := range []string{"http:", "https:", "//", "src=", "empplay", "fxhash"} {
		if strings.Contains(doc, bad) {
			t.Errorf("the html contains %q:\n%s", bad, doc)
		}
	}
	if !bytes.Equal(body, []byte(exportJS(j, nil))) {
		t.Errorf("the html is not exportJS(job, nil)")
	}
}
