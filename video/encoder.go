package video

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
)

// Format is the container and codec of a video job's output.
type Format string

// The formats a video job can ask for (its "format" field).
const (
	MP4  Format = "mp4"  // H.264 High, yuv420p, +faststart
	WebM Format = "webm" // VP9, yuv420p
	GIF  Format = "gif"  // 256 colours, palette made from every frame
)

// ParseFormat returns the format named s; "" is MP4.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case "", MP4:
		return MP4, nil
	case WebM, GIF:
		return Format(s), nil
	}
	return "", fmt.Errorf("video format %q is not mp4, webm or gif", s)
}

// Name is the format's name as people write it: MP4, WebM, GIF.
func (f Format) Name() string {
	switch f {
	case WebM:
		return "WebM"
	case GIF:
		return "GIF"
	}
	return "MP4"
}

// MimeType is the Content-Type the output is stored with.
func (f Format) MimeType() string {
	switch f {
	case WebM:
		return "video/webm"
	case GIF:
		return "image/gif"
	}
	return "video/mp4"
}

// Codec is the codec the page encodes the frames with for f: "vp9" for
// WebM, else "avc" (H.264, which GIF is made from).
func (f Format) Codec() string {
	if f == WebM {
		return "vp9"
	}
	return "avc"
}

// Options describes one video for [Start].
type Options struct {
	// FFmpeg is the ffmpeg binary; "" looks "ffmpeg" up in PATH.
	FFmpeg string
	Format Format
	// Width and Height are the size of the encoded frames.
	Width, Height int
	// OutWidth and OutHeight, when set, are the size of the picture: a GIF
	// is cropped to it (the page pads odd sizes to even ones, which H.264
	// needs; GIF does not). MP4 and WebM keep the padded size.
	OutWidth, OutHeight int
	// FPS is the frame rate: frame k is shown at k/FPS seconds.
	FPS float64
	// TempDir is where the work directory goes; "" is os.TempDir().
	TempDir string
	// MaxBytes caps the encoded frames written and the video made of
	// them (the GIF too): over it the video fails with output_too_large,
	// as soon as that is known. 0 is no limit.
	MaxBytes int64
}

// Result is a finished video.
type Result struct {
	Body     []byte
	MimeType string
	Width    int
	Height   int
	Frames   int
	// Duration is Frames/FPS, in seconds.
	Duration float64
}

// maxStderr is how much of ffmpeg's output is kept for error messages.
const maxStderr = 4 << 10

// waitDelay bounds how long an ffmpeg run's wait goes on after ffmpeg
// exited, or was killed, for its output pipe: a process it left behind
// (ffmpeg behind a wrapper script) may hold it open.
const waitDelay = 5 * time.Second

// Encoder streams one video's encoded frames into ffmpeg. Its methods are
// not safe for concurrent use; Close may be called from anywhere, also
// after Finish.
type Encoder struct {
	opts   Options
	ffmpeg string
	dir    string
	out    string

	cmd    *exec.Cmd
	cancel context.CancelFunc // kills cmd's process group if it still runs
	stdin  io.WriteCloser
	stderr *tail
	waited chan struct{}
	err    error // of cmd.Wait, set before waited closes

	ivf     *IVFWriter
	gifSrc  *os.File // GIF: the H.264 frames, muxed in Finish
	frames  int
	written int64 // bytes of the frames written

	closeOnce sync.Once
}

