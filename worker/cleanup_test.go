package worker

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/empplay/empplay"
)

// cleaningRenderer is a Renderer that holds back its cleanup, as
// render.Browser does with DeferCleanup, and records whether the job's
// outcome was already in the queue when it was told to clean up.
type cleaningRenderer struct {
	fakeRenderer
	q       *fakeQueue
	calls   int
	settled bool // the result or retry was stored before Cleanup
}

func (r *cleaningRenderer) Cleanup() {
	r.calls++
	r.q.mu.Lock()
	r.settled = len(r.q.finished) > 0 || len(r.q.retried) > 0
	r.q.mu.Unlock()
}

func TestCleanupAfterTheResult(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		up   *fakeUploader
	}{
		{"success", &fakeUploader{}},
		{"retried failure", &fakeUploader{err: empplay.Transient(empplay.CodeStorageError, errors.New("503"))}},
		{"bad job", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{}
			r := &cleaningRenderer{fakeRenderer: fakeRenderer{okRender}, q: q}
			up, d := tc.up, delivery(goodJob)
			if up == nil {
				up, d = &fakeUploader{}, delivery(`{"type":"p5"}`)
			}
			w := New(Config{ID: "w", MaxAttempts: 3}, q, r, up, fakeVerifier{}, slog.New(slog.DiscardHandler))
			w.handle(context.Background(), d)
			if r.calls != 1 || !r.settled {
				t.Errorf("Cleanup called %d times, after the outcome was stored: %v; want once, after", r.calls, r.settled)
			}
		})
	}
}
