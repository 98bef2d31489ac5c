package empplay

import "time"

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
}

// Timings are the milliseconds each phase of the job took.
type Timings struct {
	QueuedMs float64 `json:"queuedMs,omitempty"` // from first claim of this payload to pickup, when known
	RenderMs float64 `json:"renderMs,omitempty"` // page set-up, sketch run and capture
	UploadMs float64 `json:"uploadMs,omitempty"`
	VerifyMs float64 `json:"verifyMs,omitempty"` // CDN verification
	TotalMs  float64 `json:"totalMs"`            // pickup to result
}

// Failed builds the failed result for err.
func Failed(id string, err error) *Result {
	return &Result{
		ID:        id,
		Success:   false,
		Error:     err.Error(),
		ErrorCode: ErrorCode(err),
		Retryable: IsRetryable(err),
	}
}

// Ms converts a duration to fractional milliseconds for [Timings].
func Ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
