package empplay

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Result is the outcome of one job: the platform's JobResult
// ({success, src?, htmlSrc?, mimeType?, error?}) plus empplay's extension
// fields. Exactly one Result is stored per job id.
type Result struct {
	Success  bool   `json:"success"`
	Src      string `json:"src,omitempty"`
	HTMLSrc  string `json:"htmlSrc,omitempty"`
	MimeType string `json:"mimeType,omitempty"`
	Error    string `json:"error,omitempty"`

	ID        string `json:"id"`
	ErrorCode Code   `json:"errorCode,omitempty"`
	Retryable bool   `json:"retryable,omitempty"` // the failure was transient but attempts ran out
	Attempts  int    `json:"attempts,omitempty"`
	Type      string `json:"type,omitempty"`
	Worker    string `json:"worker,omitempty"`
	Bytes     int64  `json:"bytes,omitempty"`
	SHA256    string `json:"sha256,omitempty"` // of the uploaded output
	// Inline is true when the output was kept in Redis instead of
	// uploaded (the job's "inline"); src is empty then.
	Inline  bool   `json:"inline,omitempty"`
	Width   int    `json:"width,omitempty"` // of the output image, in pixels
	Height  int    `json:"height,omitempty"`
	Trigger string `json:"trigger,omitempty"` // what told the renderer the picture was ready
	// TriggerMs is when the trigger fired, in milliseconds from the start
	// of the job's code (virtual time on the virtual clock).
	TriggerMs float64 `json:"triggerMs,omitempty"`
	// Frame is the still's frame (see [Output.Frame]).
	Frame    int    `json:"frame,omitempty"`
	Renderer string `json:"renderer,omitempty"`
	// Blank: the picture is one colour throughout (see [Output.Blank]).
	Blank bool `json:"blank,omitempty"`
	// Warnings are the sketch's errors that did not stop it (see
	// [Output.Warnings]); the job still succeeded.
	Warnings  []string `json:"warnings,omitempty"`
	PosterSrc string   `json:"posterSrc,omitempty"` // video: the poster frame, a PNG beside the video
	Duration  float64  `json:"duration,omitempty"`  // video: length in seconds
	Frames    int      `json:"frames,omitempty"`    // video: number of frames
	Timings   Timings  `json:"timings"`
	// FinishedAt is when the worker wrote the result.
	FinishedAt time.Time `json:"finishedAt"`

	// Cause is what failed underneath a failure whose message says it in
	// the artist's words (an [*Error] with both a message and a cause),
	// for the worker's log. It is never stored or sent.
	Cause string `json:"-"`
}

// Timings are the milliseconds each phase of the job took.
type Timings struct {
	QueuedMs float64 `json:"queuedMs,omitempty"` // from when the queue first saw the payload to this pickup, when known
	RenderMs float64 `json:"renderMs,omitempty"` // page set-up, sketch run and capture
	UploadMs float64 `json:"uploadMs,omitempty"`
	VerifyMs float64 `json:"verifyMs,omitempty"` // CDN verification
	TotalMs  float64 `json:"totalMs"`            // pickup to result
	// AssetHits and AssetMisses count the files the job loaded (declared
	// assets, component outputs) that came from the worker's cache and
	// from the network.
	AssetHits   int `json:"assetHits,omitempty"`
	AssetMisses int `json:"assetMisses,omitempty"`
}

// Failed builds the failed result for err.
func Failed(id string, err error) *Result {
	r := &Result{
		ID:        id,
		Success:   false,
		Error:     err.Error(),
		ErrorCode: ErrorCode(err),
		Retryable: IsRetryable(err),
	}
	var e *Error
	if errors.As(err, &e) && e.Msg != "" && e.Err != nil && e.Err.Error() != e.Msg {
		r.Cause = e.Err.Error()
	}
	return r
}

// Ms converts a duration to fractional milliseconds for [Timings].
func Ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

// MaxResultBytes bounds a [Result] as stored in Redis (see
// [Result.Limit]): results are read by every producer, often many at once.
const MaxResultBytes = 64 << 10

// Limits of the parts of a [Result] a job's code decides (see
// [Result.Limit]).
const (
	maxResultError    = 8 << 10 // bytes of the error message
	maxResultWarnings = 25      // warnings kept, a note of the dropped ones included
	maxResultWarning  = 1 << 10 // bytes of one warning
	maxResultField    = 256     // bytes of renderer and trigger
)

// Limit bounds what a job's code put in r, so that its JSON stays well
// under limit bytes (MaxResultBytes when limit <= 0): the error message, each
// warning, the renderer and trigger are cut (marked "..."), and warnings
// past a count (then, if need be, from the end until r fits) are dropped,
// with a last warning that says how many were. It returns whether it
// changed r.
func (r *Result) Limit(limit int) bool {
	if limit <= 0 {
		limit = MaxResultBytes
	}
	changed := false
	cut := func(s *string, n int) {
		if t := Truncate(*s, n); t != *s {
			*s, changed = t, true
		}
	}
	cut(&r.Error, maxResultError)
	cut(&r.Renderer, maxResultField)
	cut(&r.Trigger, maxResultField)
	for i := range r.Warnings {
		cut(&r.Warnings[i], maxResultWarning)
	}
	dropped := 0
	if n := len(r.Warnings); n > maxResultWarnings {
		dropped = n - (maxResultWarnings - 1)
		r.Warnings = r.Warnings[:maxResultWarnings-1]
	}
	for len(r.Warnings) > 0 && r.size(dropped) > limit {
		r.Warnings = r.Warnings[:len(r.Warnings)-1]
		dropped++
	}
	if dropped > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%d more warnings were dropped", dropped))
		changed = true
	}
	// Left: the error message alone (8 KiB) and the fixed fields, which
	// cannot come near the limit; cut the error further only if they do.
	for r.size(0) > limit && len(r.Error) > 64 {
		r.Error, changed = Truncate(r.Error, len(r.Error)/2), true
	}
	return changed
}

// size is the length of r's JSON, with room for a note of dropped
// warnings when dropped > 0.
func (r *Result) size(dropped int) int {
	b, err := json.Marshal(r)
	if err != nil {
		return 0
	}
	if dropped > 0 {
		return len(b) + 64
	}
	return len(b)
}

// Truncate cuts s to at most n bytes on a character boundary, marking the
// cut with "...".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := max(n-3, 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
