// This file detects whether a sketch calls a capture trigger itself.

package render

import (
	_ "embed"
	"regexp"
)

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
