// This file bounds what a page can make the worker keep: the requests it
// was refused, the warnings and messages it reports.

package render

import (
	"fmt"

	"github.com/empplay/empplay"
)

const (
	// maxSeen bounds the distinct refused requests a tab remembers for one
	// job (to name each once); past it they are only counted.
	maxSeen = 1000
	// maxWarningLen bounds one warning as the page reports it, in bytes
	// (prelude.js cuts them at 500 characters already).
	maxWarningLen = 1000
	// maxMessageLen bounds the error message a page reports, in bytes.
	maxMessageLen = 2000
	// maxFieldLen bounds the short fields of a report (trigger, renderer).
	maxFieldLen = 200
)

// bound applies the limits to what the page reported: a page can call the
// report binding itself, with anything in it. Warnings past maxWarnings-1
// (one place is kept for the refused requests) are dropped, with a count.
func (m *message) bound() {
	m.Message = empplay.Truncate(m.Message, maxMessageLen)
	m.Trigger = empplay.Truncate(m.Trigger, maxFieldLen)
	m.Renderer = empplay.Truncate(m.Renderer, maxFieldLen)
	keep := maxWarnings - 1
	if n := len(m.Warnings); n > keep {
		m.Warnings = append(m.Warnings[:keep-1:keep-1], fmt.Sprintf("%d more warnings were dropped", n-(keep-1)))
	}
	for i, w := range m.Warnings {
		m.Warnings[i] = empplay.Truncate(w, maxWarningLen)
	}
}
