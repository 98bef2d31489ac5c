package render

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/empplay/empplay"
)

// Every page lives at an origin of its own that can never resolve (.invalid
// is reserved by RFC 6761; see newOrigin), and every request to it is
// answered from memory by the Fetch interception in tab.go. HTTPS makes
// the page a secure context, as it would be on the platform, so APIs such
// as crypto.subtle work. Documents name their own resources by path, so
// one document serves at any origin.
const (
	docPath = "/"
	// sketchPath is the job's code: a p5 sketch, or a js job's javascript.
	sketchPath = "/sketch.js"
	// jobPath is the script of a p5 page that hands the prelude its job's
	// settings, right before the sketch.
	jobPath = "/job.js"
	// faviconPath is requested by the browser itself; it gets a 404.
	faviconPath = "/favicon.ico"
	// assetOrigin is where every page loads p5.js from, whatever its own
	// origin, with CORS so that errors thrown through p5 keep their
	// message (see p5Tag).
	assetOrigin = "https://p5.empplay.invalid"
)

// pageOrigin matches the URLs at origins newOrigin makes.
var pageOrigin = regexp.MustCompile(`^https://j[0-9a-f]{16}\.invalid(/|$)`)

// newOrigin is a fresh origin for one page: https://j<16 random hex
// digits>.invalid. Each is a site of its own (no two share a registrable
// domain), so everything the browser keeps per origin or per site
// (storage, cookies, caches, service workers) is out of reach of the next
// job's page (see the package doc).
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "https://j" + hex.EncodeToString(b[:]) + ".invalid"
}

// DefaultHash is the hash a job without context.hash is rendered with, so
// that its output is deterministic too: the SHA-256 of the ASCII string
// "empplay", as 0x-prefixed lowercase hex (the shape of an Art Blocks hash).
const DefaultHash = "0x05a1e3de6151b7ca92124893753636d54f24880201e7fbcd5a566629f7a9ff39"

// DefaultMinter is $fx.minter (fxhash's minter address) when
// context.variables.minter is not a string: the Tezos burn address.
const DefaultMinter = "tz1burnburnburnburnburnburnburjAYjjX"

// bindingName is the DevTools binding the prelude reports through. The
// prelude deletes the global as soon as it has a reference to it.
const bindingName = "__empplayReport"

// startName is the function job.js calls with the job's settings (see
// prelude.js). The prelude deletes it on that call, before the sketch runs.
const startName = "__empplayStart"

// deadlineName is the function the renderer calls at a job's deadline to
// capture what the page has drawn (see prelude.js).
const deadlineName = "__empplayDeadline"

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
	// frameGrace bounds the wait for each of the two animation frames a
	// js page gets after its load event (and fonts), in case frames do not
	// tick.
	frameGrace = 100 * time.Millisecond
)

// Page modes, see pageConfig.Mode.
const (
	modeP5 = "p5"
	modeJS = "js"
)

//go:embed prelude.js
var preludeJS string

// globalsJS is the seeding and the platforms' globals that prelude.js and
// video.js share (see withGlobals).
//
//go:embed globals.js
var globalsJS string

// withGlobals puts globals.js in place of the EMPPLAY_GLOBALS marker of a
// page script.
func withGlobals(script string) string {
	return strings.Replace(script, "/*EMPPLAY_GLOBALS*/", globalsJS, 1)
}

// resource is one response the page can get.
type resource struct {
	mime string
	body []byte
}

// page is everything one job's document is made of, keyed by URL.
type page struct {
	// path is the document's path and query, what the tab navigates to at
	// its origin: docPath with
	// fxhash's query parameters.
	path string
	// resources are keyed by path for the page's own, by URL for p5.js.
	resources map[string]resource
	// export is the self-contained HTML of a js job (see exportJS), nil
	// for p5 jobs.
	export []byte
	// mode and waitSignal are the prelude's settings of the same names.
	mode       string
	waitSignal bool
	// major is the p5 major version a p5 page loads ("1" or "2").
	major string
	// shell marks a p5 page loaded ahead of its job (see warmPage): its
	// requests for job.js and sketch.js wait until the job's page takes
	// over the tab.
	shell bool
}

// waitingFor says what a page that timed out did not do.
func (p *page) waitingFor() string {
	switch {
	case p.waitSignal:
		return "the sketch did not call $fx.preview() or empplay.capture()"
	case p.mode == modeJS:
		return "the page did not finish loading"
	}
	return "the sketch did not finish its first frame"
}

