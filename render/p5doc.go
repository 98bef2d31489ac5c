// This file builds the documents of p5 pages: the warm shell and a job's page.

package render

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/empplay/empplay"
)

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
// the prelude (prelude.js with its settings) inline, then each of
// scripts, by path, in the body.
func p5Document(major, prelude string, scripts ...string) []byte {
	var doc strings.Builder
	doc.WriteString(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>empplay</title>
<style>html,body{margin:0;padding:0;overflow:hidden}canvas{display:block}</style>
`)
	if major == "1" {
		fmt.Fprintf(&doc, "<script>%s</script>\n%s<script>%s</script>\n", localeStandIn, p5Tag(major), localeRestore)
	} else {
		doc.WriteString(p5Tag(major))
	}
	fmt.Fprintf(&doc, "<script>\n%s</script>\n</head>\n<body>\n", prelude)
	for _, src := range scripts {
		fmt.Fprintf(&doc, "<script src=%q></script>\n", src)
	}
	doc.WriteString("</body>\n</html>\n")
	return []byte(doc.String())
}

// p5 1.x bundles core-js, whose feature tests, run while p5.js loads,
// format the numbers 0, 1 and 2 with Number.prototype.toLocaleString
// (through Array and Int8Array's toLocaleString) to decide whether typed
// arrays need its polyfill. The first such call in a renderer sets up
// ICU's number formatting, about 10 ms of CPU, and every page is a new
// renderer: a twentieth of a job's CPU, for an answer that never
// changes. localeStandIn answers those calls with the plain digits while
// p5.js loads, and localeRestore, the next script, puts Chromium's own
// function back before anything else runs: the tests compare two
// formattings of the same numbers, so core-js decides as it would with
// ICU (Chromium 156 needs no polyfill), and the sketch finds the original
// function, the same object with the same attributes
// (TestLocaleStandInUnseen). p5 2.x calls no Intl function while it
// loads. docs/rendering.md, "A twentieth of a job in ICU".
const (
	localeStandIn = `(function(){var n=Number.prototype,f=n.toLocaleString;` +
		`n.toLocaleString=function toLocaleString(){return n.valueOf.call(this)+""};n.toLocaleString.native=f})();`
	localeRestore = `(function(){var n=Number.prototype,f=n.toLocaleString.native;if(f)n.toLocaleString=f})();`
)

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
