// This file is the settings a page's prelude reads (job.js), and where each page lives.

package render

import (
	_ "embed"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/render/js"
)

// pageConfig is the settings the prelude reads (the EMPPLAY_CONFIG marker).
type pageConfig struct {
	Binding   string `json:"binding"`
	SketchURL string `json:"sketchURL"`
	// ReportPart is the length of a part of a report's tail (see
	// reportPart).
	ReportPart int `json:"reportPart"`
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
	WaitSignal bool `json:"waitSignal"`
	// clockConfig is the job's clock (see newClock); a shell page's is
	// empty until its job starts.
	clockConfig

	// Animations: a js page may have CSS or Web Animations (see
	// mayAnimate), which the prelude keeps on the virtual clock.
	Animations bool `json:"animations,omitempty"`

	NoSketchGraceMs  int64 `json:"noSketchGraceMs"`
	NoSketchTimersMs int64 `json:"noSketchTimersMs"`
	PreloadGraceMs   int64 `json:"preloadGraceMs"`
	FrameGraceMs     int64 `json:"frameGraceMs"`
}

// newConfig is the prelude's settings for job.
func newConfig(job *empplay.Job, mode string) pageConfig {
	return pageConfig{
		Binding:          bindingName,
		SketchURL:        sketchPath,
		ReportPart:       reportPart,
		DeadlineName:     deadlineName,
		CaptureFrames:    job.CaptureFrames,
		CaptureDelayMs:   job.CaptureDelayMs,
		CaptureSelector:  job.CaptureSelector,
		Mode:             mode,
		Animations:       mode == modeJS && mayAnimate(job),
		token:            newToken(job),
		clockConfig:      newClock(job),
		Width:            job.Width,
		Height:           job.Height,
		NoSketchGraceMs:  noSketchGrace.Milliseconds(),
		NoSketchTimersMs: noSketchTimers.Milliseconds(),
		PreloadGraceMs:   preloadGrace.Milliseconds(),
		FrameGraceMs:     frameGrace.Milliseconds(),
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
	return strings.Replace(js.WithRuntime(js.Prelude), "/*EMPPLAY_CONFIG*/null", string(conf), 1), nil
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
		Binding:          bindingName,
		SketchURL:        sketchPath,
		ReportPart:       reportPart,
		StartName:        startName,
		DeadlineName:     deadlineName,
		Mode:             modeP5,
		token:            token{Variables: json.RawMessage("null"), Components: json.RawMessage("null")},
		NoSketchGraceMs:  noSketchGrace.Milliseconds(),
		NoSketchTimersMs: noSketchTimers.Milliseconds(),
		PreloadGraceMs:   preloadGrace.Milliseconds(),
		FrameGraceMs:     frameGrace.Milliseconds(),
	}
}