// p5Major is the p5 major version a job asks for: "1" unless it says.
func p5Major(v string) string {
	if v == "" {
		return "1"
	}
	return v
}

// p5URL is where a page loads p5 of the given major version from.
func p5URL(major string) string {
	return assetOrigin + "/p5@" + p5Major(major) + ".min.js"
}

// pageConfig is the settings the prelude reads (the EMPPLAY_CONFIG marker).
type pageConfig struct {
	Binding   string `json:"binding"`
	SketchURL string `json:"sketchURL"`
	// StartName is the start function of a p5 page (see startName).
	StartName string `json:"startName,omitempty"`
	// DeadlineName is the page's deadline capture (see deadlineName).
	DeadlineName string `json:"deadlineName"`
	// The job's capture settings (see empplay.Job).
	CaptureFrames   int    `json:"captureFrames"`
	CaptureDelayMs  int    `json:"captureDelayMs"`
	CaptureSelector string `json:"captureSelector"`
	// URL is the document's URL with fxhash's query (see pageURL), which a
	// shell page takes with history.replaceState when its job starts.
	URL string `json:"url,omitempty"`
	// Mode is "p5" (a p5 sketch, captured from its canvas) or "js" (an
	// HTML/CSS/JS page, captured by a screenshot once the prelude reports
	// it ready).
	Mode string `json:"mode"`
	// token is what the sketch knows of its token (in JSON, its fields
	// are the config's own).
	token
	Width  int `json:"width"`
	Height int `json:"height"`
	// WaitSignal: the code calls $fx.preview(), fxpreview() or
	// empplay.capture(), so the page is captured only when it does.
	WaitSignal      bool  `json:"waitSignal"`
	NoSketchGraceMs int64 `json:"noSketchGraceMs"`
	PreloadGraceMs  int64 `json:"preloadGraceMs"`
	FrameGraceMs    int64 `json:"frameGraceMs"`
}

// seedWords is the seed material of a hash: SHA-256 of its UTF-8 bytes,
// read as eight big-endian unsigned 32-bit words.
func seedWords(hash string) [8]uint32 {
	sum := sha256.Sum256([]byte(hash))
	var w [8]uint32
	for i := range w {
		w[i] = binary.BigEndian.Uint32(sum[4*i:])
	}
	return w
}

// signalCall finds a call of $fx.preview(), fxpreview() or
// empplay.capture(); group 1 is set for a definition, "function
// fxpreview(", which fxhash's own snippet has whether or not the code
// calls it.
var signalCall = regexp.MustCompile(`(function\s+)?(?:\$fx\s*\.\s*preview|\bfxpreview|\bempplay\s*\.\s*capture)\s*\(`)

// waitsForSignal reports whether any of the texts calls $fx.preview(),
// fxpreview() or empplay.capture(). It is a plain text scan: a call in a
// comment counts too.
func waitsForSignal(texts ...string) bool {
	for _, s := range texts {
		for _, m := range signalCall.FindAllStringSubmatchIndex(s, -1) {
			if m[2] < 0 {
				return true
			}
		}
	}
	return false
}

// token is what a page tells the sketch about the token it renders: the
// seeding and the platforms' globals (see the package doc). Still images
// and videos share it.
type token struct {
	// Hash is the effective hash: context.hash, or DefaultHash.
	Hash string `json:"hash"`
	// Seed is SHA-256(Hash) as eight big-endian 32-bit words (see
	// seedWords).
	Seed       [8]uint32       `json:"seed"`
	TokenID    string          `json:"tokenId"`
	Minter     string          `json:"minter"`
	Iteration  int64           `json:"iteration"`
	Variables  json.RawMessage `json:"variables"`
	Components json.RawMessage `json:"components"`
}

