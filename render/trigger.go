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
// is set for a definition, "function capture(".
var bareCapture = regexp.MustCompile(`(?:(function)\s+|(?:^|[^\w$.\s])\s*|\s)capture\s*\(`)

// ownCapture finds code that declares a capture of its own (a webcam
// sketch's "let capture"), whose calls are not the runtime's.
var ownCapture = regexp.MustCompile(`(?:\b(?:var|let|const|function|class)\s+capture\b)`)

// waitsForSignal reports whether any of the texts calls $fx.preview(),
// fxpreview(), empplay.capture() or, unless a text declares a capture of
// its own, capture(). It is a plain text scan: a call in a comment counts
// too.
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
			if m[2] < 0 {
				return true
			}
		}
	}
	return false
}
