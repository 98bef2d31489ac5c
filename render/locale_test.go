package render

import (
	"strings"
	"testing"
)

// TestLocaleStandInOrder checks where the stand-in for toLocaleString sits
// in a p5 document: right before p5.js, with its restore right after it and
// before the prelude, so that it answers p5's load and nothing else; and
// only in p5 1.x pages.
func TestLocaleStandInOrder(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		major string
		want  bool
	}{
		{"1", true},
		{"2", false},
	} {
		t.Run("p5 "+tc.major, func(t *testing.T) {
			t.Parallel()
			doc := string(p5Document(tc.major, "/*prelude*/", jobPath, sketchPath))
			in, tag, out := strings.Index(doc, localeStandIn), strings.Index(doc, p5Tag(tc.major)), strings.Index(doc, localeRestore)
			pre := strings.Index(doc, "/*prelude*/")
			if tag < 0 || pre < tag {
				t.Fatalf("no p5 tag before the prelude in\n%s", doc)
			}
			if !tc.want {
				if in >= 0 || out >= 0 {
					t.Errorf("p5 %s has the stand-in:\n%s", tc.major, doc)
				}
				return
			}
			if in < 0 || out < 0 || !(in < tag && tag < out && out < pre) {
				t.Errorf("want stand-in < p5 < restore < prelude, got %d, %d, %d, %d in\n%s", in, tag, out, pre, doc)
			}
			if between := doc[in+len(localeStandIn) : tag]; strings.TrimSpace(between) != "</script>" {
				t.Errorf("something between the stand-in and p5: %q", between)
			}
		})
	}
}

// TestLocaleStandInUnseen checks that a sketch cannot tell that
// toLocaleString had a stand-in while p5.js loaded: it finds Chromium's own
// function (ICU's formatting, the same object with the same attributes, no
// property added) and typed arrays as core-js would have left them with ICU
// (no polyfill). Twice per version, so that both a prewarmed page and one
// loaded for the job are seen.
func TestLocaleStandInUnseen(t *testing.T) {
	b := sharedBrowser(t)
	code := `function setup() { createCanvas(40, 40);
  var d = Object.getOwnPropertyDescriptor(Number.prototype, 'toLocaleString');
  var typed = Object.getPrototypeOf(Int8Array.prototype);
  var got = [(1234.5).toLocaleString(), (1234.5).toLocaleString('de-DE'), [1, 2000].toLocaleString(),
    new Int8Array([1, 2]).toLocaleString(), String(d.value).indexOf('[native code]') >= 0, d.value.name,
    Object.getOwnPropertyNames(d.value).sort().join(), d.writable, d.enumerable, d.configurable,
    String(typed.toLocaleString).indexOf('[native code]') >= 0, Int8Array.prototype.hasOwnProperty('toLocaleString')];` +
		emCheck(`["1,234.5", "1.234,5", "1,2,000", "1,2", true, "toLocaleString", "length,name", true, false, true, true, false]`) + `
}`
	for _, version := range fidMajors {
		t.Run("p5 "+version, func(t *testing.T) {
			for range 2 {
				_, img := mustRender(t, b, fidJob(code, 40, 40, version))
				checkPixels(t, img, emGreen)
			}
		})
	}
}
