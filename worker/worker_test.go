package worker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
)

// fakeQueue serves deliveries from a slice and records what happened.
type fakeQueue struct {
	mu        sync.Mutex
	pending   []*empplay.Delivery
	finished  map[string]*empplay.Result
	requeued  []string
	retried   []time.Duration
	finishErr error // what Finish and Retry answer, when set: a queue that did not take them
}

func (q *fakeQueue) Retry(_ context.Context, _ *empplay.Delivery, delay time.Duration, _ error) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.finishErr != nil {
		return q.finishErr
	}
	q.retried = append(q.retried, delay)
	return nil
}

func (q *fakeQueue) Fetch(ctx context.Context) (*empplay.Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
		q.mu.Lock()
		return nil, nil
	}
	d := q.pending[0]
	q.pending = q.pending[1:]
	return d, nil
}

func (q *fakeQueue) Finish(_ context.Context, d *empplay.Delivery, res *empplay.Result) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.finishErr != nil {
		return false, q.finishErr
	}
	if q.finished == nil {
		q.finished = map[string]*empplay.Result{}
	}
	if _, ok := q.finished[d.ID]; ok {
		return false, nil
	}
	q.finished[d.ID] = res
	return true, nil
}

func (q *fakeQueue) Requeue(_ context.Context, d *empplay.Delivery) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.requeued = append(q.requeued, d.ID)
	return nil
}

type fakeRenderer struct {
	fn func(ctx context.Context, job *empplay.Job) (*empplay.Output, error)
}

func (r fakeRenderer) Render(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
	return r.fn(ctx, job)
}

type fakeUploader struct {
	mu      sync.Mutex
	err     error
	uploads []string
	took    time.Duration // how long an upload takes
}

func (u *fakeUploader) Upload(_ context.Context, container, name string, body []byte, contentType string) error {
	time.Sleep(u.took) // the behaviour: an upload that takes time (none by default)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return u.err
	}
	u.uploads = append(u.uploads, container+"/"+name+" "+contentType)
	return nil
}

type fakeVerifier struct{ err error }

func (v fakeVerifier) Verify(_ context.Context, bucket, name string, _ int64, _ string) (string, error) {
	if v.err != nil {
		return "", v.err
	}
	return "https://cdn.test/" + bucket + "/" + name, nil
}

const goodJob = `{"type":"p5","code":"draw","width":4,"height":3,"bucket":"renders","prefix":"p","filename":"f.png"}`

func okRender(_ context.Context, job *empplay.Job) (*empplay.Output, error) {
	return &empplay.Output{Trigger: "draw", Artifacts: []empplay.Artifact{{
		Name: job.BlobName(), MimeType: "image/png", Body: []byte("png"), Width: job.Width, Height: job.Height,
	}}}, nil
}

// TestProcessBlankAndWarnings: the renderer's Blank and Warnings reach the
// result of a successful job.
func TestProcessBlankAndWarnings(t *testing.T) {
	t.Parallel()
	render := func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		out, err := okRender(ctx, job)
		out.Blank, out.Warnings = true, []string{"TypeError: Failed to fetch (line 2)"}
		return out, err
	}
	w := New(Config{ID: "w1", RenderTimeout: time.Second}, &fakeQueue{}, fakeRenderer{render},
		&fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	res := w.Process(context.Background(), delivery(goodJob))
	if !res.Success || !res.Blank || len(res.Warnings) != 1 || res.Warnings[0] != "TypeError: Failed to fetch (line 2)" {
		t.Errorf("result %+v; want a success with blank and the warning", res)
	}
}

func delivery(raw string) *empplay.Delivery {
	return &empplay.Delivery{Raw: []byte(raw), ID: empplay.IDFor([]byte(raw)), Attempt: 1}
}