// newToken is the token of job: its context, with the defaults.
func newToken(job *empplay.Job) token {
	tk := token{
		Hash:       DefaultHash,
		TokenID:    "0",
		Minter:     DefaultMinter,
		Iteration:  1,
		Variables:  json.RawMessage("null"),
		Components: json.RawMessage("null"),
	}
	if c := job.Context; c != nil {
		if c.Hash != "" {
			tk.Hash = c.Hash
		}
		if len(c.Variables) > 0 {
			tk.Variables = c.Variables
		}
		if len(c.Components) > 0 {
			tk.Components = c.Components
		}
	}
	tk.Seed = seedWords(tk.Hash)

	// tokenId, minter and iteration come from the variables when they are
	// an object that has them with the right type.
	var vars map[string]json.RawMessage
	d := json.NewDecoder(bytes.NewReader(tk.Variables))
	d.UseNumber()
	if d.Decode(&vars) == nil {
		var s string
		var n json.Number
		if v, ok := vars["tokenId"]; ok {
			if json.Unmarshal(v, &s) == nil && s != "" {
				tk.TokenID = s
			} else if json.Unmarshal(v, &n) == nil {
				tk.TokenID = n.String()
			}
		}
		s = ""
		if v, ok := vars["minter"]; ok && json.Unmarshal(v, &s) == nil && s != "" {
			tk.Minter = s
		}
		if v, ok := vars["iteration"]; ok && json.Unmarshal(v, &n) == nil {
			if i, err := n.Int64(); err == nil && i >= 1 {
				tk.Iteration = i
			}
		}
	}
	return tk
}

// newConfig is the prelude's settings for job.
func newConfig(job *empplay.Job, mode string) pageConfig {
	return pageConfig{
		Binding:         bindingName,
		SketchURL:       sketchPath,
		DeadlineName:    deadlineName,
		CaptureFrames:   job.CaptureFrames,
		CaptureDelayMs:  job.CaptureDelayMs,
		CaptureSelector: job.CaptureSelector,
		Mode:            mode,
		token:           newToken(job),
		Width:           job.Width,
		Height:          job.Height,
		NoSketchGraceMs: noSketchGrace.Milliseconds(),
		PreloadGraceMs:  preloadGrace.Milliseconds(),
		FrameGraceMs:    frameGrace.Milliseconds(),
	}
}

// prelude returns the prelude with cfg in it. json.Marshal escapes <, >
// and & (and U+2028/9), so the result cannot close the <script> element it
// is put in. Marshal also checks that the raw variables and components are
// valid JSON.
func prelude(cfg pageConfig) (string, error) {
	conf, err := json.Marshal(cfg)
	if err != nil {
		return "", empplay.Errorf(empplay.CodeInvalidField, "job context is not valid JSON: %v", err)
	}
	return strings.Replace(withGlobals(preludeJS), "/*EMPPLAY_CONFIG*/null", string(conf), 1), nil
}

// pagePath is the document's path and query: docPath with the query fxhash's own
// snippet reads (fxhash, fxminter, fxiteration, fxcontext, preview), so a
// page that brings its own copy of it gets the job's hash too.
func pagePath(cfg pageConfig) string {
	q := url.Values{}
	q.Set("fxhash", cfg.Hash)
	q.Set("fxminter", cfg.Minter)
	q.Set("fxiteration", strconv.FormatInt(cfg.Iteration, 10))
	q.Set("fxcontext", "capture")
	q.Set("preview", "1")
	return docPath + "?" + q.Encode()
}

// shellConfig is the prelude's settings on every p5 page: only what does
// not depend on the job.
func shellConfig() pageConfig {
	return pageConfig{
		Binding:         bindingName,
		SketchURL:       sketchPath,
		StartName:       startName,
		DeadlineName:    deadlineName,
		Mode:            modeP5,
		token:           token{Variables: json.RawMessage("null"), Components: json.RawMessage("null")},
		NoSketchGraceMs: noSketchGrace.Milliseconds(),
		PreloadGraceMs:  preloadGrace.Milliseconds(),
		FrameGraceMs:    frameGrace.Milliseconds(),
	}
}

// shellDocument is the document of every p5 page of one p5 major version:
// a style reset, p5, the prelude with the shell's settings, then job.js
// (the job's settings) and the sketch, each its own script, so that error
// lines are lines of the sketch. It depends on nothing of the job, so a
// tab can load it, p5 and all, before the job is known (see warmPage).
func shellDocument(major string) []byte {
	pre, err := prelude(shellConfig())
	if err != nil {
		panic("render: the shell prelude: " + err.Error()) // constant input
	}
	return p5Document(major, pre, jobPath, sketchPath)
}

