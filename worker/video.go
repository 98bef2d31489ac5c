package worker

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/video"
)

// ProgressReporter is a [Queue] that can show a running job's progress
// (frames of a video) to producers and operators. The worker uses it when
// its queue has it.
type ProgressReporter interface {
	Progress(ctx context.Context, id string, done, total int) error
}

// progressEvery is how often a video's progress is written, at most.
const progressEvery = 500 * time.Millisecond

// trackProgress returns a context for the renderer that carries a
// [video.ProgressFunc] (see [video.WithProgress]) when job is a video and
// the queue is a ProgressReporter. Updates are written every
// progressEvery, off the renderer's goroutine; stop writes the last one
// and waits for the writer.
func (w *Worker) trackProgress(ctx context.Context, job *empplay.Job, id string) (rctx context.Context, stop func()) {
	pr, ok := w.q.(ProgressReporter)
	if !ok || job.Type != empplay.TypeVideo {
		return ctx, func() {}
	}
	var done, total atomic.Int64
	done.Store(-1)
	f := func(d, t int) {
		total.Store(int64(t))
		done.Store(int64(d))
	}
	quit, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		sent := int64(-1)
		write := func() {
			d := done.Load()
			if d < 0 || d == sent {
				return
			}
			sent = d
			pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ResultTimeout)
			defer cancel()
			if err := pr.Progress(pctx, id, int(d), int(total.Load())); err != nil {
				w.logger.DebugContext(ctx, "could not store a job's progress", "job_id", id, "err", err)
			}
		}
		for {
			select {
			case <-quit:
				write()
				return
			case <-tick.C:
				write()
			}
		}
	}()
	return video.WithProgress(ctx, f), func() {
		close(quit)
		<-finished
	}
}

// budgetFor is jobBudget for job (nil when it could not be decoded): a
// video gets the render time its length needs on top (see
// [empplay.Job.RenderTimeout]).
func (w *Worker) budgetFor(j *empplay.Job) time.Duration {
	if j == nil || j.Type != empplay.TypeVideo || j.CheckVideo() != nil {
		return w.jobBudget()
	}
	return w.jobBudget() + j.RenderTimeout(w.cfg.RenderTimeout) - w.cfg.RenderTimeout
}

// videoResult adds a video's length and frame count to its result; the
// poster's URL is set with the uploads (the second artifact).
func videoResult(job *empplay.Job, res *empplay.Result) {
	if job.Type != empplay.TypeVideo {
		return
	}
	res.Frames = job.VideoFrames()
	res.Duration = float64(res.Frames) / job.VideoFPS()
}
