package render

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
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
			var m int64
			for _, p := range proc.InGroup(pid) {
				m += p.Stat.RSS
			}
			if m > peak.Load() {
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
		// A sandboxed iframe runs in a renderer of its own: each renderer
		// stays under the limit, together they do not.
		// On the real clock: the busy-wait keeps the page from reaching its
		// capture while the iframe grows.
		{"spread over two renderers", realClock(job(`let hog = []; function setup() { createCanvas(50, 50);
  const f = document.createElement('iframe'); f.sandbox = 'allow-scripts';
  f.srcdoc = '<script>let h = []; for (let i = 0; i < 10; i++) h.push(new Float64Array(1 << 22).fill(i)); setTimeout(() => 0, 1e6)</' + 'script>';
  document.body.appendChild(f);
  for (let i = 0; i < 10; i++) hog.push(new Float64Array(1 << 22).fill(i));
  const end = Date.now() + 20000; while (Date.now() < end) {} }`, 50, 50))},
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
			// Stopped by the guard, not the job's deadline (30 s): filling
			// 512 MiB takes seconds on a host with slow page faults.
			if took > 25*time.Second {
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

func TestCrashError(t *testing.T) {
	t.Parallel()
	const limit = 1024 << 20
	for _, tc := range []struct {
		name      string
		killed    int64 // by the guard
		peak      int64
		status    string // the browser's word on the crash
		code      empplay.Code
		retryable bool
		msg       string
	}{
		{"killed by the guard", 1312 << 20, 1312 << 20, "killed", empplay.CodeMemoryLimit, false, "the sketch used 1312 MiB, over this worker's 1024 MiB limit per job"},
		{"out of memory says the browser", 0, 300 << 20, "oom", empplay.CodeMemoryLimit, false, "ran out of memory"},
		{"crashed near the limit", 0, 1000 << 20, "crashed", empplay.CodeMemoryLimit, false, "its renderer used 1000 MiB"},
		{"crashed far from the limit", 0, 200 << 20, "crashed", empplay.CodeBrowserError, true, "the page crashed (crashed)"},
		{"no word from the browser", 0, 200 << 20, "", empplay.CodeBrowserError, true, "the page crashed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := &tab{crashInfo: make(chan string, 1)}
			if tc.status != "" {
				tb.crashInfo <- tc.status
			}
			g := &memoryGuard{limit: limit}
			g.killed.Store(tc.killed)
			g.peak.Store(tc.peak)
			err := tb.crashError(g)
			var e *empplay.Error
			if !errors.As(err, &e) || e.Code != tc.code || e.Retryable != tc.retryable || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("crashError = %#v (%v); want %s (retryable %v) saying %q", err, err, tc.code, tc.retryable, tc.msg)
			}
		})
	}
}

func TestJudgeMemory(t *testing.T) {
	t.Parallel()
	const limit = 1000 << 20
	const mib = 1 << 20
	for _, tc := range []struct {
		name   string
		sample []rendererMemory
		kill   []int
		used   int64
		stray  []int
	}{
		{"all small", []rendererMemory{{1, 300 * mib, 100 * mib}, {2, 100 * mib, 100 * mib}, {3, 100 * mib, 0}}, nil, 0, nil},
		{"many idle renderers are not the job's", []rendererMemory{{1, 900 * mib, 150 * mib}, {2, 150 * mib, 150 * mib}, {3, 150 * mib, 150 * mib}, {4, 150 * mib, 150 * mib}, {5, 100 * mib, 0}}, nil, 0, nil},
		{"one over", []rendererMemory{{1, 300 * mib, 300 * mib}, {2, 1200 * mib, 100 * mib}}, []int{2}, 1200 * mib, nil},
		{"a new one over", []rendererMemory{{1, 300 * mib, 300 * mib}, {3, 1001 * mib, 0}}, []int{3}, 1001 * mib, nil},
		{"spread over a new renderer", []rendererMemory{{1, 700 * mib, 150 * mib}, {2, 100 * mib, 100 * mib}, {3, 600 * mib, 0}},
			[]int{1, 3}, 1300 * mib, nil},
		{"spread over the spare renderer", []rendererMemory{{1, 700 * mib, 150 * mib}, {2, 640 * mib, 40 * mib}, {3, 100 * mib, 100 * mib}},
			[]int{1, 2}, 1300 * mib, nil},
		{"spread within the slack", []rendererMemory{{1, 900 * mib, 150 * mib}, {2, 100 * mib, 100 * mib}, {3, 120 * mib, 0}}, nil, 0, nil},
		{"no renderer", nil, nil, 0, nil},
		// The last job's page, still leaving while this job starts: it
		// was that big before the job began.
		{"the last job's renderer over the limit is not the job's", []rendererMemory{{1, 1100 * mib, 990 * mib}, {2, 300 * mib, 100 * mib}},
			nil, 0, []int{1}},
		{"the last job's renderer counts in no spread", []rendererMemory{{1, 990 * mib, 980 * mib}, {2, 500 * mib, 100 * mib}, {3, 100 * mib, 0}},
			nil, 0, nil},
		{"the job over the limit beside the last job's renderer", []rendererMemory{{1, 1100 * mib, 990 * mib}, {2, 1050 * mib, 100 * mib}},
			[]int{2}, 1050 * mib, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kill, used, stray := judgeMemory(tc.sample, limit)
			if !slices.Equal(kill, tc.kill) || used != tc.used || !slices.Equal(stray, tc.stray) {
				t.Errorf("judgeMemory = %v, %d MiB, stray %v; want %v, %d MiB, stray %v", kill, used>>20, stray, tc.kill, tc.used>>20, tc.stray)
			}
		})
	}
}

// realClock sets j to run on the real clock.
func realClock(j *empplay.Job) *empplay.Job {
	j.Clock = empplay.ClockReal
	return j
}
