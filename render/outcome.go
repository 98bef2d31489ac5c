// This file turns what a page reported (or the deadline) into a job's output or its failure.

package render

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"

	"github.com/empplay/empplay"
)

// message is what the prelude reports (see prelude.js).
type message struct {
	Type     string `json:"type"`
	Trigger  string `json:"trigger"`
	PNG      []byte `json:"-"` // after the JSON, in base64
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Renderer string `json:"renderer"`
	Message  string `json:"message"`
	Line     int    `json:"line"`
	// WebGLFailed: the page asked for a WebGL context and got none.
	WebGLFailed bool `json:"webglFailed"`
	// Clash is the p5 globals the sketch declared itself at its top level,
	// the first of which p5 2.x then failed to define (see p5Clash in
	// runtime.js).
	Clash []string `json:"clash"`
	// PreloadIgnored: the sketch defines a preload() that its p5 (2.x)
	// never calls (see preloadIgnored in runtime.js).
	PreloadIgnored bool `json:"preloadIgnored"`
	// TriggerMs is when the trigger fired: from job.js for a p5 page, from
	// navigation for a js page; virtual time on the virtual clock.
	TriggerMs float64 `json:"triggerMs"`
	// Milliseconds from navigation start to the end of p5.js's evaluation
	// and to the capture, for debug logs.
	P5ReadyMs float64 `json:"p5ReadyMs"`
	StartMs   float64 `json:"startMs"`  // when job.js ran (p5 pages)
	EncodeMs  float64 `json:"encodeMs"` // the canvas's PNG encoding
	DoneMs    float64 `json:"doneMs"`
	// SentAt is when the page began the report, in Unix milliseconds, for
	// debug logs: the report's way from the page to the worker.
	SentAt float64 `json:"sentAt"`
	// Frame is p5's frameCount when the picture was taken, or for code
	// without p5 the animation frames the virtual clock ran.
	Frame int `json:"frame"`
	// Warnings are the errors that did not stop the sketch (see onError
	// in prelude.js).
	Warnings []string `json:"warnings"`
}

// deliveryMs is how long the report took from the page to the worker,
// which got it at got (-1 when the page did not say when it sent it).
func (m *message) deliveryMs(got time.Time) float64 {
	if m.SentAt <= 0 {
		return -1
	}
	return math.Round((float64(got.UnixMicro())/1000-m.SentAt)*10) / 10
}

// fallbackGrace is how long before a job's deadline the renderer captures
// what the page has drawn: a fifth of the job's time, at most a second.
func fallbackGrace(total time.Duration) time.Duration {
	return min(total/5, time.Second)
}

// deadlineCapture asks the page to capture what it has drawn now (see
// prelude.js). Its report, if any, arrives as any other. ctx bounds the
// wait for a page that does not respond (an infinite loop).
func (tb *tab) deadlineCapture(ctx context.Context) (string, error) {
	byValue := true
	res, err := cdp.Call(ctx, tb.target.Load(), runtime.Evaluate, runtime.EvaluateParams{
		Expression:    "typeof window." + deadlineName + " === 'function' ? window." + deadlineName + "() : 'gone'",
		ReturnByValue: &byValue,
	})
	switch {
	case err != nil:
		return "", err
	case res.ExceptionDetails != nil:
		return "", errors.New(res.ExceptionDetails.Text)
	}
	var v string
	if res.Result != nil {
		_ = json.Unmarshal(res.Result.Value, &v)
	}
	return v, nil
}

// pageOutput is the output of a js page that reported ready: a screenshot
// of its viewport (the job's width x height at device scale factor 1) for
// outputType png and both, and the job's self-contained HTML for html and
// both. The PNG is at the job's blob name; the HTML too for html, and at
// [htmlName] of it for both.
func (tb *tab) pageOutput(ctx context.Context, job *empplay.Job, pg *page, m *message) (*empplay.Output, error) {
	out := &empplay.Output{Trigger: m.Trigger, TriggerMs: m.TriggerMs, Frame: m.Frame, Warnings: tb.withBlocked(m.Warnings)}
	if job.OutputType != empplay.OutputHTML {
		res, err := cdp.Call(ctx, tb.target.Load(), cdppage.CaptureScreenshot, cdppage.CaptureScreenshotParams{
			Format: cdppage.CaptureScreenshotFormatPng,
			Clip:   &cdppage.Viewport{Width: float64(job.Width), Height: float64(job.Height), Scale: 1},
		})
		if err != nil {
			return nil, err
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(res.Data))
		if err != nil {
			return nil, fmt.Errorf("the screenshot is not a PNG: %w", err)
		}
		out.Artifacts = append(out.Artifacts, empplay.Artifact{
			Name: job.BlobName(), MimeType: "image/png", Body: res.Data, Width: cfg.Width, Height: cfg.Height,
		})
	}
	export := pg.export
	if files := pg.assets.inline(job); len(files) > 0 {
		// The files the page loaded, inside the file, so it views offline.
		export = []byte(exportJS(job, files))
	}
	switch job.OutputType {
	case empplay.OutputHTML:
		out.Artifacts = append(out.Artifacts, empplay.Artifact{Name: job.BlobName(), MimeType: "text/html", Body: export})
	case empplay.OutputBoth:
		out.Artifacts = append(out.Artifacts, empplay.Artifact{Name: htmlName(job.BlobName()), MimeType: "text/html", Body: export})
	}
	return out, nil
}

