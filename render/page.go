package render

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/empplay/empplay"
)

// The page lives at an origin that can never resolve (.invalid is reserved
// by RFC 6761), and every request to it is answered from memory by the
// Fetch interception in render.go. HTTPS makes the page a secure context,
// as it would be on the platform, so APIs such as crypto.subtle work.
const (
	origin    = "https://empplay.invalid"
	docURL    = origin + "/"
	sketchURL = origin + "/sketch.js"
	// faviconURL is requested by the browser itself; it gets a 404.
	faviconURL = origin + "/favicon.ico"
)

// bindingName is the DevTools binding the prelude reports through. The
// prelude deletes the global as soon as it has a reference to it.
const bindingName = "__empplayReport"

// Grace periods of the prelude, see prelude.js.
const (
	// noSketchGrace is how long after the load event the page waits for a
	// p5 sketch to start before it decides the code has none.
	noSketchGrace = 100 * time.Millisecond
	// preloadGrace is how long a p5 1.x preload() may stay unfinished
	// after a console.error before the page reports it as failed. Every
	// allowed load is served from memory, so a live preload finishes in
	// milliseconds.
	preloadGrace = time.Second
)

//go:embed prelude.js
var preludeJS string

// resource is one response the page can get.
type resource struct {
	mime string
	body []byte
}

// page is everything one job's document is made of, keyed by URL.
type page struct {
	resources map[string]resource
}

// p5URL is where the page loads p5 of the given major version from.
func p5URL(major string) string {
	if major == "" {
		major = "1"
	}
	return origin + "/p5@" + major + ".min.js"
}

// pageConfig is the settings the prelude reads (the EMPPLAY_CONFIG marker).
type pageConfig struct {
	Binding         string          `json:"binding"`
	SketchURL       string          `json:"sketchURL"`
	Hash            string          `json:"hash"`
	Variables       json.RawMessage `json:"variables"`
	Components      json.RawMessage `json:"components"`
	Width           int             `json:"width"`
	Height          int             `json:"height"`
	NoSketchGraceMs int64           `json:"noSketchGraceMs"`
	PreloadGraceMs  int64           `json:"preloadGraceMs"`
}

// newPage builds the document for a p5 job: a style reset, p5, the prelude
// with the job's context, and the sketch as its own script, so that error
// lines are lines of the sketch.
func newPage(job *empplay.Job, p5 []byte) (*page, error) {
	cfg := pageConfig{
		Binding:         bindingName,
		SketchURL:       sketchURL,
		Variables:       json.RawMessage("null"),
		Components:      json.RawMessage("null"),
		Width:           job.Width,
		Height:          job.Height,
		NoSketchGraceMs: noSketchGrace.Milliseconds(),
		PreloadGraceMs:  preloadGrace.Milliseconds(),
	}
	if c := job.Context; c != nil {
		cfg.Hash = c.Hash
		if len(c.Variables) > 0 {
			cfg.Variables = c.Variables
		}
		if len(c.Components) > 0 {
			cfg.Components = c.Components
		}
	}
	// json.Marshal escapes <, > and & (and U+2028/9), so the result cannot
	// close the <script> element it is put in. Marshal also checks that the
	// raw variables and components are valid JSON.
	conf, err := json.Marshal(cfg)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "job context is not valid JSON: %v", err)
	}
	prelude := strings.Replace(preludeJS, "/*EMPPLAY_CONFIG*/null", string(conf), 1)
	src := p5URL(job.P5Version)

	var doc strings.Builder
	doc.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>empplay</title>
<style>html,body{margin:0;padding:0;overflow:hidden}canvas{display:block}</style>
`)
	fmt.Fprintf(&doc, "<script src=%q></script>\n<script>\n%s</script>\n</head>\n<body>\n<script src=%q></script>\n</body>\n</html>\n", src, prelude, sketchURL)

	return &page{resources: map[string]resource{
		docURL:    {mime: "text/html; charset=utf-8", body: []byte(doc.String())},
		src:       {mime: "text/javascript; charset=utf-8", body: p5},
		sketchURL: {mime: "text/javascript; charset=utf-8", body: []byte(job.Code)},
	}}, nil
}

// resource returns the response for url. A nil page has none.
func (p *page) resource(url string) (resource, bool) {
	if p == nil {
		return resource{}, false
	}
	r, ok := p.resources[url]
	return r, ok
}
