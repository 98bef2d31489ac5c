package empplay

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Job types, the `type` field of the wire format.
const (
	TypeP5    = "p5"
	TypeJS    = "js"
	TypeVideo = "video"
)

// Clocks a p5 or js page runs on (Job.Clock).
const (
	ClockVirtual = "virtual" // frames back to back, time exactly 1/frameRate per frame
	ClockReal    = "real"    // the machine's own clock
)

// Output types of a js job.
const (
	OutputPNG  = "png"
	OutputHTML = "html"
	OutputBoth = "both"
)

// Limits applied by [Parse]. They protect the worker, not the artist: a job
// over them fails at once with a clear error instead of exhausting memory.
const (
	MinSize      = 1
	MaxSize      = 4096    // pixels per side
	MaxCodeBytes = 2 << 20 // per code/html/css/javascript field
	MaxJobBytes  = 8 << 20 // the whole payload
	maxBlobName  = 1024    // Azure's limit on a blob name
	maxIDLen     = 200     // an id is part of Redis keys

	MaxDeviceScaleFactor = 4
	MaxOutputSide        = 8192   // pixels per side of the output: size x deviceScaleFactor
	MaxCaptureFrames     = 100000 // captureFrames
	MaxCaptureDelayMs    = 600000 // captureDelayMs
	maxSelectorLen       = 500

	// MaxInlineBytes caps the output of an inline job: a bigger one fails
	// with output_too_large instead of filling Redis.
	MaxInlineBytes = 64 << 20
)

// Limits of a video job, applied by [Parse] (see [Job.CheckVideo]).
const (
	DefaultVideoFPS  = 30
	MinVideoFPS      = 1
	MaxVideoFPS      = 60
	MaxVideoDuration = 120  // seconds
	MaxVideoFrames   = 3600 // duration x fps
	MaxVideoPixels   = 3840 * 2160
	MaxGIFFPS        = 50 // browsers slow down GIF frames shorter than 2/100 s
	MaxGIFFrames     = 600
)

// Video formats, the `format` field of a video job.
const (
	FormatMP4  = "mp4"
	FormatWebM = "webm"
	FormatGIF  = "gif"
)

// Job is one render request as producers push it onto the queue. The JSON
// names are the platform's (camelCase) and are fixed; unknown fields are
// ignored. Fields after the comment "extensions" are empplay's own optional
// additions.
type Job struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Bucket   string `json:"bucket"`
	Prefix   string `json:"prefix"`
	Filename string `json:"filename"`

	// p5 and video
	Code string `json:"code,omitempty"`
	// p5
	UsesWebGL          bool           `json:"usesWebGL,omitempty"`
	GPUComplexity      string         `json:"gpuComplexity,omitempty"`
	EstimatedGPUMemory *float64       `json:"estimatedGPUMemory,omitempty"`
	Context            *SketchContext `json:"context,omitempty"`
	// js
	HTML       string `json:"html,omitempty"`
	CSS        string `json:"css,omitempty"`
	JavaScript string `json:"javascript,omitempty"`
	OutputType string `json:"outputType,omitempty"`
	// video
	Duration float64 `json:"duration,omitempty"` // seconds
	FPS      float64 `json:"fps,omitempty"`      // frames per second; 0 means DefaultVideoFPS
	Format   string  `json:"format,omitempty"`   // extension: mp4 (default), webm or gif

	// extensions
	P5Version string `json:"p5Version,omitempty"` // "1" (default) or "2"
	// When the picture is taken (p5 and js; see render's package doc). At
	// most one of CaptureFrames and CaptureDelayMs.
	CaptureFrames   int    `json:"captureFrames,omitempty"`   // p5: after the draw() that ends frame N
	CaptureDelayMs  int    `json:"captureDelayMs,omitempty"`  // this long after setup() (p5) or the load event (js)
	CaptureSelector string `json:"captureSelector,omitempty"` // p5: CSS selector of the canvas to capture
	// DeviceScaleFactor is window.devicePixelRatio (and so p5's default
	// pixelDensity): 1 (the default) to MaxDeviceScaleFactor. The PNG is
	// width x height times it.
	DeviceScaleFactor float64 `json:"deviceScaleFactor,omitempty"`
	// AllowBlank accepts a picture whose pixels are all the same colour,
	// which otherwise fails with blank_canvas.
	AllowBlank bool   `json:"allowBlank,omitempty"`
	TimeoutMs  int    `json:"timeoutMs,omitempty"` // per-job render deadline; capped by the worker's BROWSER_TIMEOUT
	ReplyTo    string `json:"replyTo,omitempty"`   // a Redis list the result is also pushed to
	// Inline keeps the main output in Redis for a short while (see
	// [MaxInlineBytes]) instead of uploading it: the HTTP API's way of
	// returning the bytes without a round trip through Blob Storage.
	Inline bool `json:"inline,omitempty"`
	// RequireGPU: the job must never be rendered on the CPU; with no GPU
	// to draw it, it fails with [CodeGPUUnavailable] (retryable) instead.
	RequireGPU bool `json:"requireGPU,omitempty"`
	// Assets maps a name the code uses (a relative path such as
	// "data/tile.png", a site-absolute path such as "/fonts/Inter.otf", or
	// a full URL) to the http(s) URL the worker fetches it from. See
	// jobassets.go.
	Assets map[string]string `json:"assets,omitempty"`
	// Clock is the time a p5 or js page runs on: ClockVirtual (the
	// default, "") or ClockReal. See render's package doc, "Time".
	Clock string `json:"clock,omitempty"`

	// Raw is the exact payload the job was parsed from.
	Raw []byte `json:"-"`
}

