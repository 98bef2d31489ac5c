package render

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// TestNextJobOverlapsCleanup renders jobs back to back, the way a worker
// with a queue does: each next job starts in the spare tab as soon as the
// last job's page is down, while that tab is still being tidied (see
// finish and overlap). Each job takes long enough (300 ms on the real
// clock) for the spare to be ready by then, so every job after the first
// two must start alongside the last one's cleanup. The last job's page
// may not reach the next job: one keeps allocating after its capture, and
// the next job, under a memory limit, must not be charged for it.
func TestNextJobOverlapsCleanup(t *testing.T) {
	const limit = 512 << 20
	b := newTestBrowser(t, Options{JobMemory: limit})
	slow := func(code string) *empplay.Job {
		return realClock(flatJob(`function setup() { createCanvas(10, 10); background(0, 255, 0);
  const end = Date.now() + 300; while (Date.now() < end) {} `+code+` }`, 10, 10))
	}
	// After its capture (setup's end), the page goes on allocating.
	bomb := slow(`setTimeout(() => { const h = []; setInterval(() => { for (let i = 0; i < 8; i++) h.push(new Float64Array(1 << 22).fill(1)); }, 1); }, 0);`)
	jobs := []*empplay.Job{slow(""), slow(""), bomb, slow(""), bomb, slow("")}
	start := b.overlaps.Load()
	for i, j := range jobs {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := b.Render(ctx, j)
		cancel()
		if err != nil {
			var e *empplay.Error
			if errors.As(err, &e) && e.Code == empplay.CodeMemoryLimit && j == bomb {
				continue // the bomb may well be caught in its own job
			}
			t.Fatalf("job %d: %v", i, err)
		}
		if len(out.Artifacts) != 1 {
			t.Fatalf("job %d: %d artifacts", i, len(out.Artifacts))
		}
	}
	if n := b.overlaps.Load() - start; n < int64(len(jobs)-2) {
		t.Errorf("%d of %d jobs started alongside the last one's cleanup, want at least %d", n, len(jobs), len(jobs)-2)
	}
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}
