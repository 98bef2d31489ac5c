package render

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/empplay/empplay"
)

// staticJob is a static 800x800 sketch: 200 circles, one draw.
func staticJob() *empplay.Job {
	return job(`
function setup() {
  createCanvas(800, 800);
  noLoop();
}
function draw() {
  background(30, 40, 60);
  noStroke();
  for (let i = 0; i < 200; i++) {
    fill((i * 37) % 255, (i * 91) % 255, (i * 53) % 255);
    circle((i * 113) % 800, (i * 71) % 800, 10 + i % 40);
  }
}`, 800, 800)
}

// BenchmarkRenderStatic800 renders a static 800x800 sketch back to back in
// a warm browser: each job also waits for the previous one's page to close
// and the next tab to open, so this is the throughput of one worker that
// does nothing else. median-ms is the per-job time without outliers.
func BenchmarkRenderStatic800(b *testing.B) {
	benchRender(b, false)
}

// BenchmarkRenderStatic800Latency is the time of the Render call alone,
// when the previous job's cleanup and the next tab's opening have had time
// to finish (as they do while a worker uploads the previous output).
func BenchmarkRenderStatic800Latency(b *testing.B) {
	benchRender(b, true)
}

func benchRender(b *testing.B, settled bool) {
	br := sharedBrowser(b)
	j := staticJob()
	ctx := context.Background()
	if _, err := br.Render(ctx, j); err != nil { // warm up
		b.Fatal(err)
	}
	var times []time.Duration
	for b.Loop() {
		if settled {
			b.StopTimer()
			if err := br.settle(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		start := time.Now()
		if _, err := br.Render(ctx, j); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "median-ms")
}
