package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/empplay/empplay"
)

// Queue hands out jobs and takes their results.
type Queue interface {
	// Fetch waits a short while (seconds) for a job; (nil, nil) when none came.
	Fetch(ctx context.Context) (*empplay.Delivery, error)
	// Finish stores the job's one result and releases the job.
	Finish(ctx context.Context, d *empplay.Delivery, res *empplay.Result) (bool, error)
	// Requeue gives the job back without charging the attempt.
	Requeue(ctx context.Context, d *empplay.Delivery) error
	// Retry releases the job and schedules it to run again after delay.
	Retry(ctx context.Context, d *empplay.Delivery, delay time.Duration, cause error) error
}

// OutputStore keeps the main output of an inline job for the producer to
// read (the queue implements it).
type OutputStore interface {
	StoreOutput(ctx context.Context, id string, body []byte) error
}

// Renderer turns a job into files.
type Renderer interface {
	Render(ctx context.Context, job *empplay.Job) (*empplay.Output, error)
}

// cleaner is a Renderer that holds back the cleanup after a job until it
// is told to start it (render.Browser with DeferCleanup). The worker tells
// it once the job's result is stored, so that the cleanup does not slow
// the upload, the CDN check and the result.
type cleaner interface {
	Cleanup()
}

// Uploader stores a file in a container.
type Uploader interface {
	Upload(ctx context.Context, container, name string, body []byte, contentType string) error
}

// Verifier waits until the CDN serves a stored file and returns its URL.
type Verifier interface {
	Verify(ctx context.Context, bucket, name string, size int64, contentType string) (string, error)
}

// Config tunes a [Worker]. Zero values take the defaults in brackets.
type Config struct {
	// ID names the worker in results and logs.
	ID string
	// RenderTimeout is the render deadline of a job (BROWSER_TIMEOUT) [30s].
	RenderTimeout time.Duration
	// UploadTimeout bounds the upload of one job's files [60s].
	UploadTimeout time.Duration
	// VerifyTimeout bounds the CDN verification of one job [30s].
	VerifyTimeout time.Duration
	// DrainTimeout is how long a stopping worker lets its job finish before
	// it gives the job back to the queue [30s].
	DrainTimeout time.Duration
	// ResultTimeout bounds storing a result [10s].
	ResultTimeout time.Duration
	// MaxAttempts is how often a job may be claimed [3]. A transient
	// failure before the last attempt is retried instead of reported.
	MaxAttempts int
	// RetryBase and RetryMax shape the retry backoff [1s, 30s].
	RetryBase, RetryMax time.Duration
	// GPU is true for a worker started to render on a GPU; it checks the
	// renderer of every WebGL job (see [Worker.DegradeGPU]).
	GPU bool
	// Sources says whether a URL a job names for fetching (its assets,
	// its components' outputs) is on an allowed origin; nil allows all.
	Sources SourcePolicy
}

// SourcePolicy is the allow-list of origins the worker fetches from (a
// fetcher.Origins).
type SourcePolicy interface {
	Check(url string) error
}

func (c *Config) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.RenderTimeout, 30*time.Second)
	def(&c.UploadTimeout, 60*time.Second)
	def(&c.VerifyTimeout, 30*time.Second)
	def(&c.DrainTimeout, 30*time.Second)
	def(&c.ResultTimeout, 10*time.Second)
	def(&c.RetryBase, time.Second)
	def(&c.RetryMax, 30*time.Second)
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 3
	}
}

// Worker processes jobs one at a time.
type Worker struct {
	cfg    Config
	q      Queue
	r      Renderer
	u      Uploader
	v      Verifier
	logger *slog.Logger

	lastFetch atomic.Int64 // unix ms of the last Fetch that returned
	events    chan empplay.JobEvent
	mu        sync.Mutex
	current   string    // id of the job being processed
	deadline  time.Time // when the job in hand must be done
	gpu       gpuState
}

// New returns a worker that takes jobs from q.
func New(cfg Config, q Queue, r Renderer, u Uploader, v Verifier, logger *slog.Logger) *Worker {
	cfg.defaults()
	return &Worker{cfg: cfg, q: q, r: r, u: u, v: v, logger: logger, events: make(chan empplay.JobEvent, 256)}
}

// Events delivers a summary of every job the worker finished, for health
// reports and metrics. Events are dropped when nobody reads them.
func (w *Worker) Events() <-chan empplay.JobEvent { return w.events }