func TestProcess(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name      string
		raw       string
		render    func(context.Context, *empplay.Job) (*empplay.Output, error)
		uploadErr error
		verifyErr error
		wantOK    bool
		wantCode  empplay.Code
		wantRetry bool
	}{
		{name: "success", raw: goodJob, render: okRender, wantOK: true},
		{name: "bad json", raw: `{nope`, render: okRender, wantCode: empplay.CodeInvalidJSON},
		{name: "unknown type", raw: `{"type":"gif"}`, render: okRender, wantCode: empplay.CodeUnknownType},
		{name: "sketch error", raw: goodJob, render: func(context.Context, *empplay.Job) (*empplay.Output, error) {
			return nil, empplay.Errorf(empplay.CodeSketchError, "sketch error: x is not defined (line 3)")
		}, wantCode: empplay.CodeSketchError},
		{name: "deadline without a code becomes render_timeout", raw: goodJob, render: func(ctx context.Context, _ *empplay.Job) (*empplay.Output, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, wantCode: empplay.CodeRenderTimeout},
		{name: "panic in renderer", raw: goodJob, render: func(context.Context, *empplay.Job) (*empplay.Output, error) {
			panic("nil map")
		}, wantCode: empplay.CodeInternal},
		{name: "no artifacts", raw: goodJob, render: func(context.Context, *empplay.Job) (*empplay.Output, error) {
			return &empplay.Output{}, nil
		}, wantCode: empplay.CodeInternal},
		{name: "upload transient", raw: goodJob, render: okRender,
			uploadErr: empplay.Transient(empplay.CodeStorageError, boom), wantCode: empplay.CodeStorageError, wantRetry: true},
		{name: "cdn never serves", raw: goodJob, render: okRender,
			verifyErr: empplay.Transient(empplay.CodeCDNError, boom), wantCode: empplay.CodeCDNError, wantRetry: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := New(Config{ID: "w1", RenderTimeout: 100 * time.Millisecond}, &fakeQueue{}, fakeRenderer{tc.render},
				&fakeUploader{err: tc.uploadErr}, fakeVerifier{tc.verifyErr}, slog.New(slog.DiscardHandler))
			d := delivery(tc.raw)
			d.Queued = 1500 * time.Millisecond
			res := w.Process(context.Background(), d)
			if res == nil {
				t.Fatal("Process returned nil")
			}
			if res.ID != d.ID || res.Worker != "w1" || res.Attempts != 1 || res.Timings.TotalMs <= 0 || res.Timings.QueuedMs != 1500 {
				t.Errorf("result lacks id/worker/attempts/timings (queued 1500 ms): %+v", res)
			}
			if res.Success != tc.wantOK {
				t.Fatalf("success = %v (%s: %s); want %v", res.Success, res.ErrorCode, res.Error, tc.wantOK)
			}
			if tc.wantOK {
				if res.Src != "https://cdn.test/renders/p/f.png" || res.MimeType != "image/png" || res.Width != 4 || res.Height != 3 {
					t.Errorf("success result %+v", res)
				}
				if res.SHA256 == "" || res.Bytes != 3 {
					t.Errorf("result lacks the output digest and size: %+v", res)
				}
				return
			}
			if res.ErrorCode != tc.wantCode || res.Error == "" {
				t.Errorf("errorCode %q (%q); want %q with a message", res.ErrorCode, res.Error, tc.wantCode)
			}
			if res.Retryable != tc.wantRetry {
				t.Errorf("retryable = %v; want %v", res.Retryable, tc.wantRetry)
			}
			if res.Src != "" {
				t.Errorf("failed result has src %q", res.Src)
			}
		})
	}
}

func TestRunProcessesEveryJobOnceAndKeepsGoingAfterBadInput(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(`garbage`), delivery(goodJob), delivery(`{"type":"p5"}`)}}
	up := &fakeUploader{}
	w := New(Config{ID: "w"}, q, fakeRenderer{okRender}, up, fakeVerifier{}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	// No Eventually: on a timeout the assertions below say what is missing.
	testenv.Poll(5*time.Second, 5*time.Millisecond, func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.finished) == 3
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(q.finished) != 3 {
		t.Fatalf("%d results; want 3", len(q.finished))
	}
	if ok := q.finished[delivery(goodJob).ID]; ok == nil || !ok.Success {
		t.Errorf("good job result %+v", ok)
	}
	if len(up.uploads) != 1 || !strings.HasPrefix(up.uploads[0], "renders/p/f.png image/png") {
		t.Errorf("uploads %v; want the one good job", up.uploads)
	}
}

func TestDrainGivesBackAJobThatOverrunsTheDrainTimeout(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	slow := func(ctx context.Context, _ *empplay.Job) (*empplay.Output, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(goodJob)}}
	w := New(Config{ID: "w", RenderTimeout: time.Minute, DrainTimeout: 100 * time.Millisecond},
		q, fakeRenderer{slow}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	<-started
	t0 := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the drain timeout")
	}
	if el := time.Since(t0); el < 100*time.Millisecond {
		t.Errorf("Run returned after %v; the job should have had the 100ms drain timeout", el)
	}
	if len(q.requeued) != 1 || len(q.finished) != 0 {
		t.Fatalf("requeued %v, finished %v; want the job given back and no result", q.requeued, q.finished)
	}
}

func TestDrainLetsAShortJobFinish(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	short := func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		close(started)
		time.Sleep(50 * time.Millisecond) // the behaviour: a job that runs on into the drain
		return okRender(ctx, job)
	}
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(goodJob)}}
	w := New(Config{ID: "w", DrainTimeout: 5 * time.Second},
		q, fakeRenderer{short}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()
	<-started
	cancel()
	<-done
	if res := q.finished[delivery(goodJob).ID]; res == nil || !res.Success || len(q.requeued) != 0 {
		t.Fatalf("finished %v requeued %v; want the job completed during the drain", q.finished, q.requeued)
	}
}

