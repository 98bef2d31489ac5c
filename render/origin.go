// This file makes the fresh origin every job's page is loaded at.

package render

import (
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"regexp"
)

// pageOrigin matches the URLs at origins newOrigin makes.
var pageOrigin = regexp.MustCompile(`^https://j[0-9a-f]{16}\.invalid(/|$)`)

// newOrigin is a fresh origin for one page: https://j<16 random hex
// digits>.invalid. Each is a site of its own (no two share a registrable
// domain), so everything the browser keeps per origin or per site
// (storage, cookies, caches, service workers) is out of reach of the next
// job's page (see the package doc).
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return "https://j" + hex.EncodeToString(b[:]) + ".invalid"
}
