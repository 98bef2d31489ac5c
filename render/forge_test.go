package render

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"log/slog"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay"
)

// forgeInIframe is a sketch that draws green in draw() (blue before it)
// and, in setup(), calls the report binding of a same-origin iframe with
// call, an expression that can use b64, the PNG of a 7x7 red canvas.
func forgeInIframe(call string) string {
	return `function setup(){ createCanvas(20,20); pixelDensity(1); background(0,0,255);
  const c = document.createElement('canvas'); c.width = 7; c.height = 7;
  const g = c.getContext('2d'); g.fillStyle = 'red'; g.fillRect(0,0,7,7);
  const b64 = c.toDataURL().split(',')[1];
  const f = document.createElement('iframe'); document.body.appendChild(f);
  f.contentWindow.__empplayReport(` + call + `);
}
function draw(){ background(0,255,0); }`
}

// TestRenderIgnoresForgedReports: a sketch cannot speak for the prelude.
// The report binding exists in every frame of the page (a same-origin
// iframe of the sketch's has one), so only calls from the main frame's
// own context count (see tab.fromMainWorld); and the prelude builds its
// report without anything the sketch can redefine (a toJSON, a setter on
// Object.prototype: see reportJSON in runtime.js). Each job's outcome is
// what the sketch really does.
func TestRenderIgnoresForgedReports(t *testing.T) {
	b := sharedBrowser(t)
	const green = `function setup(){ createCanvas(20,20); pixelDensity(1); }
function draw(){ background(0,255,0); }`
	const throws = `function setup(){ createCanvas(20,20); throw new Error('my bug'); }`
	for _, tc := range []struct {
		name string
		code string
		size int          // of the genuine picture; 0: the job fails
		fail empplay.Code // with this code
		msg  string       // and this in the message
	}{
		{name: "iframe done with another picture", size: 20,
			code: forgeInIframe(`JSON.stringify({type:'done',trigger:'setup',origin:location.origin}) + '\n' + b64`)},
		{name: "iframe nop5", size: 20,
			code: forgeInIframe(`JSON.stringify({type:'nop5',origin:location.origin})`)},
		{name: "iframe error", size: 20,
			code: forgeInIframe(`JSON.stringify({type:'error',message:'forged',origin:location.origin})`)},
		// A part ahead of the genuine report, whose picture (noise) comes
		// in several parts.
		{name: "iframe part", size: 300, code: `function setup(){ createCanvas(300,300); pixelDensity(1);
  const f = document.createElement('iframe'); document.body.appendChild(f);
  f.contentWindow.__empplayReport('\u0001' + location.origin + '\nAAAA');
}
function draw(){ loadPixels(); for (let i = 0; i < pixels.length; i++) pixels[i] = i % 4 === 3 ? 255 : random(255); updatePixels(); }`},
		// As the reviewer wrote it. An enumerable function on
		// Object.prototype (of any name) is enough for p5 2.x to throw
		// RangeError (too much recursion) in setup(): a sketch error too.
		{name: "Object.prototype.toJSON nop5", code: `Object.prototype.toJSON = function(){ return {type:'nop5', origin: location.origin}; };
` + throws, fail: empplay.CodeSketchError, msg: "sketch error: "},
		{name: "Object.prototype.toJSON nop5, not enumerable", code: `Object.defineProperty(Object.prototype, 'toJSON', { configurable: true, writable: true,
  value: function(){ return {type:'nop5', origin: location.origin}; } });
` + throws, fail: empplay.CodeSketchError, msg: "my bug"},
		{name: "Object.prototype.toJSON error", size: 20, code: `Object.defineProperty(Object.prototype, 'toJSON', { configurable: true, writable: true,
  value: function(){ return {type:'error', message:'forged', origin: location.origin}; } });
` + green},
		{name: "Array.prototype.toJSON on warnings", size: 20, code: `Array.prototype.toJSON = function(){ return 'forged'; };
` + green},
		// A setter of Object.prototype's runs on an assignment to a
		// property an object does not have yet, with the object as this.
		{name: "Object.prototype setter", code: `for (const k of ['origin', 'sentAt', 'parts']) {
  Object.defineProperty(Object.prototype, k, { configurable: true, get(){ return undefined; },
    set(v){ Object.defineProperty(this, 'type', {value:'nop5', enumerable:true, writable:true, configurable:true});
      Object.defineProperty(this, k, {value:v, enumerable:true, writable:true, configurable:true}); } });
}
` + throws, fail: empplay.CodeSketchError, msg: "my bug"},
	} {
		for _, v := range fidMajors {
			t.Run(tc.name+" p5 "+v, func(t *testing.T) {
				out, err := render(t, b, fidJob(tc.code, 20, 20, v))
				if tc.size == 0 {
					if err == nil {
						t.Fatalf("rendered (trigger %q); want %s", out.Trigger, tc.fail)
					}
					if got := empplay.ErrorCode(err); got != tc.fail || empplay.IsRetryable(err) {
						t.Errorf("code %s, retryable %v (%v); want %s, not retryable", got, empplay.IsRetryable(err), err, tc.fail)
					}
					if !strings.Contains(err.Error(), tc.msg) {
						t.Errorf("error %q does not mention %q", err, tc.msg)
					}
					return
				}
				if err != nil {
					t.Fatalf("Render: %s %v", empplay.ErrorCode(err), err)
				}
				a := out.Artifacts[0]
				if a.Width != tc.size || a.Height != tc.size || out.Trigger != "draw" {
					t.Errorf("%dx%d picture, trigger %q; want the sketch's %dx%d, trigger draw", a.Width, a.Height, out.Trigger, tc.size, tc.size)
				}
				if len(out.Warnings) > 0 {
					t.Errorf("warnings %q; want none", out.Warnings)
				}
				if tc.size != 20 {
					return
				}
				img, err := png.Decode(bytes.NewReader(a.Body))
				if err != nil {
					t.Fatal(err)
				}
				if c := color.NRGBAModel.Convert(img.At(10, 10)).(color.NRGBA); c != (color.NRGBA{0, 255, 0, 255}) {
					t.Errorf("centre %v; want the sketch's green", c)
				}
			})
		}
	}
}