func (w *Worker) emit(ev empplay.JobEvent) {
	select {
	case w.events <- ev:
	default:
	}
}

// Status is a snapshot for health reports.
type Status struct {
	CurrentJob  string
	JobDeadline time.Time // zero when idle
	LastFetch   time.Time
}

// Status returns what the worker is doing.
func (w *Worker) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Status{CurrentJob: w.current, JobDeadline: w.deadline, LastFetch: time.UnixMilli(w.lastFetch.Load())}
}

// jobBudget is the longest a job may take from pickup to result: render,
// upload, verification and storing the result.
func (w *Worker) jobBudget() time.Duration {
	return w.cfg.RenderTimeout + w.cfg.UploadTimeout + w.cfg.VerifyTimeout + w.cfg.ResultTimeout
}

// Run processes jobs until ctx ends. Then it stops fetching (within the
// queue's block timeout), lets the job in hand finish within DrainTimeout
// or gives it back, and returns nil.
func (w *Worker) Run(ctx context.Context) error {
	errDelay := 100 * time.Millisecond
	for ctx.Err() == nil {
		d, err := w.fetch(ctx)
		if err != nil {
			w.logger.WarnContext(ctx, "fetch failed; retrying", "err", err, "retry_in", errDelay)
			select {
			case <-ctx.Done():
			case <-time.After(errDelay):
			}
			errDelay = min(errDelay*2, 5*time.Second)
			continue
		}
		errDelay = 100 * time.Millisecond
		if d == nil {
			continue
		}
		w.handle(ctx, d)
	}
	return nil
}

// RunOnce waits up to wait (0: until ctx ends) for one job, processes it
// and returns its result once that result is the job's, stored in the
// queue. The wait bounds only the fetch: a job taken just before it ends
// runs to its end, and only ctx's end (a shutdown) drains and gives it
// back. A job that fails transiently and is scheduled to run again, or
// whose result the queue did not take, is an error: what the job ends
// with is decided later, elsewhere.
func (w *Worker) RunOnce(ctx context.Context, wait time.Duration) (*empplay.Result, error) {
	fctx := ctx
	if wait > 0 {
		var cancel context.CancelFunc
		fctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	for {
		d, err := w.fetch(fctx)
		if err != nil {
			return nil, err
		}
		if d != nil {
			res, end := w.handle(ctx, d)
			switch end {
			case endStored:
				return res, nil
			case endRetry:
				return nil, fmt.Errorf("job %s failed (%s: %s) and will be tried again: this attempt's result is not its last", d.ID, res.ErrorCode, redact(res.Error))
			case endDropped:
				return nil, fmt.Errorf("job %s already had a result; this attempt's was dropped", d.ID)
			case endUnstored:
				return nil, fmt.Errorf("job %s: the queue did not take this attempt's result; the job stays in the worker's in-flight list and is rendered again", d.ID)
			}
			return nil, fmt.Errorf("job %s was given back to the queue: %w", d.ID, context.Cause(ctx))
		}
		if err := fctx.Err(); err != nil {
			return nil, fmt.Errorf("no job arrived: %w", err)
		}
	}
}

// fetchTimeout bounds one Fetch: a check of the worker's own in-flight
// list, a BLMOVE that waits the queue's block timeout (seconds) and the
// claim, each bounded by the queue too; this is the backstop for a call
// that would otherwise wait on a dead connection.
const fetchTimeout = time.Minute

// fetch never lets cancellation cut a fetch short: a BLMOVE cancelled
// client-side may already have moved a job. A job fetched after ctx ended
// goes straight back.
func (w *Worker) fetch(ctx context.Context) (*empplay.Delivery, error) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	d, err := w.q.Fetch(fctx)
	w.lastFetch.Store(time.Now().UnixMilli())
	if err != nil || d == nil {
		return nil, err
	}
	if ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ResultTimeout)
		defer cancel()
		if err := w.q.Requeue(rctx, d); err != nil {
			w.logger.ErrorContext(ctx, "could not give a job back while stopping", "job_id", d.ID, "err", err)
		}
		return nil, nil
	}
	return d, nil
}

// ending is how an attempt ended for the queue.
type ending int

