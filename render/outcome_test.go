package render

import (
	"io"
	"log/slog"
	"testing"

	"github.com/empplay/empplay"
)

// A report the prelude does not write can only come from the page's own
// code: the job fails as the sketch's error, with no retry, whatever the
// report holds.
func TestUnreadableReportIsTheSketchs(t *testing.T) {
	tb := &tab{origin: "https://a.test", logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	job := &empplay.Job{Type: empplay.TypeP5, Width: 10, Height: 10}
	for _, tc := range []struct{ name, payload string }{
		{"not JSON", "{not json\n"},
		{"picture not base64", `{"type":"done","origin":"https://a.test"}` + "\n!!!"},
		{"picture not a PNG", `{"type":"done","origin":"https://a.test"}` + "\nAAAA"},
		{"unknown type", `{"type":"surprise","origin":"https://a.test"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := tb.result(job, tc.payload)
			if empplay.ErrorCode(err) != empplay.CodeSketchError || empplay.IsRetryable(err) {
				t.Fatalf("err = %v (code %q, retryable %v); want a sketch_error, not retried", err, empplay.ErrorCode(err), empplay.IsRetryable(err))
			}
		})
	}
}
