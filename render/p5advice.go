// This file says what a p5 2.x sketch written for 1.x has to change, when
// the page saw the cause: globals it took from p5, a preload() never called.

package render

import (
	"fmt"
	"slices"
	"strings"
)

// p5Advice is what a sketch error's message adds when the page saw why a
// sketch written for p5 1.x fails under 2.x: clash, the globals it declared
// that p5 defines too (see clashNote), and preloadIgnored, a preload() that
// p5 never calls. "" when neither.
func p5Advice(clash []string, preloadIgnored bool) string {
	note := clashNote(clash)
	if preloadIgnored {
		note += "; " + preloadNote
	}
	return note
}

// clashNote is what an error message adds when the sketch declared, at
// its top level, globals that p5 2.x defines too (names: see p5Clash in
// runtime.js; none adds nothing). The page says which; a name that is not
// an identifier is not repeated, nor more than maxClashes.
func clashNote(names []string) string {
	const maxClashes = 10
	var ok []string
	for _, n := range names {
		if isIdentifier(n) && !slices.Contains(ok, n) && len(ok) < maxClashes {
			ok = append(ok, n)
		}
	}
	switch len(ok) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf("; p5.js 2.x defines %[1]s as a global itself, and the sketch also declares a function or var named %[1]s at its top level: give the sketch's %[1]s another name", ok[0])
	}
	list := strings.Join(ok[:len(ok)-1], ", ") + " and " + ok[len(ok)-1]
	return fmt.Sprintf("; p5.js 2.x defines %s as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names", list)
}

// preloadNote says why a p5 2.x sketch's files are missing: a warning of
// a job that succeeded, and a note of one that failed.
const preloadNote = "the sketch defines preload(), which p5.js 2.x never calls (1.x ran it before setup()): load its files in an async setup() with await, such as img = await loadImage(url)"

// withPreload is warnings, plus preloadNote when preload() was ignored.
func withPreload(warnings []string, ignored bool) []string {
	if !ignored || len(warnings) >= maxWarnings {
		return warnings
	}
	return append(warnings, preloadNote)
}

// isIdentifier reports whether s is a plain JavaScript identifier of at
// most 64 characters.
func isIdentifier(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}