const (
	endStored   ending = iota // the attempt's result is stored: the job's result
	endDropped                // another result was stored first; this one was dropped
	endRetry                  // a retry is scheduled
	endRequeued               // given back to the queue after the drain timeout
	endUnstored               // the queue took neither the result nor the retry
)

// outcome is the job event's and log line's name for e; failed stands for
// a stored result that is not a success.
func (e ending) outcome(res *empplay.Result) string {
	switch e {
	case endStored:
		if res.Success {
			return "success"
		}
		return "failed"
	case endDropped:
		return "dropped"
	case endRetry:
		return "retry"
	case endRequeued:
		return "requeued"
	}
	return "unstored"
}

// handle processes d and stores its result, or gives d back when ctx ends
// and the job does not finish within the drain timeout. It returns the
// attempt's result (nil when given back) and how the attempt ended; every
// attempt ends with one job event and one "job finished" line.
func (w *Worker) handle(ctx context.Context, d *empplay.Delivery) (*empplay.Result, ending) {
	start := time.Now()
	// The payload is decoded here, once; everything after takes the job.
	job, parseErr := empplay.Parse(d.Raw)
	w.mu.Lock()
	w.current, w.deadline = d.ID, start.Add(w.budgetFor(job))
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		w.current, w.deadline = "", time.Time{}
		w.mu.Unlock()
	}()
	typ := jobType(job)
	var res *empplay.Result
	stages := &empplay.StageTimes{}
	event := func(end ending) {
		took := time.Since(start)
		outcome := end.outcome(res)
		var code empplay.Code
		if !res.Success && end != endRequeued {
			code = res.ErrorCode
		}
		w.emit(empplay.JobEvent{ID: d.ID, Src: redact(res.Src), Type: typ, Outcome: outcome, ErrorCode: code, Seconds: took.Seconds(), Renderer: res.Renderer, Stages: stages.Seconds(),
			AssetHits: res.Timings.AssetHits, AssetMisses: res.Timings.AssetMisses})
		w.logJob(ctx, d, typ, outcome, res, stages, took)
	}

	// The job runs on its own context so a shutdown does not abort it at
	// once; it is cancelled DrainTimeout after ctx ends.
	jobCtx, cancelJob := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJob()
	var drained atomic.Bool
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(w.cfg.DrainTimeout, func() {
			drained.Store(true)
			cancelJob()
		})
		context.AfterFunc(jobCtx, func() { t.Stop() })
	})
	defer stop()

	res = w.process(empplay.WithStageTimes(jobCtx, stages), d, job, parseErr, start)
	if c, ok := w.r.(cleaner); ok {
		defer c.Cleanup() // after the result is stored, whatever the outcome
	}

	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.ResultTimeout)
	defer cancel()
	log := w.logger.With("job_id", d.ID, "attempt", d.Attempt)
	switch nextAction(res, d.Attempt, w.cfg.MaxAttempts, drained.Load()) {
	case actionRequeue:
		if err := w.q.Requeue(rctx, d); err != nil {
			log.ErrorContext(ctx, "could not give the job back after the drain timeout", "err", err)
		} else {
			log.WarnContext(ctx, "job did not finish within the drain timeout; gave it back to the queue")
		}
		event(endRequeued)
		return nil, endRequeued
	case actionRetry:
		delay := Backoff(d.Attempt, w.cfg.RetryBase, w.cfg.RetryMax)
		if err := w.q.Retry(rctx, d, delay, errors.New(res.Error)); err != nil {
			// The job stays in our in-flight list: the next fetch takes
			// it from there and renders it again.
			log.ErrorContext(ctx, "could not schedule a retry", "err", err)
			event(endUnstored)
			return res, endUnstored
		}
		log.InfoContext(ctx, "retry scheduled", "retry_in", delay)
		event(endRetry)
		return res, endRetry
	}
	wrote, err := w.q.Finish(rctx, d, res)
	if err != nil {
		log.ErrorContext(ctx, "could not store the result", "err", err)
		event(endUnstored)
		return res, endUnstored
	}
	if !wrote {
		log.WarnContext(ctx, "job already had a result; this one was dropped")
		event(endDropped)
		return res, endDropped
	}
	event(endStored)
	return res, endStored
}

// Process runs one job and returns its result; it never panics and never
// returns nil.
func (w *Worker) Process(ctx context.Context, d *empplay.Delivery) *empplay.Result {
	start := time.Now()
	job, err := empplay.Parse(d.Raw)
	return w.process(ctx, d, job, err, start)
}