// Start checks ffmpeg and opts and starts the muxer. ctx bounds the whole
// encoding: when it ends, ffmpeg is killed. Call Close when done, whatever
// happened.
func Start(ctx context.Context, opts Options) (*Encoder, error) {
	if opts.Width <= 0 || opts.Height <= 0 || opts.FPS <= 0 || math.IsInf(opts.FPS, 0) || math.IsNaN(opts.FPS) {
		return nil, fmt.Errorf("video: bad options: %dx%d at %v fps", opts.Width, opts.Height, opts.FPS)
	}
	if opts.Format == "" {
		opts.Format = MP4
	}
	if _, err := ParseFormat(string(opts.Format)); err != nil {
		return nil, fmt.Errorf("video: %w", err)
	}
	if opts.OutWidth <= 0 || opts.OutHeight <= 0 {
		opts.OutWidth, opts.OutHeight = opts.Width, opts.Height
	}
	ffmpeg, err := LookFFmpeg(opts.FFmpeg)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(opts.TempDir, "empplay-video-")
	if err != nil {
		return nil, empplay.Transient(empplay.CodeEncoderError, fmt.Errorf("video: make a work directory: %w", err))
	}
	e := &Encoder{opts: opts, ffmpeg: ffmpeg, dir: dir, out: filepath.Join(dir, "out."+string(opts.Format))}
	if opts.Format == GIF {
		if e.gifSrc, err = os.Create(filepath.Join(dir, "frames.h264")); err != nil {
			_ = os.RemoveAll(dir)
			return nil, empplay.Transient(empplay.CodeEncoderError, fmt.Errorf("video: %w", err))
		}
		return e, nil
	}
	var args []string
	switch opts.Format {
	case MP4:
		args = []string{"-f", "h264", "-framerate", rate(opts.FPS), "-i", "pipe:0",
			"-c:v", "copy", "-movflags", "+faststart", "-fflags", "+bitexact", "-f", "mp4", e.out}
	case WebM:
		// bitexact: no random segment UID or muxing date, so the same
		// frames make the same file.
		args = []string{"-f", "ivf", "-i", "pipe:0", "-c:v", "copy", "-fflags", "+bitexact", "-f", "webm", e.out}
	}
	if err := e.startFFmpeg(ctx, args); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if opts.Format == WebM {
		num, den := timeBase(opts.FPS)
		if e.ivf, err = NewIVFWriter(e.stdin, "VP90", opts.Width, opts.Height, num, den); err != nil {
			e.Close()
			return nil, e.failure("write the IVF header", err)
		}
	}
	return e, nil
}

// LookFFmpeg returns the ffmpeg binary to run: path, or "ffmpeg" from PATH
// when path is "". Its error says how to install it.
func LookFFmpeg(path string) (string, error) {
	if path == "" {
		path = "ffmpeg"
	}
	p, err := exec.LookPath(path)
	if err != nil {
		return "", empplay.Transient(empplay.CodeEncoderError,
			fmt.Errorf("video: ffmpeg not found (%w); install it (apt-get install ffmpeg, or make setup)", err))
	}
	return p, nil
}

// startFFmpeg runs ffmpeg with args, in a process group of its own: when
// ctx ends or Close is called, the whole group is killed, so that a
// wrapper script (FFMPEG_PATH) and whatever it started go too and none of
// them keeps the output pipe, and with it the wait, open. Whatever the
// group still holds when ffmpeg has exited is killed as well.
func (e *Encoder) startFFmpeg(ctx context.Context, args []string) error {
	all := append([]string{"-hide_banner", "-nostdin", "-loglevel", "error", "-y"}, args...)
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, e.ffmpeg, all...)
	// Its own group, and die with the worker: the kernel kills ffmpeg
	// when the thread that started it ends, a backstop to the context.
	proc.OwnGroup(cmd)
	// exec.CommandContext kills only the leader by default.
	cmd.Cancel = func() error { return proc.KillGroup(cmd.Process.Pid) }
	cmd.WaitDelay = waitDelay
	e.stderr = &tail{max: maxStderr}
	cmd.Stderr = e.stderr
	cmd.Stdout = e.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return empplay.Transient(empplay.CodeEncoderError, fmt.Errorf("video: ffmpeg stdin: %w", err))
	}
	if err := cmd.Start(); err != nil {
		cancel()
		return empplay.Transient(empplay.CodeEncoderError, fmt.Errorf("video: start ffmpeg %s: %w", e.ffmpeg, err))
	}
	if e.cancel != nil {
		e.cancel() // the run before (the GIF's first pass), waited for
	}
	waited := make(chan struct{})
	e.cmd, e.cancel, e.stdin, e.waited = cmd, cancel, stdin, waited
	go func() {
		err := cmd.Wait()
		if errors.Is(err, exec.ErrWaitDelay) {
			// ffmpeg succeeded; something it left behind held its output.
			err = nil
		}
		_ = proc.KillGroup(cmd.Process.Pid) // whatever ffmpeg left in its group
		e.err = err
		close(waited)
	}()
	return nil
}

