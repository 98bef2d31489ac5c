// Package js holds the scripts empplay puts in a job's page, embedded as
// strings for package render:
//
//	prelude.js        still images: settings, capture triggers, reporting
//	video.js          videos: frame recording, encoding, reporting
//	video_worker.js   videos: the WebCodecs encoder, in a dedicated worker
//	runtime.js        what both preludes share, the virtual clock and its
//	                  frame driver among it (a module, see Runtime)
//	runtime.test.js   runtime.js's unit tests: node --test render/js
//	clock.test.js     the virtual clock's unit tests, likewise
//
// They run in the sketch's own realm, so they keep to ES5-ish code and
// define no globals of their own beyond the ones a sketch is meant to read
// (render's package doc lists them).
package js

import "strings"

// runtimeMarker is where a prelude wants Runtime, inside its own function.
const runtimeMarker = "/*EMPPLAY_RUNTIME*/"

// WithRuntime puts Runtime in place of script's runtime marker.
func WithRuntime(script string) string {
	return strings.Replace(script, runtimeMarker, Runtime, 1)
}