// process is Process for the job d holds, parsed already: job and
// parseErr are what [empplay.Parse] returned for d.Raw, and start is when
// the job was picked up (before it was parsed), which TotalMs counts from.
func (w *Worker) process(ctx context.Context, d *empplay.Delivery, job *empplay.Job, parseErr error, start time.Time) (res *empplay.Result) {
	defer func() {
		if p := recover(); p != nil {
			err := fmt.Errorf("panic while processing: %v\n%s", p, debug.Stack())
			w.logger.ErrorContext(ctx, "panic in job", "job_id", d.ID, "err", err)
			res = empplay.Failed(d.ID, &empplay.Error{Code: empplay.CodeInternal, Msg: "internal error while processing the job", Err: err})
		}
		res.ID = d.ID
		res.Attempts = d.Attempt
		res.Worker = w.cfg.ID
		res.Timings.TotalMs = empplay.Ms(time.Since(start))
		res.Timings.QueuedMs = empplay.Ms(d.Queued)
		if d.Queued > 0 { // known only when the queue saw the job wait (see [empplay.StageQueueWait])
			empplay.RecordStage(ctx, empplay.StageQueueWait, d.Queued)
		}
		res.FinishedAt = time.Now().UTC()
	}()

	if parseErr != nil {
		res = empplay.Failed(d.ID, parseErr)
		if job != nil {
			res.Type = job.Type
		}
		return res
	}
	res = &empplay.Result{ID: d.ID, Type: job.Type}
	if err := w.checkSources(job); err != nil {
		return fail(res, err)
	}
	if err := w.gpuGate(job); err != nil {
		return fail(res, err)
	}
	out, err := w.render(ctx, job, res)
	if err != nil {
		return fail(res, err)
	}
	if len(out.Artifacts) == 0 {
		return fail(res, empplay.Errorf(empplay.CodeInternal, "renderer produced no output"))
	}
	res.Trigger, res.TriggerMs, res.Frame, res.Renderer = out.Trigger, out.TriggerMs, out.Frame, out.Renderer
	res.Blank, res.Warnings = out.Blank, out.Warnings
	res.Timings.AssetHits, res.Timings.AssetMisses = out.AssetHits, out.AssetMisses
	if err := w.gpuVerify(ctx, d.ID, job, out.Renderer); err != nil {
		return fail(res, err)
	}

	if job.Inline {
		return w.inline(ctx, job, out.Artifacts[0], res)
	}

	t := time.Now()
	uctx, cancel := context.WithTimeout(ctx, w.cfg.UploadTimeout)
	for _, a := range out.Artifacts {
		if err := w.u.Upload(uctx, job.Bucket, a.Name, a.Body, a.MimeType); err != nil {
			cancel()
			return fail(res, err)
		}
	}
	cancel()
	res.Timings.UploadMs = empplay.Ms(time.Since(t))
	empplay.StageSince(ctx, empplay.StageUpload, t)

	t = time.Now()
	vctx, cancel := context.WithTimeout(ctx, w.cfg.VerifyTimeout)
	defer cancel()
	for i, a := range out.Artifacts {
		url, err := w.v.Verify(vctx, job.Bucket, a.Name, int64(len(a.Body)), a.MimeType)
		if err != nil {
			return fail(res, err)
		}
		if i == 0 {
			res.Src, res.MimeType = url, a.MimeType
			res.Bytes = int64(len(a.Body))
			sum := sha256.Sum256(a.Body)
			res.SHA256 = hex.EncodeToString(sum[:])
			res.Width, res.Height = a.Width, a.Height
		}
		// A standalone HTML file is always returned as htmlSrc, also when it
		// is the only output (then src names it too).
		if a.MimeType == "text/html" {
			res.HTMLSrc = url
		}
		if i == 1 && job.Type == empplay.TypeVideo {
			res.PosterSrc = url
		}
	}
	videoResult(job, res)
	res.Timings.VerifyMs = empplay.Ms(time.Since(t))
	empplay.StageSince(ctx, empplay.StageVerify, t)
	res.Success = true
	return res
}

