// This file detects whether a sketch calls a capture trigger itself.

package render

import (
	"regexp"
)

// signalCall finds a call of $fx.preview(), fxpreview() or
// empplay.capture(); group 1 is set for a definition, "function
// fxpreview(", which fxhash's own snippet has whether or not the code
// calls it.
var signalCall = regexp.MustCompile(`(function\s+)?(?:\$fx\s*\.\s*preview|\bfxpreview|\bempplay\s*\.\s*capture)\s*\(`)

// bareCapture finds a call of the EmProps Studio's bare capture(): group 1
// is set for a definition, "function capture(", group 2 for a method
// definition, "capture(o) {" in a class or an object literal. A method
// is told from a call by the "{" on the same line as the closing
// parenthesis (after spaces or tabs only), which no call can have: "if
// (done) capture()\n{" is a call followed by a block, and a method
// written with its "{" on the next line counts as a call too (the safe
// side: the page then waits for a capture), as does a method whose
// parameters have parentheses of their own ("capture(a = f()) {"), which
// keeps "capture(function () {" a call. A method does not declare a
// capture of its own (see ownCapture): the bare name still calls the
// runtime's.
var bareCapture = regexp.MustCompile(`(?:(function)\s+|(?:^|[^\w$.\s])\s*|\s)capture\s*\((?:([^()]*\)[ \t]*\{))?`)

// ownCapture finds code that declares a capture of its own (a webcam
// sketch's "let capture"), whose calls are not the runtime's.
var ownCapture = regexp.MustCompile(`(?:\b(?:var|let|const|function|class)\s+capture\b)`)

// waitsForSignal reports whether any of the texts calls $fx.preview(),
// fxpreview(), empplay.capture() or, unless a text declares a capture of
// its own, capture() (not a method definition "capture() {", see
// bareCapture). It is a plain text scan: a call in a comment counts too.
func waitsForSignal(texts ...string) bool {
	own := false
	for _, s := range texts {
		for _, m := range signalCall.FindAllStringSubmatchIndex(s, -1) {
			if m[2] < 0 {
				return true
			}
		}
		own = own || ownCapture.MatchString(s)
	}
	if own {
		return false
	}
	for _, s := range texts {
		for _, m := range bareCapture.FindAllStringSubmatchIndex(s, -1) {
			if m[2] < 0 && m[4] < 0 {
				return true
			}
		}
	}
	return false
}