func TestRunOnceReturnsTheResult(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(goodJob)}}
	w := New(Config{ID: "w"}, q, fakeRenderer{okRender}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	res, err := w.RunOnce(context.Background(), 0)
	if err != nil || !res.Success {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := w.RunOnce(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RunOnce on an empty queue = %v; want deadline exceeded", err)
	}
}

// TestRunOnceWaitBoundsOnlyTheFetch: --once --wait bounds the wait for a
// job, not the job taken: one taken just before the wait ends runs to its
// end instead of being drained and given back.
func TestRunOnceWaitBoundsOnlyTheFetch(t *testing.T) {
	t.Parallel()
	slow := func(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
		select { // the behaviour: a render that outlasts the wait and the drain timeout
		case <-time.After(300 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return okRender(ctx, job)
	}
	q := &fakeQueue{pending: []*empplay.Delivery{delivery(goodJob)}}
	w := New(Config{ID: "w", DrainTimeout: 50 * time.Millisecond}, q, fakeRenderer{slow}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	res, err := w.RunOnce(context.Background(), 100*time.Millisecond)
	if err != nil || !res.Success || len(q.requeued) != 0 {
		t.Fatalf("RunOnce = %+v, %v, requeued %v; want the job's success", res, err, q.requeued)
	}
}

// TestRunOnceIsNotTheLastWord: an attempt that does not end the job (a
// retry scheduled, a result the queue did not take, a result dropped as a
// duplicate) is an error, not a result to print as the job's.
func TestRunOnceIsNotTheLastWord(t *testing.T) {
	t.Parallel()
	transient := func(context.Context, *empplay.Job) (*empplay.Output, error) {
		return nil, empplay.Transient(empplay.CodeBrowserError, errors.New("browser gone"))
	}
	for _, tc := range []struct {
		name   string
		render func(context.Context, *empplay.Job) (*empplay.Output, error)
		q      *fakeQueue
		want   string
	}{
		{"retry scheduled", transient, &fakeQueue{}, "will be tried again"},
		{"queue down", okRender, &fakeQueue{finishErr: errors.New("redis down")}, "did not take"},
		{"duplicate", okRender, &fakeQueue{finished: map[string]*empplay.Result{delivery(goodJob).ID: {Success: true}}}, "already had a result"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.q.pending = []*empplay.Delivery{delivery(goodJob)}
			w := New(Config{ID: "w", MaxAttempts: 3}, tc.q, fakeRenderer{tc.render}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
			res, err := w.RunOnce(context.Background(), 0)
			if err == nil || res != nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("RunOnce = %+v, %v; want no result and an error that says %q", res, err, tc.want)
			}
		})
	}
}

func TestTransientFailureIsRetriedUntilTheLastAttempt(t *testing.T) {
	t.Parallel()
	storageDown := &fakeUploader{err: empplay.Transient(empplay.CodeStorageError, errors.New("503"))}
	for _, tc := range []struct {
		name        string
		attempt     int
		wantRetried bool
	}{
		{"first attempt is retried", 1, true},
		{"second attempt is retried", 2, true},
		{"last attempt reports the failure", 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := &fakeQueue{}
			w := New(Config{ID: "w", MaxAttempts: 3, RetryBase: time.Second, RetryMax: 4 * time.Second},
				q, fakeRenderer{okRender}, storageDown, fakeVerifier{}, slog.New(slog.DiscardHandler))
			d := delivery(goodJob)
			d.Attempt = tc.attempt
			w.handle(context.Background(), d)
			if tc.wantRetried {
				if len(q.retried) != 1 || len(q.finished) != 0 {
					t.Fatalf("retried %v finished %v; want one retry and no result", q.retried, q.finished)
				}
				if max := time.Second << (tc.attempt - 1); q.retried[0] > max {
					t.Errorf("retry delay %v over the cap %v", q.retried[0], max)
				}
				return
			}
			res := q.finished[d.ID]
			if len(q.retried) != 0 || res == nil || res.Success || !res.Retryable || res.ErrorCode != empplay.CodeStorageError {
				t.Fatalf("retried %v result %+v; want a failed retryable storage_error result", q.retried, res)
			}
		})
	}
}

func TestPermanentFailureIsNeverRetried(t *testing.T) {
	t.Parallel()
	q := &fakeQueue{}
	w := New(Config{ID: "w"}, q, fakeRenderer{func(context.Context, *empplay.Job) (*empplay.Output, error) {
		return nil, empplay.Errorf(empplay.CodeSketchError, "boom")
	}}, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
	d := delivery(goodJob)
	w.handle(context.Background(), d)
	if len(q.retried) != 0 || q.finished[d.ID] == nil {
		t.Fatalf("retried %v finished %v; want the failure stored at once", q.retried, q.finished)
	}
}

func TestHTMLOutputIsReturnedAsHTMLSrc(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		artifacts   []empplay.Artifact
		wantSrc     string
		wantHTMLSrc string
		wantMime    string
	}{
		{"png only", []empplay.Artifact{{Name: "p/f.png", MimeType: "image/png"}}, "https://cdn.test/renders/p/f.png", "", "image/png"},
		{"html only", []empplay.Artifact{{Name: "p/f.html", MimeType: "text/html"}}, "https://cdn.test/renders/p/f.html", "https://cdn.test/renders/p/f.html", "text/html"},
		{"both", []empplay.Artifact{{Name: "p/f.png", MimeType: "image/png"}, {Name: "p/f.html", MimeType: "text/html"}}, "https://cdn.test/renders/p/f.png", "https://cdn.test/renders/p/f.html", "image/png"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := fakeRenderer{func(context.Context, *empplay.Job) (*empplay.Output, error) {
				return &empplay.Output{Artifacts: tc.artifacts}, nil
			}}
			w := New(Config{ID: "w"}, &fakeQueue{}, r, &fakeUploader{}, fakeVerifier{}, slog.New(slog.DiscardHandler))
			res := w.Process(context.Background(), delivery(goodJob))
			if !res.Success || res.Src != tc.wantSrc || res.HTMLSrc != tc.wantHTMLSrc || res.MimeType != tc.wantMime {
				t.Fatalf("result src %q htmlSrc %q mime %q; want %q %q %q", res.Src, res.HTMLSrc, res.MimeType, tc.wantSrc, tc.wantHTMLSrc, tc.wantMime)
			}
		})
	}
}

func TestJobType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw  string
		want string
	}{
		{goodJob, empplay.TypeP5},
		{`{"type":"video","duration":1000}`, empplay.TypeVideo}, // invalid, yet decoded
		{`{"type":"gif"}`, "invalid"},
		{`not json`, "invalid"},
	} {
		job, _ := empplay.Parse([]byte(tc.raw))
		if got := jobType(job); got != tc.want {
			t.Errorf("jobType(%s) = %q; want %q", tc.raw, got, tc.want)
		}
	}
}

