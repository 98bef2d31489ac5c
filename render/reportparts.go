// This file puts a page's report back together when its picture came in parts.

package render

import (
	"encoding/json"
	"fmt"
	"strings"
)

const (
	// partMark begins a payload of the report binding that is a part of
	// the next report's tail rather than a report: partMark, the page's
	// origin, a newline, then the part (see report in prelude.js).
	partMark = "\x01"
	// reportPart is the length of a part, in base64 characters (a
	// multiple of 4). The PNG of an 800x800 sketch, about 1.1 MB of
	// base64, comes in 18 parts: while the renderer hands one over, the
	// browser forwards the one before and the worker decodes the one
	// before that, instead of the three steps taking turns over the whole
	// megabyte. From the page's report to the worker holding it: 23 ms in
	// one piece, 14 in parts of 128 Ki, 12.6 in parts of 64 Ki, 13.5 in
	// parts of 32 Ki (medians of 43 static jobs each, one run).
	reportPart = 64 << 10
	// maxReportTail bounds the parts a page may send ahead of its report,
	// in bytes: the base64 of a 192 MB PNG. The sketch shares the
	// prelude's realm and may yet make it send more; past this its parts
	// are dropped and its report fails.
	maxReportTail = 256 << 20
)

// reportParts is what a page has sent ahead of its report (guarded by the
// tab's mu).
type reportParts struct {
	origin string   // the page that sent them
	list   []string // in order
	size   int      // bytes in list
	over   bool     // parts were dropped past maxReportTail
}

// addPart keeps a part the current page sent ahead of its report (a page
// the tab has left is not heard).
func (tb *tab) addPart(payload string) {
	origin, part, ok := strings.Cut(strings.TrimPrefix(payload, partMark), "\n")
	tb.mu.Lock()
	defer tb.mu.Unlock()
	if !ok || origin != tb.origin {
		return
	}
	p := &tb.parts
	if p.origin != origin {
		*p = reportParts{origin: origin}
	}
	if p.over || p.size+len(part) > maxReportTail {
		*p = reportParts{origin: origin, over: true}
		return
	}
	p.list = append(p.list, part)
	p.size += len(part)
}

// withParts returns the report payload with the parts its page sent ahead
// of it as its tail, and forgets them. header is the report's first line,
// want the number of parts it says it sent (0 for none).
func (tb *tab) withParts(payload, header string, want int) string {
	tb.mu.Lock()
	p := tb.parts
	tb.parts = reportParts{}
	tb.mu.Unlock()
	if p.origin != tb.currentOrigin() {
		p = reportParts{}
	}
	if want == 0 {
		return payload
	}
	if p.over || len(p.list) != want {
		got := fmt.Sprintf("%d", len(p.list))
		if p.over {
			got = fmt.Sprintf("over %d MiB", maxReportTail>>20)
		}
		msg, _ := json.Marshal(message{Type: "error", Message: fmt.Sprintf(
			"the page's report of its picture is incomplete: it announced %d parts and sent %s (does the sketch call the page's report function itself?)",
			want, got)})
		return string(msg)
	}
	return header + "\n" + strings.Join(p.list, "")
}
