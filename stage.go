package empplay

import (
	"context"
	"sync"
	"time"
)

// Stage names a measured part of a job, in the job log and the
// empplay_job_stage_duration_seconds histogram. Only what is measured is
// reported: a stage that did not run, or that nothing times for a kind of
// job, is absent rather than zero.
type Stage string

// The stages of a job, in order. There is no queue-wait stage: producers
// LPUSH bare payloads with no time in them, so a worker cannot tell how
// long a job waited (empplay_queue_oldest_pending_age_seconds watches the
// queue instead).
const (
	// StageBrowserAcquire: a running Chromium and a tab for the job,
	// starting or restarting the browser when needed.
	StageBrowserAcquire Stage = "browser_acquire"
	// StagePageLoad: sizing the tab and loading the job's page (a warm tab
	// has it loaded already and is only handed the job).
	StagePageLoad Stage = "page_load"
	// StageReady: from the loaded page to its report (the picture is
	// ready, or the sketch failed): the sketch's own time, less the
	// in-page encoding.
	StageReady Stage = "ready"
	// StageCapture: taking the picture off the page: a js page's
	// screenshot, or decoding the PNG a p5 page sent.
	StageCapture Stage = "capture"
	// StageEncode: a p5 canvas's PNG encoding, timed in the page.
	StageEncode Stage = "encode"
	// StageUpload: uploading the outputs (or keeping an inline output in
	// Redis).
	StageUpload Stage = "upload"
	// StageVerify: waiting until the CDN serves the uploads.
	StageVerify Stage = "verify"
)

// Stages lists every [Stage] in job order.
var Stages = []Stage{StageBrowserAcquire, StagePageLoad, StageReady, StageCapture, StageEncode, StageUpload, StageVerify}

// StageTimes collects the durations of one job's stages. It is safe for
// concurrent use; the zero value is ready.
type StageTimes struct {
	mu sync.Mutex
	d  map[Stage]time.Duration
}

// Add adds d to stage (a stage may run more than once, e.g. one upload
// per output).
func (s *StageTimes) Add(stage Stage, d time.Duration) {
	if d < 0 {
		d = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.d == nil {
		s.d = map[Stage]time.Duration{}
	}
	s.d[stage] += d
}

// Seconds returns the measured stages in seconds, keyed by name; nil when
// none was measured.
func (s *StageTimes) Seconds() map[string]float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.d) == 0 {
		return nil
	}
	out := make(map[string]float64, len(s.d))
	for k, v := range s.d {
		out[string(k)] = v.Seconds()
	}
	return out
}

type stagesKey struct{}

// WithStageTimes returns a context under which [RecordStage] adds to s.
// Like net/http/httptrace, it lets the renderer report its stages without
// widening its interface.
func WithStageTimes(ctx context.Context, s *StageTimes) context.Context {
	return context.WithValue(ctx, stagesKey{}, s)
}

// RecordStage adds d to stage in the [StageTimes] ctx carries, if any.
func RecordStage(ctx context.Context, stage Stage, d time.Duration) {
	if s, ok := ctx.Value(stagesKey{}).(*StageTimes); ok && s != nil {
		s.Add(stage, d)
	}
}

// StageSince records the time since start as stage; made for defer:
//
//	defer empplay.StageSince(ctx, empplay.StageBrowserAcquire, time.Now())
func StageSince(ctx context.Context, stage Stage, start time.Time) {
	RecordStage(ctx, stage, time.Since(start))
}