// storingQueue is a fakeQueue that keeps inline outputs.
type storingQueue struct {
	fakeQueue
	outputs map[string]int // id -> bytes kept
}

func (q *storingQueue) StoreOutput(_ context.Context, id string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.outputs == nil {
		q.outputs = map[string]int{}
	}
	q.outputs[id] = len(body)
	return nil
}

// TestInlineOutputLimit: an inline output is kept up to MaxInlineBytes; a
// bigger one is not kept and fails as output_too_large, for good.
func TestInlineOutputLimit(t *testing.T) {
	t.Parallel()
	const inlineJob = `{"type":"p5","code":"draw","width":4,"height":3,"bucket":"renders","prefix":"p","filename":"f.png","inline":true}`
	for _, tc := range []struct {
		name     string
		size     int
		wantCode empplay.Code
	}{
		{"at the limit", empplay.MaxInlineBytes, ""},
		{"one byte over", empplay.MaxInlineBytes + 1, empplay.CodeOutputTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			render := func(_ context.Context, job *empplay.Job) (*empplay.Output, error) {
				return &empplay.Output{Trigger: "draw", Artifacts: []empplay.Artifact{{
					Name: job.BlobName(), MimeType: "image/png", Body: make([]byte, tc.size), Width: job.Width, Height: job.Height,
				}}}, nil
			}
			q := &storingQueue{}
			up := &fakeUploader{}
			w := New(Config{ID: "w1", RenderTimeout: time.Second}, q, fakeRenderer{render}, up, fakeVerifier{}, slog.New(slog.DiscardHandler))
			d := delivery(inlineJob)
			res := w.Process(context.Background(), d)
			if len(up.uploads) != 0 {
				t.Errorf("an inline output was uploaded: %v", up.uploads)
			}
			if tc.wantCode == "" {
				if !res.Success || q.outputs[d.ID] != tc.size {
					t.Errorf("result %+v, kept %d bytes; want a success with %d bytes kept", res, q.outputs[d.ID], tc.size)
				}
				return
			}
			if res.Success || res.ErrorCode != tc.wantCode || res.Retryable || !strings.Contains(res.Error, "inline") {
				t.Errorf("result %s %q retryable=%v; want a permanent %s that says why", res.ErrorCode, res.Error, res.Retryable, tc.wantCode)
			}
			if _, kept := q.outputs[d.ID]; kept {
				t.Error("an output over the limit was kept")
			}
		})
	}
}
