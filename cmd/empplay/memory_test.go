package main

import (
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

// A worker with the default memory limit per job (1024 MiB): a memory bomb
// fails with memory_limit on its first attempt, for good, well before the
// render timeout, and the worker renders the next job.
func TestWorkerMemoryBomb(t *testing.T) {
	s := newStack(t)
	ctx := testenv.Context(t, 3*time.Minute)
	worker := s.startWorker(t)
	var peak, peakRenderers atomic.Int64
	defer guardRenderers(t, s.profiles, 6<<30, func() { _ = syscall.Kill(worker.Process.Pid, syscall.SIGKILL) }, func(rss int64) {
		if rss > peakRenderers.Load() {
			peakRenderers.Store(rss)
		}
		if all := browsersRSS(s.profiles); all > peak.Load() {
			peak.Store(all)
		}
	})()
	for _, tc := range []struct{ name, code string }{
		{"heap", `function setup() { createCanvas(50, 50); let a = []; for (;;) a.push({x: Math.random(), s: 'x'.repeat(1000)}); }`},
		{"typed arrays", `let hog = []; function setup() { createCanvas(50, 50); for (;;) hog.push(new Float64Array(1 << 22).fill(Math.random())); }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res := s.submit(t, ctx, job(t, map[string]any{"code": tc.code, "width": 50, "height": 50, "filename": "bomb.png"}))
			took := time.Since(start)
			t.Logf("%s: %s after %v: %s", tc.name, res.ErrorCode, took.Round(time.Millisecond), res.Error)
			if res.Success || res.ErrorCode != empplay.CodeMemoryLimit || res.Retryable || res.Attempts != 1 {
				t.Fatalf("result %+v; want memory_limit, not retryable, on attempt 1", res)
			}
			// Faulting in up to a GiB, V8's last-ditch GCs and the queue and
			// result path take seconds on a slow, busy host. The bound stays
			// under the 30 s render timeout, so the memory guard, not the
			// timeout, is what ended the job.
			if took > 25*time.Second {
				t.Errorf("took %v; want the memory limit to stop it well before the 30s render timeout", took)
			}
			next := s.submit(t, ctx, job(t, map[string]any{"code": `function setup(){ createCanvas(40,40); background(0,200,0); }`, "width": 40, "height": 40, "filename": "after-bomb.png"}))
			if !next.Success {
				t.Fatalf("the next job failed: %+v", next)
			}
		})
	}
	t.Logf("the worker's browser peaked at %d MiB (summed RSS of all its processes), its renderers at %d MiB", peak.Load()>>20, peakRenderers.Load()>>20)
}

// guardRenderers samples the summed RSS of the renderers of the browsers
// under profiles every 100 ms until the returned stop is called, handing
// each sum to sample (if not nil). Over limit it fails the test and calls
// kill: should a memory limit not hold, the test stops the bomb, not the
// host.
func guardRenderers(t *testing.T, profiles string, limit int64, kill func(), sample func(rss int64)) (stop func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var rss int64
			for _, pid := range renderersOf(profiles) {
				rss += proc.RSS(pid)
			}
			if sample != nil {
				sample(rss)
			}
			if rss > limit {
				t.Errorf("the renderers use %d MiB: the memory limit did not hold", rss>>20)
				kill()
				return
			}
		}
	}()
	return func() { close(done) }
}
