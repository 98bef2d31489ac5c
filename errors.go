package empplay

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable reason a job failed. Producers switch
// on it; the values never change meaning once released.
type Code string

// Error codes carried in [Result.ErrorCode]. The README lists them with the
// action a producer should take.
const (
	// Bad input: the job can never succeed as sent.
	CodeInvalidJSON    Code = "invalid_json"      // the payload is not a JSON object
	CodeUnknownType    Code = "unknown_type"      // type is not p5, js or video
	CodeMissingField   Code = "missing_field"     // a required field is absent or empty
	CodeInvalidField   Code = "invalid_field"     // a field has the wrong JSON type or an invalid value
	CodeSizeOutOfRange Code = "size_out_of_range" // width/height outside the allowed range
	CodeCodeTooLarge   Code = "code_too_large"    // code/html/css/javascript over the size limit
	CodeInvalidBucket  Code = "invalid_bucket"    // not a container name Azure accepts
	CodeInvalidPath    Code = "invalid_path"      // prefix/filename is not a safe blob name
	CodeUnsupported    Code = "unsupported"       // a valid job this worker cannot render yet

	// The sketch itself failed.
	CodeSketchError      Code = "sketch_error"      // uncaught exception or rejection in the sketch
	CodeRenderTimeout    Code = "render_timeout"    // the sketch did not finish drawing before the deadline
	CodeNoCanvas         Code = "no_canvas"         // the sketch never created a canvas
	CodeBlankCanvas      Code = "blank_canvas"      // every pixel of the picture is the same colour (or transparent)
	CodeMissingAddon     Code = "missing_addon"     // the sketch uses a p5 add-on or library that is not loaded (p5.sound, ml5, ...)
	CodeNoWebGL          Code = "webgl_unavailable" // the browser could not create the WebGL context the sketch asked for
	CodeNetworkBlocked   Code = "network_blocked"   // the sketch failed after a request that was blocked (sketches run offline)
	CodeAssetUnavailable Code = "asset_unavailable" // a file the job declared (or a component output) could not be fetched
	CodeMemoryLimit      Code = "memory_limit"      // the sketch used more memory than the worker allows one job
	CodeOutputTooLarge   Code = "output_too_large"  // the output (a video, an inline job's file) is over its size limit

	// Infrastructure: usually transient.
	CodeBrowserError Code = "browser_error" // Chromium crashed or the DevTools connection failed
	CodeStorageError Code = "storage_error" // the upload to Azure Blob Storage failed
	CodeCDNError     Code = "cdn_error"     // the CDN did not serve the uploaded file in time
	CodeEncoderError Code = "encoder_error" // ffmpeg is missing or failed to make a video
	CodeInternal     Code = "internal_error"

	// No GPU could render a job with requireGPU: it reached a worker that
	// renders on the CPU (no GPU worker was alive), or a GPU worker whose
	// browser drew it in software. Retryable: another attempt may find a
	// GPU worker.
	CodeGPUUnavailable Code = "gpu_unavailable"

	// The queue gave up on the job.
	CodeMaxAttempts Code = "max_attempts" // claimed too often without finishing (it crashes its worker or browser)
)

// Error is a job failure with a stable [Code] and a message meant for the
// person who wrote the job. Retryable tells the queue whether another
// attempt could succeed.
type Error struct {
	Code      Code
	Msg       string
	Retryable bool
	Err       error // underlying cause, for logs; may be nil
}

func (e *Error) Error() string {
	switch {
	case e.Msg != "":
		return e.Msg
	case e.Err != nil:
		return e.Err.Error()
	}
	return string(e.Code)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns a permanent job failure with code and a formatted message.
// A %w verb wraps the cause as usual; with several, the error wraps them
// all (as [errors.Join] does), so [errors.Is] and [errors.As] find each.
func Errorf(code Code, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Msg: err.Error(), Err: causes(err)}
}

// causes returns what err, made by fmt.Errorf, wraps: nil for no %w, the
// cause itself for one, and the causes joined for several.
func causes(err error) error {
	switch u := err.(type) {
	case interface{ Unwrap() []error }:
		return errors.Join(u.Unwrap()...)
	case interface{ Unwrap() error }:
		return u.Unwrap()
	}
	return nil
}

// Transient wraps err as a retryable failure with code.
func Transient(code Code, err error) error {
	return &Error{Code: code, Retryable: true, Err: err}
}

// ErrorCode returns the [Code] of the first [*Error] in err's chain, or
// [CodeInternal] when there is none.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// IsRetryable reports whether another attempt at the job could succeed.
// Unclassified errors are retryable: a bug in empplay should not fail a
// job forever.
func IsRetryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable
	}
	return true
}