// WriteFrame hands ffmpeg the next encoded frame: one H.264 access unit
// (Annex B) or one VP9 frame.
func (e *Encoder) WriteFrame(frame []byte) error {
	if m := e.opts.MaxBytes; m > 0 && e.written+int64(len(frame)) > m {
		return e.tooLarge(fmt.Sprintf("at frame %d", e.frames))
	}
	var err error
	switch {
	case e.gifSrc != nil:
		_, err = e.gifSrc.Write(frame)
	case e.ivf != nil:
		err = e.ivf.WriteFrame(frame)
	default:
		_, err = e.stdin.Write(frame)
	}
	if err != nil {
		return e.failure(fmt.Sprintf("write frame %d", e.frames), err)
	}
	e.frames++
	e.written += int64(len(frame))
	return nil
}

// tooLarge is the permanent output_too_large failure of a video over
// MaxBytes, found when (at frame 812, with its 600 frames).
func (e *Encoder) tooLarge(when string) error {
	limit := fmt.Sprintf("%d bytes", e.opts.MaxBytes)
	if e.opts.MaxBytes%(1<<20) == 0 {
		limit = fmt.Sprintf("%d MiB", e.opts.MaxBytes>>20)
	}
	hint := "fine detail that changes in every frame, such as noise, costs the most"
	if e.opts.Format == GIF {
		hint = "a GIF keeps every pixel of every frame: an MP4 or WebM of it is many times smaller"
	}
	return empplay.Errorf(empplay.CodeOutputTooLarge,
		"output too large: the %s is over this worker's limit of %s per video (VIDEO_MAX_MB) %s; make it shorter, smaller or at a lower fps (%s)",
		e.opts.Format.Name(), limit, when, hint)
}

// Frames is the number of frames written so far.
func (e *Encoder) Frames() int { return e.frames }

// Finish ends the stream, waits for ffmpeg and returns the video. The
// Encoder must still be closed.
func (e *Encoder) Finish(ctx context.Context) (*Result, error) {
	if e.frames == 0 {
		return nil, empplay.Errorf(empplay.CodeEncoderError, "video: no frames to encode")
	}
	if e.gifSrc != nil {
		if err := e.gifSrc.Close(); err != nil {
			return nil, e.failure("write the frames", err)
		}
		if err := e.gif(ctx); err != nil {
			return nil, err
		}
	} else {
		if err := e.stdin.Close(); err != nil {
			return nil, e.failure("close ffmpeg's input", err)
		}
		select {
		case <-e.waited:
		case <-ctx.Done():
			return nil, fmt.Errorf("video: wait for ffmpeg: %w", ctx.Err())
		}
		if e.err != nil {
			return nil, e.failure("mux", e.err)
		}
	}
	// The muxer adds its own bytes, and a GIF is made anew: the file is
	// held to the limit before it is read.
	fi, err := os.Stat(e.out)
	if err != nil {
		return nil, e.failure("read the output", err)
	}
	if m := e.opts.MaxBytes; m > 0 && fi.Size() > m {
		return nil, e.tooLarge(fmt.Sprintf("with its %d frames", e.frames))
	}
	body, err := os.ReadFile(e.out)
	if err != nil {
		return nil, e.failure("read the output", err)
	}
	w, h := e.opts.Width, e.opts.Height
	if e.opts.Format == GIF {
		w, h = e.opts.OutWidth, e.opts.OutHeight
	}
	return &Result{
		Body: body, MimeType: e.opts.Format.MimeType(), Width: w, Height: h,
		Frames: e.frames, Duration: float64(e.frames) / e.opts.FPS,
	}, nil
}

