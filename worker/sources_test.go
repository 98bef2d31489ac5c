package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/empplay/empplay"
)

// prefixPolicy allows the URLs that start with its prefix.
type prefixPolicy string

func (p prefixPolicy) Check(u string) error {
	if !strings.HasPrefix(u, string(p)) {
		return fmt.Errorf("%s is not on an allowed origin", u)
	}
	return nil
}

// TestSourcesAreCheckedBeforeRendering: a job naming a URL outside the
// allowed origins fails with invalid_field naming it, and is never
// rendered (so nothing is fetched).
func TestSourcesAreCheckedBeforeRendering(t *testing.T) {
	t.Parallel()
	const base = `"type":"p5","code":"draw","width":4,"height":3,"bucket":"renders","filename":"f.png"`
	for _, tc := range []struct {
		name    string
		raw     string
		wantErr string
	}{
		{"allowed asset", `{` + base + `,"assets":{"a.png":"https://cdn.ok/a.png"}}`, ""},
		{"allowed component", `{` + base + `,"context":{"components":[{"nodeResponse":{"src":"https://cdn.ok/b.png"}}]}}`, ""},
		{"foreign asset", `{` + base + `,"assets":{"a.png":"https://evil.example/a.png"}}`, "https://evil.example/a.png"},
		{"foreign component", `{` + base + `,"context":{"components":[{"nodeResponse":{"src":"http://127.0.0.1:1/x"}}]}}`, "http://127.0.0.1:1/x"},
		{"component that is not http", `{` + base + `,"context":{"components":[{"nodeResponse":{"src":"javascript:alert(1)"}}]}}`, "javascript:alert(1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rendered atomic.Int32
			r := fakeRenderer{func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
				rendered.Add(1)
				return okRender(ctx, job)
			}}
			w := New(Config{ID: "w", Sources: prefixPolicy("https://cdn.ok/")}, &fakeQueue{}, r,
				&fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
			res := w.Process(context.Background(), delivery(tc.raw))
			if tc.wantErr == "" {
				if !res.Success || rendered.Load() != 1 {
					t.Fatalf("result %+v, rendered %d; want a success", res, rendered.Load())
				}
				return
			}
			if res.Success || res.ErrorCode != empplay.CodeInvalidField || !strings.Contains(res.Error, tc.wantErr) || rendered.Load() != 0 {
				t.Fatalf("result %+v, rendered %d; want invalid_field naming %s, not rendered", res, rendered.Load(), tc.wantErr)
			}
		})
	}
}