// inline keeps a's bytes in the queue instead of uploading them (the job
// asked for "inline"): no Blob Storage, no CDN, only the main output.
func (w *Worker) inline(ctx context.Context, job *empplay.Job, a empplay.Artifact, res *empplay.Result) *empplay.Result {
	store, ok := w.q.(OutputStore)
	if !ok {
		return fail(res, empplay.Errorf(empplay.CodeUnsupported, "this worker's queue cannot keep inline outputs"))
	}
	if len(a.Body) > empplay.MaxInlineBytes {
		return fail(res, empplay.Errorf(empplay.CodeOutputTooLarge, "the output is %d bytes; an inline output may have %d (upload it instead: leave out \"inline\")", len(a.Body), empplay.MaxInlineBytes))
	}
	t := time.Now()
	sctx, cancel := context.WithTimeout(ctx, w.cfg.ResultTimeout)
	defer cancel()
	if err := store.StoreOutput(sctx, res.ID, a.Body); err != nil {
		// The queue's address and its error are the operator's (the log
		// has them), not the artist's.
		return fail(res, &empplay.Error{Code: empplay.CodeStorageError, Retryable: true,
			Msg: "the output could not be kept for the producer (the queue's store did not answer)", Err: err})
	}
	res.Timings.UploadMs = empplay.Ms(time.Since(t))
	empplay.StageSince(ctx, empplay.StageUpload, t)
	res.Inline, res.MimeType = true, a.MimeType
	res.Bytes = int64(len(a.Body))
	sum := sha256.Sum256(a.Body)
	res.SHA256 = hex.EncodeToString(sum[:])
	res.Width, res.Height = a.Width, a.Height
	videoResult(job, res)
	res.Success = true
	return res
}

func (w *Worker) render(ctx context.Context, job *empplay.Job, res *empplay.Result) (*empplay.Output, error) {
	timeout := job.RenderTimeout(w.cfg.RenderTimeout) // longer for a long video
	if job.TimeoutMs > 0 {
		timeout = min(timeout, time.Duration(job.TimeoutMs)*time.Millisecond)
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rctx, stop := w.trackProgress(rctx, job, res.ID)
	defer stop()
	t := time.Now()
	out, err := w.r.Render(rctx, job)
	res.Timings.RenderMs = empplay.Ms(time.Since(t))
	if err != nil {
		var je *empplay.Error
		if !errors.As(err, &je) && errors.Is(err, context.DeadlineExceeded) {
			err = empplay.Errorf(empplay.CodeRenderTimeout, "the sketch did not finish within %v", timeout)
		}
		return nil, err
	}
	return out, nil
}

// action is what becomes of a processed job.
type action int

const (
	actionFinish  action = iota // store the result (success, or a final failure)
	actionRetry                 // schedule another attempt after a backoff
	actionRequeue               // give the job back uncharged (stopped mid-job)
)

// decide is the one place that turns a job's outcome into what happens to
// it: a job cut short by shutdown goes back to the queue without charge; a
// transient failure is retried until the last attempt; everything else
// (success, bad input, a sketch error, the last attempt) is final.
func nextAction(res *empplay.Result, attempt, maxAttempts int, drained bool) action {
	switch {
	case res.Success:
		return actionFinish
	case drained:
		return actionRequeue
	case res.Retryable && attempt < maxAttempts:
		return actionRetry
	}
	return actionFinish
}

// jobType is the type of a job for metrics, "invalid" when it could not
// be decoded or has none that is known.
func jobType(j *empplay.Job) string {
	if j == nil {
		return "invalid"
	}
	switch j.Type {
	case empplay.TypeP5, empplay.TypeJS, empplay.TypeVideo:
		return j.Type
	}
	return "invalid"
}

func fail(res *empplay.Result, err error) *empplay.Result {
	f := empplay.Failed(res.ID, err)
	f.Type, f.Timings, f.Trigger, f.TriggerMs, f.Renderer = res.Type, res.Timings, res.Trigger, res.TriggerMs, res.Renderer
	return f
}

// checkSources refuses a job that names a URL to fetch outside the allowed
// origins, before anything is fetched.
func (w *Worker) checkSources(job *empplay.Job) error {
	if w.cfg.Sources == nil {
		return nil
	}
	for _, u := range job.SourceURLs() {
		if err := w.cfg.Sources.Check(u); err != nil {
			return empplay.Errorf(empplay.CodeInvalidField, "assets: %v; allow its origin with ASSET_ORIGINS", err)
		}
	}
	return nil
}
