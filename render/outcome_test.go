package render

import (
	"io"
	"log/slog"
	"strings"
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

// An error about globals the sketch took from p5 2.x says which, and to
// rename them; a name the page gives that is not an identifier adds
// nothing, and ten are enough.
func TestClashNote(t *testing.T) {
	t.Parallel()
	ten := []string{"a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9"}
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{[]string{"mix"}, "; p5.js 2.x defines mix as a global itself, and the sketch also declares a function or var named mix at its top level: give the sketch's mix another name"},
		{[]string{"$_a1"}, "; p5.js 2.x defines $_a1 as a global itself, and the sketch also declares a function or var named $_a1 at its top level: give the sketch's $_a1 another name"},
		{[]string{"text", "mix"}, "; p5.js 2.x defines text and mix as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{[]string{"text", "mix", "step"}, "; p5.js 2.x defines text, mix and step as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{append(ten, "b"), "; p5.js 2.x defines " + strings.Join(ten[:9], ", ") + " and a9 as globals itself, and the sketch also declares functions or vars with these names at its top level: give the sketch's other names"},
		{[]string{"mix", "mix", "1mix", "mix; rm -rf", "é", strings.Repeat("a", 65)}, "; p5.js 2.x defines mix as a global itself, and the sketch also declares a function or var named mix at its top level: give the sketch's mix another name"},
		{nil, ""},
		{[]string{""}, ""},
	} {
		if got := clashNote(tc.names); got != tc.want {
			t.Errorf("clashNote(%q) = %q; want %q", tc.names, got, tc.want)
		}
	}
}
