package render

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/procstat"
)

// bombBound is the most the browser of a memory-bomb test may use
// together: past it the test kills the browser itself, so that a broken
// limit fails the test instead of the host.
const bombBound = 6 << 30

// watchPeak samples the summed resident size of browser b's processes until
// stop is called, which returns the peak. A browser past bombBound is
// killed.
func watchPeak(t *testing.T, b *Browser) (stop func() int64) {
	t.Helper()
	var peak atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			pid := b.PID()
			if m := procstat.GroupRSS(pid); m > peak.Load() {
				peak.Store(m)
				if m > bombBound {
					t.Errorf("the browser uses %d MiB: the job's memory limit did not hold; killing it", m>>20)
					_ = syscall.Kill(-pid, syscall.SIGKILL)
				}
			}
			select {
			case <-quit:
				return
			case <-tick.C:
			}
		}
	}()
	return func() int64 {
		close(quit)
		<-done
		return peak.Load()
	}
}

// TestMemoryLimit runs memory bombs: each fails with memory_limit (not
// retryable) within a few seconds, and the next job on the same browser
// renders.
func TestMemoryLimit(t *testing.T) {
	const limit = 512 << 20
	b := newTestBrowser(t, Options{JobMemory: limit})
	const typed = `let hog = []; function setup() { createCanvas(50, 50); } function draw() { for (;;) hog.push(new Float64Array(1 << 22).fill(Math.random())); }`
	for _, tc := range []struct {
		name string
		job  *empplay.Job
	}{
		{"heap", job(`function setup() { createCanvas(50, 50); let a = []; for (;;) a.push({x: Math.random(), s: 'x'.repeat(1000)}); }`, 50, 50)},
		{"typed arrays", job(typed, 50, 50)},
		{"typed arrays in a video", videoJob(typed, 50, 50, 1, 10, "")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.job.Type == empplay.TypeVideo {
				needFFmpeg(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			peak := watchPeak(t, b)
			start := time.Now()
			j := tc.job
			j.TimeoutMs = 30000
			_, err := b.Render(ctx, j)
			took := time.Since(start)
			t.Logf("%s: %v after %v; the browser's processes peaked at %d MiB together (summed RSS)", tc.name, err, took.Round(time.Millisecond), peak()>>20)
			var e *empplay.Error
			if !errors.As(err, &e) || e.Code != empplay.CodeMemoryLimit || e.Retryable {
				t.Fatalf("err = %#v; want a permanent %s", err, empplay.CodeMemoryLimit)
			}
			if !strings.Contains(e.Msg, "512 MiB") {
				t.Errorf("message %q does not give the limit", e.Msg)
			}
			if took > 10*time.Second {
				t.Errorf("took %v to fail", took)
			}
			out, err := b.Render(ctx, job(`function setup() { createCanvas(20, 20); background(200, 0, 0); }`, 20, 20))
			if err != nil {
				t.Fatalf("the next job: %v", err)
			}
			if len(out.Artifacts) != 1 || len(out.Artifacts[0].Body) == 0 {
				t.Fatalf("the next job made %d artifacts", len(out.Artifacts))
			}
		})
	}
}