// SketchContext is what the sketch can read about the token it renders.
type SketchContext struct {
	Hash       string          `json:"hash,omitempty"`
	Variables  json.RawMessage `json:"variables,omitempty"`
	Components json.RawMessage `json:"components,omitempty"`
}

// BlobName is the blob the job's output is stored under, inside container
// [Job.Bucket]: prefix/filename, or filename alone when prefix is empty.
func (j *Job) BlobName() string {
	p := strings.Trim(j.Prefix, "/")
	if p == "" {
		return j.Filename
	}
	return p + "/" + j.Filename
}

// IDFor returns the id of the job whose payload is raw: the string `id`
// field when the payload has one, else the lowercase hex SHA-256 of the
// exact bytes pushed. A producer computes the same value over the bytes it
// LPUSHes, so it knows which result to wait for.
func IDFor(raw []byte) string {
	var probe struct {
		ID any `json:"id"`
	}
	if json.Unmarshal(raw, &probe) == nil {
		if s, ok := probe.ID.(string); ok && validID(s) {
			return s
		}
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func validID(s string) bool {
	if s == "" || len(s) > maxIDLen {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f || r == '{' || r == '}' {
			return false
		}
	}
	return true
}

// Parse decodes and validates one payload popped from the queue. The error
// is always an [*Error] with a stable code and a message that names the
// field at fault.
func Parse(raw []byte) (*Job, error) {
	if len(raw) > MaxJobBytes {
		return nil, Errorf(CodeCodeTooLarge, "job is %d bytes; the limit is %d", len(raw), MaxJobBytes)
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, Errorf(CodeInvalidJSON, "job is not a JSON object")
	}
	var j Job
	if err := json.Unmarshal(trimmed, &j); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, Errorf(CodeInvalidField, "field %q must be %s, got %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
		return nil, Errorf(CodeInvalidJSON, "job is not valid JSON: %v", err)
	}
	j.Raw = raw
	if !utf8.Valid(trimmed) {
		// encoding/json would quietly turn the bad bytes into U+FFFD and
		// hand the page code nobody wrote.
		return &j, invalidUTF8(trimmed)
	}
	if err := j.Validate(); err != nil {
		return &j, err
	}
	return &j, nil
}

// invalidUTF8 names the field of a JSON object whose bytes are not UTF-8.
func invalidUTF8(obj []byte) error {
	var fields map[string]json.RawMessage
	if json.Unmarshal(obj, &fields) == nil {
		names := make([]string, 0, len(fields))
		for name := range fields {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if !utf8.ValidString(name) {
				return Errorf(CodeInvalidField, "a field name is not valid UTF-8")
			}
			if !utf8.Valid(fields[name]) {
				return Errorf(CodeInvalidField, "field %q is not valid UTF-8", name)
			}
		}
	}
	return Errorf(CodeInvalidJSON, "job is not valid UTF-8")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "ptr":
		return "an object"
	}
	return "of another type"
}

// Validate checks everything a worker can know before rendering.
func (j *Job) Validate() error {
	if j.ID != "" && !validID(j.ID) {
		return Errorf(CodeInvalidField, "field \"id\" must be 1-%d printable characters without spaces or braces", maxIDLen)
	}
	switch j.Type {
	case "":
		return Errorf(CodeMissingField, "field \"type\" is required (p5, js or video)")
	case TypeP5, TypeJS, TypeVideo:
	default:
		return Errorf(CodeUnknownType, "unknown job type %q; want p5, js or video", j.Type)
	}
	if err := checkSize("width", j.Width); err != nil {
		return err
	}
	if err := checkSize("height", j.Height); err != nil {
		return err
	}
	if err := CheckBucket(j.Bucket); err != nil {
		return err
	}
	if err := CheckBlobPath(j.Prefix, j.Filename); err != nil {
		return err
	}
	switch j.Type {
	case TypeP5, TypeVideo:
		if strings.TrimSpace(j.Code) == "" {
			return Errorf(CodeMissingField, "field \"code\" is required for a %s job", j.Type)
		}
		if len(j.Code) > MaxCodeBytes {
			return Errorf(CodeCodeTooLarge, "field \"code\" is %d bytes; the limit is %d", len(j.Code), MaxCodeBytes)
		}
	case TypeJS:
		if j.HTML == "" && j.JavaScript == "" {
			return Errorf(CodeMissingField, "a js job needs \"html\" or \"javascript\"")
		}
		for name, v := range map[string]string{"html": j.HTML, "css": j.CSS, "javascript": j.JavaScript} {
			if len(v) > MaxCodeBytes {
				return Errorf(CodeCodeTooLarge, "field %q is %d bytes; the limit is %d", name, len(v), MaxCodeBytes)
			}
		}
		switch j.OutputType {
		case "", OutputPNG, OutputHTML, OutputBoth:
		default:
			return Errorf(CodeInvalidField, "field \"outputType\" must be png, html or both, got %q", j.OutputType)
		}
	}
	if j.Type == TypeVideo {
		if err := j.CheckVideo(); err != nil {
			return err
		}
	}
	switch j.GPUComplexity {
	case "", "low", "medium", "high":
	default:
		return Errorf(CodeInvalidField, "field \"gpuComplexity\" must be low, medium or high, got %q", j.GPUComplexity)
	}
	switch j.P5Version {
	case "", "1", "2":
	default:
		return Errorf(CodeInvalidField, "field \"p5Version\" must be \"1\" or \"2\", got %q", j.P5Version)
	}
	if len(j.ReplyTo) > 512 {
		return Errorf(CodeInvalidField, "field \"replyTo\" is longer than 512 bytes")
	}
	if j.TimeoutMs < 0 {
		return Errorf(CodeInvalidField, "field \"timeoutMs\" must not be negative")
	}
	if err := j.checkAssets(); err != nil {
		return err
	}
	switch j.Clock {
	case "", ClockVirtual:
	case ClockReal:
		if j.Type == TypeVideo {
			return Errorf(CodeInvalidField, "field \"clock\" must be \"virtual\" for a video job: its frames are made on a virtual clock")
		}
	default:
		return Errorf(CodeInvalidField, "field \"clock\" must be \"virtual\" or \"real\", got %q", j.Clock)
	}
	return j.checkCapture()
}

// checkCapture checks the capture extension fields.
func (j *Job) checkCapture() error {
	switch {
	case j.CaptureFrames < 0 || j.CaptureFrames > MaxCaptureFrames:
		return Errorf(CodeInvalidField, "field \"captureFrames\" must be 1-%d, got %d", MaxCaptureFrames, j.CaptureFrames)
	case j.CaptureDelayMs < 0 || j.CaptureDelayMs > MaxCaptureDelayMs:
		return Errorf(CodeInvalidField, "field \"captureDelayMs\" must be 0-%d, got %d", MaxCaptureDelayMs, j.CaptureDelayMs)
	case j.CaptureFrames > 0 && j.CaptureDelayMs > 0:
		return Errorf(CodeInvalidField, "fields \"captureFrames\" and \"captureDelayMs\" are exclusive: give one")
	case j.CaptureFrames > 0 && j.Type != TypeP5:
		return Errorf(CodeInvalidField, "field \"captureFrames\" is for p5 jobs")
	case len(j.CaptureSelector) > maxSelectorLen:
		return Errorf(CodeInvalidField, "field \"captureSelector\" is longer than %d bytes", maxSelectorLen)
	case j.CaptureSelector != "" && j.Type != TypeP5:
		return Errorf(CodeInvalidField, "field \"captureSelector\" is for p5 jobs")
	case j.DeviceScaleFactor != 0 && (j.DeviceScaleFactor < 1 || j.DeviceScaleFactor > MaxDeviceScaleFactor):
		return Errorf(CodeInvalidField, "field \"deviceScaleFactor\" must be 1-%d, got %v", MaxDeviceScaleFactor, j.DeviceScaleFactor)
	}
	if f := j.ScaleFactor(); float64(j.Width)*f > MaxOutputSide || float64(j.Height)*f > MaxOutputSide {
		return Errorf(CodeSizeOutOfRange, "%dx%d at device scale factor %v is over %d pixels per side", j.Width, j.Height, f, MaxOutputSide)
	}
	return nil
}

// ScaleFactor is the job's device scale factor: DeviceScaleFactor, or 1.
func (j *Job) ScaleFactor() float64 {
	if j.DeviceScaleFactor == 0 {
		return 1
	}
	return j.DeviceScaleFactor
}

// VideoFPS is the frame rate of a video job: FPS, or DefaultVideoFPS when
// it is not set.
func (j *Job) VideoFPS() float64 {
	if j.FPS == 0 {
		return DefaultVideoFPS
	}
	return j.FPS
}

// VideoFrames is the number of frames of a video job: duration x fps,
// rounded to the nearest whole frame.
func (j *Job) VideoFrames() int {
	return int(math.Round(j.Duration * j.VideoFPS()))
}

// VideoFrameBudget is the render time a video job gets per frame on top
// of the render deadline of a still image (see [Job.RenderTimeout]): it
// allows for a machine that records 10 frames a second. A GIF gets
// GIFFrameBudget: its frames are decoded twice more and dithered.
const (
	VideoFrameBudget = 100 * time.Millisecond
	GIFFrameBudget   = 300 * time.Millisecond
)

// RenderTimeout is the render deadline of the job given base, the deadline
// of a still image: base for p5 and js jobs, base plus VideoFrameBudget
// (GIFFrameBudget) per frame for a video, so that a long video gets the
// time it needs.
func (j *Job) RenderTimeout(base time.Duration) time.Duration {
	if j.Type != TypeVideo {
		return base
	}
	per := VideoFrameBudget
	if j.Format == FormatGIF {
		per = GIFFrameBudget
	}
	return base + time.Duration(j.VideoFrames())*per
}

// CheckVideo checks the fields of a video job: duration, fps, format and
// the limits on frames and picture size.
func (j *Job) CheckVideo() error {
	if j.Duration == 0 {
		return Errorf(CodeMissingField, "field \"duration\" is required for a video job (seconds)")
	}
	if math.IsNaN(j.Duration) || j.Duration < 0 || j.Duration > MaxVideoDuration {
		return Errorf(CodeInvalidField, "field \"duration\" is %v; it must be more than 0 and at most %d seconds", j.Duration, MaxVideoDuration)
	}
	fps := j.VideoFPS()
	if math.IsNaN(fps) || fps < MinVideoFPS || fps > MaxVideoFPS {
		return Errorf(CodeInvalidField, "field \"fps\" is %v; it must be between %d and %d", j.FPS, MinVideoFPS, MaxVideoFPS)
	}
	// fps x 1000 must be whole, up to the float64 error of the product
	// (1.001 x 1000 is 1000.9999999999999).
	if m := fps * 1000; math.Abs(m-math.Round(m)) > 1e-6 {
		return Errorf(CodeInvalidField, "field \"fps\" is %v; it may have at most 3 decimals", j.FPS)
	}
	n := j.VideoFrames()
	if n < 1 {
		return Errorf(CodeInvalidField, "duration %vs at %v fps is less than one frame", j.Duration, fps)
	}
	if n > MaxVideoFrames {
		return Errorf(CodeInvalidField, "duration %vs at %v fps is %d frames; the limit is %d", j.Duration, fps, n, MaxVideoFrames)
	}
	if j.Width*j.Height > MaxVideoPixels {
		return Errorf(CodeSizeOutOfRange, "a video of %dx%d is %d pixels a frame; the limit is %d (3840x2160)", j.Width, j.Height, j.Width*j.Height, MaxVideoPixels)
	}
	switch j.Format {
	case "", FormatMP4, FormatWebM:
	case FormatGIF:
		if fps > MaxGIFFPS {
			return Errorf(CodeInvalidField, "field \"fps\" is %v; a GIF can have at most %d", fps, MaxGIFFPS)
		}
		if n > MaxGIFFrames {
			return Errorf(CodeInvalidField, "a GIF of %d frames is over the limit of %d", n, MaxGIFFrames)
		}
	default:
		return Errorf(CodeInvalidField, "field \"format\" must be mp4, webm or gif, got %q", j.Format)
	}
	return nil
}

func checkSize(name string, v int) error {
	if v == 0 {
		return Errorf(CodeMissingField, "field %q is required", name)
	}
	if v < MinSize || v > MaxSize {
		return Errorf(CodeSizeOutOfRange, "field %q is %d; it must be between %d and %d", name, v, MinSize, MaxSize)
	}
	return nil
}

// CheckBucket reports whether name is a container name Azure accepts:
// 3-63 characters of lowercase letters, digits and single hyphens, starting
// and ending with a letter or digit.
func CheckBucket(name string) error {
	if name == "" {
		return Errorf(CodeMissingField, "field \"bucket\" is required")
	}
	bad := func(why string) error {
		return Errorf(CodeInvalidBucket, "bucket %q is not a valid container name: %s", name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("it must be 3-63 characters long")
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r == '-':
			if i == 0 || i == len(name)-1 {
				return bad("it must start and end with a letter or digit")
			}
			if name[i-1] == '-' {
				return bad("it must not contain consecutive hyphens")
			}
		default:
			return bad("only lowercase letters, digits and hyphens are allowed")
		}
	}
	return nil
}

// CheckBlobPath reports whether prefix and filename make a safe blob name:
// no "." or ".." segments, no absolute path, no backslashes, no control or
// invalid UTF-8 characters, a filename without slashes, and a total length
// Azure accepts.
func CheckBlobPath(prefix, filename string) error {
	if filename == "" {
		return Errorf(CodeMissingField, "field \"filename\" is required")
	}
	for _, f := range []struct{ name, v string }{{"prefix", prefix}, {"filename", filename}} {
		if !utf8.ValidString(f.v) {
			return Errorf(CodeInvalidPath, "field %q is not valid UTF-8", f.name)
		}
		for _, r := range f.v {
			if unicode.IsControl(r) {
				return Errorf(CodeInvalidPath, "field %q contains a control character (%U)", f.name, r)
			}
		}
		if strings.Contains(f.v, `\`) {
			return Errorf(CodeInvalidPath, "field %q must not contain backslashes", f.name)
		}
		if strings.HasPrefix(f.v, "/") {
			return Errorf(CodeInvalidPath, "field %q must be relative, not start with /", f.name)
		}
		for _, seg := range strings.Split(f.v, "/") {
			if seg == "." || seg == ".." {
				return Errorf(CodeInvalidPath, "field %q must not contain . or .. segments", f.name)
			}
		}
	}
	if strings.Contains(filename, "/") {
		return Errorf(CodeInvalidPath, "field \"filename\" must not contain /; put directories in \"prefix\"")
	}
	if strings.Contains(prefix, "//") {
		return Errorf(CodeInvalidPath, "field \"prefix\" must not contain empty segments (//)")
	}
	if n := len(strings.Trim(prefix, "/")) + 1 + len(filename); n > maxBlobName {
		return Errorf(CodeInvalidPath, "prefix/filename is %d bytes; Azure allows %d", n, maxBlobName)
	}
	return nil
}

// String is a short description for logs.
func (j *Job) String() string {
	return fmt.Sprintf("%s %dx%d %s/%s", j.Type, j.Width, j.Height, j.Bucket, j.BlobName())
}