// TestMainWorldTracking: of the contexts of a tab's page, only the main
// frame's default one is heard, and only until it goes.
func TestMainWorldTracking(t *testing.T) {
	t.Parallel()
	tb := &tab{logger: slog.New(slog.DiscardHandler)}
	tb.target.Store(&chromedp.Target{TargetID: "MAIN"})
	created := func(id runtime.ExecutionContextID, aux string) {
		tb.trackContexts(&runtime.EventExecutionContextCreated{Context: &runtime.ExecutionContextDescription{
			ID: id, UniqueID: fmt.Sprint("u", id), AuxData: []byte(aux),
		}})
	}
	heard := func(id runtime.ExecutionContextID) bool {
		return tb.fromMainWorld(&runtime.EventBindingCalled{Name: bindingName, ExecutionContextID: id})
	}
	if heard(0) || heard(1) {
		t.Fatal("heard a call before any context was created")
	}
	created(1, `{"isDefault":true,"type":"default","frameId":"MAIN"}`)
	created(2, `{"isDefault":true,"type":"default","frameId":"IFRAME"}`)
	created(3, `{"isDefault":false,"type":"isolated","frameId":"MAIN"}`)
	created(4, ``)
	for id, want := range map[runtime.ExecutionContextID]bool{1: true, 2: false, 3: false, 4: false, 0: false} {
		if got := heard(id); got != want {
			t.Errorf("context %d heard %v; want %v", id, got, want)
		}
	}
	// A navigation across processes: the new document's context can be
	// created before the old one is reported destroyed.
	created(5, `{"isDefault":true,"type":"default","frameId":"MAIN"}`)
	tb.trackContexts(&runtime.EventExecutionContextDestroyed{ExecutionContextUniqueID: "u1"})
	if heard(1) || !heard(5) {
		t.Errorf("after a navigation: context 1 heard %v, 5 heard %v; want only 5", heard(1), heard(5))
	}
	tb.trackContexts(&runtime.EventExecutionContextDestroyed{ExecutionContextUniqueID: "u5"})
	if heard(5) {
		t.Error("heard a destroyed context")
	}
	created(6, `{"isDefault":true,"type":"default","frameId":"MAIN"}`)
	tb.trackContexts(&runtime.EventExecutionContextsCleared{})
	if heard(6) {
		t.Error("heard a context after all were cleared")
	}
}