// p5Document is a page of p5 of major version major: a style reset, p5,
// the prelude (prelude.js or video.js with its settings) inline, then each
// of scripts, by path, in the body.
func p5Document(major, prelude string, scripts ...string) []byte {
	var doc strings.Builder
	doc.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>empplay</title>
<style>html,body{margin:0;padding:0;overflow:hidden}canvas{display:block}</style>
`)
	fmt.Fprintf(&doc, "%s<script>\n%s</script>\n</head>\n<body>\n", p5Tag(major), prelude)
	for _, src := range scripts {
		fmt.Fprintf(&doc, "<script src=%q></script>\n", src)
	}
	doc.WriteString("</body>\n</html>\n")
	return []byte(doc.String())
}

// p5Tag is the script element that loads p5 of major version major. It
// is a cross-origin script (see assetOrigin), fetched with CORS: without
// it, an exception that reaches the page through p5's own code (a draw()
// that throws, called by p5's animation loop) would reach the error event
// as "Script error." with no message or line.
func p5Tag(major string) string {
	return fmt.Sprintf("<script src=%q crossorigin=\"anonymous\"></script>\n", p5URL(major))
}

// warmPage is the shell of a p5 page, loaded in a tab before its job: the
// document and p5 are served, job.js and the sketch wait for the job's
// page (see [tab.adopt]).
func warmPage(major string, p5 []byte) *page {
	major = p5Major(major)
	return &page{path: docPath, mode: modeP5, major: major, shell: true, resources: map[string]resource{
		docPath:      {mime: "text/html; charset=utf-8", body: shellDocument(major)},
		p5URL(major): {mime: "text/javascript; charset=utf-8", body: p5},
	}}
}

// newPage builds the page of a p5 job: the shell document of its p5 major
// version (at the job's URL, for a tab that loads it now), p5, job.js,
// which starts the prelude with the job's settings, and the sketch.
func newPage(job *empplay.Job, p5 []byte) (*page, error) {
	cfg := newConfig(job, modeP5)
	cfg.WaitSignal = waitsForSignal(job.Code)
	cfg.StartName = startName
	cfg.URL = pagePath(cfg)
	conf, err := json.Marshal(cfg)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "job context is not valid JSON: %v", err)
	}
	start := fmt.Sprintf("window[%q](%s);\n", startName, conf)
	major := p5Major(job.P5Version)
	return &page{path: cfg.URL, mode: modeP5, major: major, waitSignal: cfg.WaitSignal, resources: map[string]resource{
		cfg.URL:      {mime: "text/html; charset=utf-8", body: shellDocument(major)},
		p5URL(major): {mime: "text/javascript; charset=utf-8", body: p5},
		jobPath:      {mime: "text/javascript; charset=utf-8", body: []byte(start)},
		sketchPath:   {mime: "text/javascript; charset=utf-8", body: []byte(job.Code)},
	}}, nil
}

// newJSPage builds the document for a js job (see jsDocument): the
// prelude first in its head, and the javascript as its own script after
// the html, so that error lines are lines of the javascript. It also
// builds the job's self-contained HTML export.
func newJSPage(job *empplay.Job) (*page, error) {
	cfg := newConfig(job, modeJS)
	cfg.WaitSignal = waitsForSignal(job.HTML, job.JavaScript)
	pre, err := prelude(cfg)
	if err != nil {
		return nil, err
	}
	script := ""
	if job.JavaScript != "" {
		script = fmt.Sprintf("<script src=%q></script>\n", sketchPath)
	}
	doc := jsDocument(job.HTML, "<script>\n"+pre+"</script>\n", job.CSS, script)
	u := pagePath(cfg)
	return &page{
		path: u,
		resources: map[string]resource{
			u:          {mime: "text/html; charset=utf-8", body: []byte(doc)},
			sketchPath: {mime: "text/javascript; charset=utf-8", body: []byte(job.JavaScript)},
		},
		export:     []byte(exportJS(job)),
		mode:       modeJS,
		waitSignal: cfg.WaitSignal,
	}, nil
}

// exportJS is a js job as one self-contained HTML file: the html with the
// css in a <style> and the javascript in a <script>, both inline, placed
// as on the rendered page. empplay adds nothing else: no prelude, no URL.
func exportJS(job *empplay.Job) string {
	script := ""
	if job.JavaScript != "" {
		script = "<script>\n" + escapeScript(job.JavaScript) + "\n</script>\n"
	}
	return jsDocument(job.HTML, "", job.CSS, script)
}

var (
	isDocument = regexp.MustCompile(`(?is)^(?:\s|<!--.*?-->)*<(?:!doctype|html|head|body)[\s>]`)
	doctypeTag = regexp.MustCompile(`(?i)<!doctype[^>]*>`)
	htmlOpen   = regexp.MustCompile(`(?i)<html(?:\s[^>]*)?>`)
	headOpen   = regexp.MustCompile(`(?i)<head(?:\s[^>]*)?>`)
	headClose  = regexp.MustCompile(`(?i)</head\s*>`)
	bodyOpen   = regexp.MustCompile(`(?i)<body(?:\s[^>]*)?>`)
	bodyClose  = regexp.MustCompile(`(?i)</body\s*>`)
	htmlClose  = regexp.MustCompile(`(?i)</html\s*>`)
)

// jsDocument assembles a js job's page from its html, which may be a full
// document (it starts with <!DOCTYPE, <html>, <head> or <body>) or a
// fragment. head goes first in the head (before anything of the html's),
// css in a <style> at the end of the head (so it wins over the html's own
// styles), and script after the html's content (before </body>). A
// fragment is put in a minimal document with <meta charset="utf-8">.
func jsDocument(html, head, css, script string) string {
	style := ""
	if css != "" {
		style = "<style>\n" + escapeStyle(css) + "\n</style>\n"
	}
	html = strings.TrimPrefix(html, "\ufeff")
	if !isDocument.MatchString(html) {
		var b strings.Builder
		b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n")
		b.WriteString(head)
		b.WriteString(style)
		b.WriteString("</head>\n<body>\n")
		b.WriteString(html)
		if html != "" && !strings.HasSuffix(html, "\n") {
			b.WriteString("\n")
		}
		b.WriteString(script)
		b.WriteString("</body>\n</html>\n")
		return b.String()
	}

	first := func(re *regexp.Regexp, end bool) int {
		loc := re.FindStringIndex(html)
		if loc == nil {
			return -1
		}
		if end {
			return loc[1]
		}
		return loc[0]
	}
	last := func(re *regexp.Regexp) int {
		all := re.FindAllStringIndex(html, -1)
		if len(all) == 0 {
			return -1
		}
		return all[len(all)-1][0]
	}
	pick := func(def int, cands ...int) int {
		for _, c := range cands {
			if c >= 0 {
				return c
			}
		}
		return def
	}
	p1 := pick(0, first(headOpen, true), first(htmlOpen, true), first(doctypeTag, true))
	p2 := pick(p1, first(headClose, false), first(bodyOpen, false))
	p3 := pick(len(html), last(bodyClose), last(htmlClose))
	p2 = max(p2, p1)
	p3 = max(p3, p2)
	return html[:p1] + head + html[p1:p2] + style + html[p2:p3] + script + html[p3:]
}

var (
	scriptClose = regexp.MustCompile(`(?i)</(script)`)
	scriptOpen  = regexp.MustCompile(`(?i)<script`)
	styleClose  = regexp.MustCompile(`(?i)</(style)`)
)

// escapeScript makes JavaScript safe to put in an inline <script>: "</script"
// becomes "<\/script" (the same string in JS strings, regular expressions
// and comments), and when the code also has "<script", "<!--" becomes
// "<\!--", so the HTML parser cannot enter its double-escaped state.
func escapeScript(js string) string {
	js = scriptClose.ReplaceAllString(js, `<\/$1`)
	if scriptOpen.MatchString(js) {
		js = strings.ReplaceAll(js, "<!--", `<\!--`)
	}
	return js
}

// escapeStyle makes CSS safe to put in a <style>: "</style" becomes
// "<\/style" (in CSS, "\/" is "/").
func escapeStyle(css string) string {
	return styleClose.ReplaceAllString(css, `<\/$1`)
}

// htmlName is the blob name of a "both" job's HTML: the job's blob name
// with its extension replaced by .html (appended when it has none), or
// ".html" appended when that is the PNG's own name.
func htmlName(blob string) string {
	base := path.Base(blob)
	name := strings.TrimSuffix(blob, path.Ext(base)) + ".html"
	if name == blob {
		name = blob + ".html"
	}
	return name
}

// resource returns the response for url when the page is at origin. A
// nil page has none.
func (p *page) resource(origin, url string) (resource, bool) {
	if p == nil {
		return resource{}, false
	}
	if rest, ok := strings.CutPrefix(url, origin); ok && strings.HasPrefix(rest, "/") {
		url = rest
	}
	r, ok := p.resources[url]
	return r, ok
}
