package worker

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/video"
)

// progressQueue is a fakeQueue that records progress updates.
type progressQueue struct {
	fakeQueue
	pmu     sync.Mutex
	updates [][2]int
}

func (q *progressQueue) Progress(_ context.Context, id string, done, total int) error {
	q.pmu.Lock()
	defer q.pmu.Unlock()
	q.updates = append(q.updates, [2]int{done, total})
	return nil
}

const videoJob = `{"type":"video","code":"draw","width":4,"height":4,"duration":2,"fps":30,"bucket":"renders","prefix":"p","filename":"v.mp4"}`

func TestVideoJob(t *testing.T) {
	t.Parallel()
	var budget time.Duration
	r := fakeRenderer{func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		d, _ := ctx.Deadline()
		budget = time.Until(d)
		for k := 0; k <= 60; k += 20 {
			video.ReportProgress(ctx, k, 60)
		}
		return &empplay.Output{Trigger: "video", Artifacts: []empplay.Artifact{
			{Name: job.BlobName(), MimeType: "video/mp4", Body: []byte("mp4"), Width: 4, Height: 4},
			{Name: "p/v.poster.png", MimeType: "image/png", Body: []byte("png"), Width: 4, Height: 4},
		}}, nil
	}}
	q := &progressQueue{}
	w := New(Config{ID: "w", RenderTimeout: 10 * time.Second}, q, r, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	res := w.Process(context.Background(), delivery(videoJob))
	if !res.Success {
		t.Fatalf("result %+v", res)
	}
	if res.Src != "https://cdn.test/renders/p/v.mp4" || res.MimeType != "video/mp4" || res.PosterSrc != "https://cdn.test/renders/p/v.poster.png" {
		t.Errorf("src %q mime %q poster %q", res.Src, res.MimeType, res.PosterSrc)
	}
	if res.Frames != 60 || res.Duration != 2 || res.Width != 4 || res.Bytes != 3 {
		t.Errorf("frames %d duration %v size %dx%d %d bytes; want 60, 2s, 4x4, 3 bytes", res.Frames, res.Duration, res.Width, res.Height, res.Bytes)
	}
	// 10 s for a still image, plus 100 ms for each of the 60 frames.
	if budget < 15*time.Second || budget > 16*time.Second {
		t.Errorf("render deadline in %v; want 16s", budget)
	}
	q.pmu.Lock()
	defer q.pmu.Unlock()
	if n := len(q.updates); n == 0 || q.updates[n-1] != [2]int{60, 60} {
		t.Errorf("progress updates %v; want the last to be 60/60", q.updates)
	}
}

func TestBudgetFor(t *testing.T) {
	t.Parallel()
	w := New(Config{RenderTimeout: 10 * time.Second}, &fakeQueue{}, nil, nil, nil, slog.New(slog.DiscardHandler))
	base := w.jobBudget()
	for _, tc := range []struct {
		raw  string
		want time.Duration
	}{
		{goodJob, base},
		{videoJob, base + 6*time.Second},
		{`{"type":"video","duration":1000}`, base}, // invalid: fails at once
		{`not json`, base},
	} {
		job, _ := empplay.Parse([]byte(tc.raw))
		if got := w.budgetFor(job); got != tc.want {
			t.Errorf("budgetFor(%s) = %v; want %v", tc.raw, got, tc.want)
		}
	}
}
