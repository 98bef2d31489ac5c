package render

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
)

// TestNextJobOverlapsCleanup renders jobs back to back, the way a worker
// with a queue does: each next job starts in the spare tab as soon as the
// last job's page is down, while that tab is still being tidied (see
// finish and overlap). Once the spare is ready, every job after one that
// succeeded must start alongside the last one's cleanup. The last job's page
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
	// The spare tab is opened while a job runs; a loaded host may take
	// longer than the job to open it. The test is of what happens once it
	// is there, so each job waits for it: every job after one that
	// succeeded must then start alongside its cleanup. (A bomb caught in
	// its own job fails, and its tab is closed rather than tidied.)
	spareReady := func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.spare != nil
	}
	start, want, prevOK := b.overlaps.Load(), int64(0), false
	for i, j := range jobs {
		if prevOK {
			if !testenv.Poll(10*time.Second, 5*time.Millisecond, spareReady) {
				t.Fatalf("job %d: no spare tab within 10 s", i)
			}
			want++
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := b.Render(ctx, j)
		cancel()
		prevOK = err == nil
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
	if want < 3 {
		t.Fatalf("only %d jobs followed one that succeeded: the test tested little", want)
	}
	if n := b.overlaps.Load() - start; n < want {
		t.Errorf("%d of %d jobs started alongside the last one's cleanup, want %d", n, len(jobs), want)
	}
	if err := b.settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}