// gif makes the GIF from the H.264 frames: a palette from all of them,
// then the frames mapped onto it, cropped to the picture size.
func (e *Encoder) gif(ctx context.Context) error {
	src := filepath.Join(e.dir, "frames.h264")
	palette := filepath.Join(e.dir, "palette.png")
	// The frames are BT.709 limited range (what the page encodes);
	// convert them to RGB explicitly rather than trusting a default.
	pre := fmt.Sprintf("scale=in_color_matrix=bt709:in_range=tv:out_range=pc,format=rgb24,crop=%d:%d:0:0",
		e.opts.OutWidth, e.opts.OutHeight)
	in := []string{"-f", "h264", "-framerate", rate(e.opts.FPS), "-i", src}
	var limit []string
	if e.opts.MaxBytes > 0 {
		// ffmpeg stops soon after the GIF passes the limit; Finish finds
		// it over.
		limit = []string{"-fs", strconv.FormatInt(e.opts.MaxBytes, 10)}
	}
	passes := [][]string{
		append(append([]string{}, in...), "-vf", pre+",palettegen=stats_mode=full", palette),
		append(append(append([]string{}, in...), "-i", palette, "-lavfi", "[0:v]"+pre+"[v];[v][1:v]paletteuse=dither=sierra2_4a",
			"-loop", "0", "-fflags", "+bitexact"), append(limit, "-f", "gif", e.out)...),
	}
	for i, args := range passes {
		if err := e.startFFmpeg(ctx, args); err != nil {
			return err
		}
		_ = e.stdin.Close()
		select {
		case <-e.waited:
		case <-ctx.Done():
			return fmt.Errorf("video: wait for ffmpeg: %w", ctx.Err())
		}
		if e.err != nil {
			return e.failure(fmt.Sprintf("make the GIF (pass %d)", i+1), e.err)
		}
	}
	return nil
}

// failure is an encoder_error for what failed, with ffmpeg's last words.
func (e *Encoder) failure(what string, err error) error {
	msg := fmt.Sprintf("video: ffmpeg: %s: %v", what, err)
	if e.waited != nil {
		// A write fails because ffmpeg died: its exit says why.
		select {
		case <-e.waited:
			if e.err != nil && !errors.Is(err, e.err) {
				msg += fmt.Sprintf(" (ffmpeg: %v)", e.err)
			}
		default:
		}
	}
	if e.stderr != nil {
		if s := strings.TrimSpace(e.stderr.String()); s != "" {
			msg += ": " + s
		}
	}
	return &empplay.Error{Code: empplay.CodeEncoderError, Msg: msg, Retryable: true, Err: err}
}

// Close stops ffmpeg if it still runs and removes the work directory.
func (e *Encoder) Close() {
	e.closeOnce.Do(func() {
		if e.gifSrc != nil {
			_ = e.gifSrc.Close()
		}
		if e.cmd != nil {
			_ = e.stdin.Close()
			e.cancel() // kills ffmpeg's group if it still runs (see startFFmpeg)
			<-e.waited
		}
		_ = os.RemoveAll(e.dir)
	})
}

// rate is fps as ffmpeg reads a frame rate.
func rate(fps float64) string {
	num, den := timeBase(fps)
	return strconv.FormatUint(uint64(den), 10) + "/" + strconv.FormatUint(uint64(num), 10)
}

// timeBase is the duration of one frame as num/den seconds: 1/fps for a
// whole fps, 1000/(fps*1000) otherwise.
func timeBase(fps float64) (num, den uint32) {
	if fps == math.Trunc(fps) {
		return 1, uint32(fps)
	}
	return 1000, uint32(math.Round(fps * 1000))
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.buf, nil))
}