// withBlocked is warnings, plus one listing the requests the page was
// refused, if it was refused any.
func (tb *tab) withBlocked(warnings []string) []string {
	if blocked := tb.blockedList(); blocked != "" && len(warnings) < maxWarnings {
		warnings = append(warnings, "sketches run without network access, and these requests were blocked: "+blocked)
	}
	return warnings
}

// unreadable is the failure of a job whose page sent a report that the
// prelude does not write: only the page's own code, tampering with what
// the prelude relies on in the realm they share, can make one (calls from
// any other context, a same-origin iframe's, are not heard: see
// fromMainWorld). It is the sketch's doing, and a retry would only repeat
// it.
func unreadable(what string, err error) error {
	msg := "sketch error: the page sent a report the renderer cannot read (" + what + ")"
	if err != nil {
		msg += ": " + err.Error()
	}
	return empplay.Errorf(empplay.CodeSketchError, "%s; the sketch must not call the renderer's own functions", msg)
}

// result turns the prelude's report into the job's output or error.
func (tb *tab) result(job *empplay.Job, payload string) (*empplay.Output, *message, error) {
	m := &message{}
	out, err := tb.interpret(job, payload, m)
	return out, m, err
}

func (tb *tab) interpret(job *empplay.Job, payload string, m *message) (*empplay.Output, error) {
	header, data, _ := strings.Cut(payload, "\n")
	if err := json.Unmarshal([]byte(header), m); err != nil {
		return nil, unreadable("not JSON", err)
	}
	m.bound()
	if m.Type == "done" {
		var err error
		if m.PNG, err = base64.StdEncoding.DecodeString(data); err != nil {
			return nil, unreadable("a picture that is not base64", err)
		}
	}
	switch m.Type {
	case "done":
		cfg, err := png.DecodeConfig(bytes.NewReader(m.PNG))
		if err != nil {
			return nil, unreadable("a picture that is not a PNG", err)
		}
		// A picture of one opaque colour is a picture (a sketch that only
		// calls background()); only a fully transparent one is blank.
		what, blank := blankPicture(m.PNG, cfg.Width, cfg.Height)
		if blank && what == fullyTransparent && !job.AllowBlank {
			return nil, empplay.Errorf(empplay.CodeBlankCanvas, "%s", tb.explain(fmt.Sprintf(
				"blank canvas: every pixel of the %dx%d picture (trigger %q) is %s; set allowBlank to accept it",
				cfg.Width, cfg.Height, m.Trigger, what)))
		}
		warnings := withPreload(tb.withBlocked(m.Warnings), m.PreloadIgnored)
		return &empplay.Output{
			Blank:    blank,
			Warnings: warnings,
			Artifacts: []empplay.Artifact{{
				Name:     job.BlobName(),
				MimeType: "image/png",
				Body:     m.PNG,
				Width:    cfg.Width,
				Height:   cfg.Height,
			}},
			Trigger:   m.Trigger,
			TriggerMs: m.TriggerMs,
			Frame:     m.Frame,
			Renderer:  m.Renderer,
		}, nil
	case "ready":
		// A js page: the caller takes the screenshot.
		return nil, nil
	case "error":
		msg := "sketch error: " + m.Message
		if m.Line > 0 {
			msg += fmt.Sprintf(" (line %d)", m.Line)
		}
		if m.WebGLFailed {
			return nil, empplay.Errorf(empplay.CodeNoWebGL, "%s", tb.explain(
				"WebGL unavailable: the browser could not create the WebGL context the sketch asked for; "+msg))
		}
		msg += p5Advice(m.Clash, m.PreloadIgnored)
		if name, symbol, ok := missingAddon(m.Message); ok {
			return nil, empplay.Errorf(empplay.CodeMissingAddon, "%s", tb.explain(fmt.Sprintf(
				"missing add-on: the sketch uses %s (%s), which is not available: only p5.js itself is loaded; %s", name, symbol, msg)))
		}
		return nil, tb.failure(empplay.CodeSketchError, msg)
	case "nop5":
		return nil, errNoP5()
	case "nocanvas":
		if m.WebGLFailed {
			return nil, empplay.Errorf(empplay.CodeNoWebGL, "%s", tb.explain(
				"WebGL unavailable: the browser could not create the WebGL context the sketch asked for"))
		}
		return nil, tb.failure(empplay.CodeNoCanvas, "no canvas: "+m.Message)
	}
	return nil, unreadable(fmt.Sprintf("of unknown type %.40q", m.Type), nil)
}
