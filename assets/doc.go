// Package assets holds the files empplay serves to the page without any
// network: the p5.js builds (1.x and 2.x), copied here by `make assets`
// from the versions pinned in package-lock.json and embedded into the
// binary at build time. They are served in ASCII: every character beyond
// it is written as a \u escape where the build has it (see
// escapeNonASCII), so that Blink holds p5.js at one byte a character
// instead of two.
//
// The p5 files are not committed. A binary built without them still runs,
// but any p5 job fails with [ErrMissing], whose message says how to fetch
// them.
package assets
