package render

import (
	"strconv"
	"strings"
)

// byteRange is the part of a file of size bytes a request's Range header
// asks for: a media element loads in ranges, and seeks only where the
// server says it can (Accept-Ranges, 206 Partial Content); a file served
// whole to a Range request is one it cannot seek in.
type byteRange struct {
	start, end int64 // first and last byte, inclusive
}

// parseByteRange reads header (the request's Range) against a file of
// size bytes. It reports ok false when the whole file is the answer (no
// header, a unit other than bytes, several ranges, or one it cannot read:
// a server may ignore such a header) and satisfiable false for a range
// that starts past the end (416).
func parseByteRange(header string, size int64) (r byteRange, ok, satisfiable bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false, true
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false, true
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// bytes=-n: the last n bytes.
		n, err := strconv.ParseInt(last, 10, 64)
		if err != nil || n < 0 {
			return byteRange{}, false, true
		}
		if n == 0 || size == 0 {
			return byteRange{}, true, false
		}
		return byteRange{start: max(0, size-n), end: size - 1}, true, true
	}
	start, err := strconv.ParseInt(first, 10, 64)
	if err != nil || start < 0 {
		return byteRange{}, false, true
	}
	end := size - 1
	if last != "" {
		e, err := strconv.ParseInt(last, 10, 64)
		if err != nil || e < start {
			return byteRange{}, false, true
		}
		end = min(e, size-1)
	}
	if start >= size {
		return byteRange{}, true, false
	}
	return byteRange{start: start, end: end}, true, true
}

// contentRange is the Content-Range header of r in a file of size bytes.
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.start, 10) + "-" + strconv.FormatInt(r.end, 10) + "/" + strconv.FormatInt(size, 10)
}
