package render

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/render/js"
	"github.com/empplay/empplay/video"
)

// TriggerVideo is the trigger of a video job's output.
const TriggerVideo = "video"

// Settings of the video page (see video.js).
const (
	// videoBinding is the DevTools binding a video page reports through.
	videoBinding = "__empplayVideo"
	// videoTakenName is video.js's function the recorder calls with the
	// bytes it has handled, which the page's frames wait for (see
	// recording.listen).
	videoTakenName = "__empplayVideoTaken"
	// videoInFlight is how many frames may wait for the encoder.
	videoInFlight = 4
	// videoYieldEvery makes the driver give the page's own tasks a turn
	// every few frames even when the encoder keeps up.
	videoYieldEvery = 8
	// keyframeSeconds is the distance between keyframes (for seeking).
	keyframeSeconds = 2
	// BitsPerPixel is the default bitrate of MP4 and WebM, in bits per
	// pixel per frame: 0.2 is 3.8 Mbit/s at 800x800 and 30 fps, where
	// WebCodecs' H.264 matched libx264's defaults in SSIM on the
	// benchmark sketch (see scripts/bench-video.sh).
	BitsPerPixel = 0.2
	// gifBitsPerPixel is the bitrate of the H.264 a GIF is made from: high,
	// since it is encoded once more.
	gifBitsPerPixel = 1.0
)

// VideoOptions tunes [Browser.RenderVideo]. The zero value is what
// [Browser.Render] uses.
type VideoOptions struct {
	// FFmpeg is the ffmpeg binary; "" finds "ffmpeg" in PATH.
	FFmpeg string
	// TempDir holds the encoder's work directory; "" is os.TempDir().
	TempDir string
	// Bitrate of MP4 and WebM in bits per second; 0 is BitsPerPixel per
	// pixel per frame.
	Bitrate int
	// MaxBytes caps the video's size (see Options.VideoMaxBytes); 0 is
	// DefaultVideoMaxBytes.
	MaxBytes int64

	// queueMax is maxVideoQueue for tests; 0 is maxVideoQueue.
	queueMax int
}

// videoConfig is the settings video.js reads (the EMPPLAY_VIDEO_CONFIG
// marker).
type videoConfig struct {
	Binding   string `json:"binding"`
	TakenName string `json:"takenName"` // see videoTakenName
	// AheadBytes is how far the page may send ahead of what the recorder
	// has handled (see recording.listen).
	AheadBytes int    `json:"aheadBytes"`
	SketchURL  string `json:"sketchURL"`
	// token is the seeding and globals, as on a still image's page.
	token
	// Width and Height are the picture; CodedWidth and CodedHeight the
	// encoded frames (even, for H.264 and VP9 4:2:0).
	Width       int     `json:"width"`
	Height      int     `json:"height"`
	CodedWidth  int     `json:"codedWidth"`
	CodedHeight int     `json:"codedHeight"`
	FPS         float64 `json:"fps"`
	Frames      int     `json:"frames"`
	// Codec is the WebCodecs codec string ("avc1.640028", "vp09.00.41.08").
	Codec       string `json:"codec"`
	Bitrate     int    `json:"bitrate"`
	KeyEvery    int    `json:"keyEvery"`
	PosterFrame int    `json:"posterFrame"`
	InFlight    int    `json:"inFlight"`
	YieldEvery  int    `json:"yieldEvery"`
	// clockConfig is the virtual clock's settings (Date says clockEpoch
	// at the start of every video, so the same job gives the same frames).
	clockConfig
	NoSketchGraceMs  int64  `json:"noSketchGraceMs"`
	NoSketchTimersMs int64  `json:"noSketchTimersMs"`
	WorkerSource     string `json:"workerSource"`
}

// videoMessage is what video.js reports.
type videoMessage struct {
	Type         string `json:"type"`
	First        int    `json:"first"`
	Count        int    `json:"count"`
	Sizes        []int  `json:"sizes"`
	Keys         []bool `json:"keys"`
	Done         int    `json:"done"`
	Total        int    `json:"total"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	Frames       int    `json:"frames"`
	Renderer     string `json:"renderer"`
	CanvasWidth  int    `json:"canvasWidth"`
	CanvasHeight int    `json:"canvasHeight"`
	// Clash and PreloadIgnored: see message.
	Clash          []string `json:"clash"`
	PreloadIgnored bool     `json:"preloadIgnored"`
	// DriveMs and WaitMs: how long the page recorded, and how much of
	// that it waited for the encoder (real time, for debug logs).
	DriveMs float64 `json:"driveMs"`
	WaitMs  float64 `json:"waitMs"`
	// LoadWaitMs is how long frames waited for the page's loads.
	LoadWaitMs float64 `json:"loadWaitMs"`
	Message    string  `json:"message"`
	Line       int     `json:"line"`
	Frame      int     `json:"frame"`
}

// renderVideo is Render for a video job. The encoder's work directory goes
// under ProfileDir, beside the browser's profile: under the supervisor
// that is the worker's own directory, removed when the worker ends, so a
// worker killed mid-video leaves no frames behind.
func (b *Browser) renderVideo(ctx context.Context, job *empplay.Job) (*empplay.Output, error) {
	return b.RenderVideo(ctx, job, VideoOptions{FFmpeg: b.opts.FFmpegPath, TempDir: b.opts.ProfileDir, MaxBytes: b.opts.VideoMaxBytes})
}

// RenderVideo records a video job: its sketch runs on a virtual clock,
// frame by frame, each frame is encoded in the page as it is drawn and
// streamed into ffmpeg (see the package doc, "Video jobs"). The output is
// the video at the job's blob name, then the poster frame, a PNG, at
// [PosterName] of it. Progress goes to the [video.ProgressFunc] of ctx, if
// any. Errors are classified as Render's, plus encoder_error when ffmpeg is
// missing or fails.
func (b *Browser) RenderVideo(ctx context.Context, job *empplay.Job, opts VideoOptions) (*empplay.Output, error) {
	if job.Type != empplay.TypeVideo {
		return nil, empplay.Errorf(empplay.CodeUnsupported, "RenderVideo got a %q job", job.Type)
	}
	if err := checkSize(job); err != nil {
		return nil, err
	}
	if err := job.CheckVideo(); err != nil {
		return nil, err
	}
	format, err := video.ParseFormat(job.Format)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "%v", err)
	}
	if opts.FFmpeg, err = video.LookFFmpeg(opts.FFmpeg); err != nil {
		return nil, err
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultVideoMaxBytes
	}
	p5, err := b.p5.P5(job.P5Version)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	cfg := newVideoConfig(job, format, opts.Bitrate)
	if opts.queueMax > 0 {
		cfg.AheadBytes = opts.queueMax / 2
	}
	pg, err := newVideoPage(job, p5, cfg)
	if err != nil {
		return nil, err
	}
	pg.assets = newPageAssets(job, b.opts.Assets, b.opts.AssetLimits)

	b.jobMu.Lock()
	defer b.jobMu.Unlock()
	b.mu.Lock()
	b.next = pg.major // the next job probably looks like this one
	b.mu.Unlock()
	inst, tb, err := b.acquire(ctx, pg.major)
	if err != nil {
		return nil, err
	}
	b.background(func() { b.prewarm(inst) })
	// The recording adds a binding of its own to the tab: it is not
	// reused.
	tb.singleUse = true
	rec := &recording{tb: tb, job: job, cfg: cfg, format: format, opts: opts, mem: b.guardMemory(tb), widen: b.widen}
	ran := false
	defer func() {
		if !ran {
			// run panicked (the worker recovers): the memory guard
			// and the tab must not outlive the job.
			rec.mem.stop()
			b.finish(tb, nil, false)
		}
	}()
	out, broken, err := rec.run(ctx, pg, b.deadline(ctx, job))
	ran = true
	rec.mem.stop()
	b.finish(tb, broken, err == nil)
	if aerr := pg.assets.err(); aerr != nil && ctx.Err() == nil {
		return nil, aerr
	}
	if out != nil {
		out.AssetHits, out.AssetMisses = pg.assets.stats()
	}
	return out, err
}

// newVideoConfig is video.js's settings for job.
func newVideoConfig(job *empplay.Job, format video.Format, bitrate int) videoConfig {
	fps := job.VideoFPS()
	cfg := videoConfig{
		Binding: videoBinding, TakenName: videoTakenName, SketchURL: sketchPath,
		AheadBytes: maxVideoQueue / 2,
		token:      newToken(job),
		Width:      job.Width, Height: job.Height,
		CodedWidth: (job.Width + 1) &^ 1, CodedHeight: (job.Height + 1) &^ 1,
		FPS: fps, Frames: job.VideoFrames(),
		KeyEvery:    max(1, int(fps*keyframeSeconds)),
		InFlight:    videoInFlight,
		YieldEvery:  videoYieldEvery,
		clockConfig: newClock(nil),
		// The same grace the still-image prelude gives code without p5.
		NoSketchGraceMs:  noSketchGrace.Milliseconds(),
		NoSketchTimersMs: noSketchTimers.Milliseconds(),
		WorkerSource:     js.VideoWorker,
	}
	bpp := BitsPerPixel
	if format == video.GIF {
		bpp = gifBitsPerPixel
	}
	if bitrate <= 0 || format == video.GIF {
		bitrate = int(bpp * float64(cfg.CodedWidth*cfg.CodedHeight) * fps)
	}
	cfg.Bitrate = bitrate
	if format.Codec() == "vp9" {
		cfg.Codec = "vp09.00.41.08" // profile 0 (4:2:0, 8 bits), level 4.1
	} else {
		cfg.Codec = avcCodec(cfg.CodedWidth, cfg.CodedHeight, fps)
	}
	return cfg
}

// avcLevels are H.264's levels with their limits (Table A-1): frame size
// in macroblocks and macroblocks per second.
var avcLevels = []struct {
	level        int
	frameMBs     int
	mbsPerSec    int
	maxDimension int // sqrt(8 * frameMBs) macroblocks, the longest side
}{
	{30, 1620, 40500, 113}, {31, 3600, 108000, 169}, {32, 5120, 216000, 202},
	{40, 8192, 245760, 256}, {42, 8704, 522240, 263}, {50, 22080, 589824, 420},
	{51, 36864, 983040, 543}, {52, 36864, 2073600, 543},
}

// avcCodec is the WebCodecs codec string of H.264 High profile at the
// lowest level that fits the size and frame rate.
func avcCodec(w, h int, fps float64) string {
	mbw, mbh := (w+15)/16, (h+15)/16
	level := 52
	for _, l := range avcLevels {
		if mbw*mbh <= l.frameMBs && float64(mbw*mbh)*fps <= float64(l.mbsPerSec) && max(mbw, mbh) <= l.maxDimension {
			level = l.level
			break
		}
	}
	return fmt.Sprintf("avc1.6400%02x", level)
}

// newVideoPage builds the page of a video job: the shell document of its
// p5 major version (see warmPage), so that a prewarmed tab serves it as it
// serves a still, and a job.js that tells the shell's prelude to stand
// aside (see prelude.js) and then runs the video prelude with cfg, before
// the sketch.
func newVideoPage(job *empplay.Job, p5 []byte, cfg videoConfig) (*page, error) {
	conf, err := json.Marshal(cfg)
	if err != nil {
		return nil, empplay.Errorf(empplay.CodeInvalidField, "job context is not valid JSON: %v", err)
	}
	pre := strings.Replace(js.WithRuntime(js.Video), "/*EMPPLAY_VIDEO_CONFIG*/null", string(conf), 1)
	start := fmt.Sprintf("window[%q]({\"mode\":\"video\"});\n%s", startName, pre)
	major := p5Major(job.P5Version)
	return &page{path: docPath, mode: modeP5, major: major, resources: map[string]resource{
		docPath:      {mime: "text/html; charset=utf-8", body: shellDocument(major)},
		p5URL(major): {mime: "text/javascript; charset=utf-8", body: p5},
		jobPath:      {mime: "text/javascript; charset=utf-8", body: []byte(start)},
		sketchPath:   {mime: "text/javascript; charset=utf-8", body: []byte(job.Code)},
	}}, nil
}

// PosterName is the blob name of a video's poster frame: the video's name
// with its extension replaced by ".poster.png".
func PosterName(blob string) string {
	return strings.TrimSuffix(blob, path.Ext(path.Base(blob))) + ".poster.png"
}

// recording is one video job in its tab.
type recording struct {
	tb     *tab
	job    *empplay.Job
	cfg    videoConfig
	format video.Format
	opts   VideoOptions
	mem    *memoryGuard    // the job's memory limit
	widen  func(*instance) // see Browser.widen

	mu     sync.Mutex
	queue  []string      // the page's messages, in order
	queued int           // bytes of the page's messages not yet handled
	flood  bool          // the page sent more than maxVideoQueue ahead of the encoder
	notify chan struct{} // a message was queued
	// taken is the bytes of the page's messages handled so far, told the
	// bytes of them video.js was last told of; tell is signalled when it
	// is due another word (see tellPage).
	taken, told int
	tell        chan struct{}

	enc              *video.Encoder
	handled          int          // messages of the page taken so far
	last             videoMessage // the page's "done"
	poster           []byte
	posterW, posterH int
}

// listen runs on chromedp's event loop: it only queues. It hears the page's
// own JavaScript only, as the tab's listener does (see fromMainWorld),
// which runs before it for each event and so knows the context of the
// document the call came from.
//
// The queue is flow-controlled by credit: video.js counts the bytes it
// sends and draws no frame while more than half of maxVideoQueue of them
// are not yet handled by the recorder, which tells it (tellPage) what it
// has handled. A slow ffmpeg slows the recording down, however late the
// word reaches the page; only a page that calls the binding itself can
// fill the queue, and that fails the job.
func (r *recording) listen(ev any) {
	if ev, ok := ev.(*runtime.EventBindingCalled); ok && ev.Name == videoBinding && r.tb.fromMainWorld(ev) {
		r.mu.Lock()
		if r.queued+len(ev.Payload) > r.queueLimit() {
			r.flood = true
		} else {
			r.queue = append(r.queue, ev.Payload)
			r.queued += len(ev.Payload)
		}
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}
}

// maxVideoQueue bounds the bytes of the page's messages waiting for the
// encoder.
const maxVideoQueue = 256 << 20

// queueLimit is maxVideoQueue, or the test's.
func (r *recording) queueLimit() int {
	if r.opts.queueMax > 0 {
		return r.opts.queueMax
	}
	return maxVideoQueue
}

// take returns the queued messages, and whether the page flooded the
// queue (see maxVideoQueue). They count against the queue until handled.
func (r *recording) take() ([]string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	q := r.queue
	r.queue = nil
	return q, r.flood
}

// dequeued says that a message of n bytes is handled, and has video.js
// told once an eighth of the queue's limit more is.
func (r *recording) dequeued(n int) {
	r.mu.Lock()
	r.queued -= n
	r.taken += n
	due := r.taken-r.told >= r.queueLimit()/8
	r.mu.Unlock()
	if due && r.tell != nil {
		select {
		case r.tell <- struct{}{}:
		default:
		}
	}
}

// tellPage tells video.js the bytes handled so far, whenever that is due,
// until ctx ends.
func (r *recording) tellPage(ctx context.Context, target *chromedp.Target) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.tell:
		}
		r.mu.Lock()
		n := r.taken
		r.told = n
		r.mu.Unlock()
		_, err := cdp.Call(ctx, target, runtime.Evaluate, runtime.EvaluateParams{
			Expression: fmt.Sprintf("typeof window.%s === 'function' && window.%s(%d)", videoTakenName, videoTakenName, n),
		})
		r.tb.logger.Debug("video bytes handled", "bytes", n, "err", err)
	}
}

// run loads the job's page and records it until the page is done, fails
// or runs out of time. broken is set when the browser can no longer be
// trusted.
func (r *recording) run(ctx context.Context, pg *page, deadline time.Time) (out *empplay.Output, broken, err error) {
	start := time.Now()
	tb := r.tb
	target := tb.target.Load()
	inst := tb.inst
	log := tb.logger.With("blob", r.job.BlobName(), "frames", r.cfg.Frames, "warm", tb.warm != "")
	jctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	failed := func(stage string, err error) error {
		switch {
		case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
			return fmt.Errorf("render: %w", ctx.Err())
		case r.mem.killed.Load() > 0:
			return memoryLimitError(r.mem.killed.Load(), r.mem.limit)
		case jctx.Err() != nil && inst.alive():
			return empplay.Errorf(empplay.CodeRenderTimeout, "%s", tb.explain(fmt.Sprintf(
				"render timeout: the page did not load within %v", deadline.Sub(start).Round(time.Millisecond))))
		}
		if !inst.alive() {
			broken = errConnectionLost
		}
		return empplay.Transient(empplay.CodeBrowserError, fmt.Errorf("render: %s: %w", stage, err))
	}

	r.enc, err = video.Start(jctx, video.Options{
		FFmpeg: r.opts.FFmpeg, Format: r.format, TempDir: r.opts.TempDir,
		Width: r.cfg.CodedWidth, Height: r.cfg.CodedHeight, OutWidth: r.job.Width, OutHeight: r.job.Height,
		FPS: r.cfg.FPS, MaxBytes: r.opts.MaxBytes,
	})
	if err != nil {
		return nil, nil, err
	}
	defer r.enc.Close()

	r.notify = make(chan struct{}, 1)
	r.tell = make(chan struct{}, 1)
	lctx, lcancel := context.WithCancel(tb.ctx)
	defer lcancel()
	go r.tellPage(jctx, target)
	if err := chromedp.Listen(lctx, r.listen); err != nil {
		return nil, broken, failed("listen to the page", err)
	}
	if _, err := cdp.Call(jctx, target, runtime.AddBinding, runtime.AddBindingParams{Name: videoBinding}); err != nil {
		return nil, broken, failed("add the video binding", err)
	}
	if err := tb.present(jctx, r.job.Width, r.job.Height, 1, needsFrames(r.job)); err != nil {
		return nil, broken, failed("prepare the tab", err)
	}
	if tb.warm != "" {
		// The shell page is loaded (or loading): hand it the job.
		tb.adopt(pg)
	} else if err := tb.load(jctx, pg); err != nil {
		return nil, broken, failed("navigate", err)
	}
	// The page's renderer counted one CPU when it started (see cpus.go), so
	// its encoder keeps to one thread; the page and the encoder may now
	// work on different CPUs.
	r.widen(inst)
	video.ReportProgress(ctx, 0, r.cfg.Frames)

	for {
		select {
		case <-r.notify:
			msgs, flood := r.take()
			if flood {
				return nil, nil, empplay.Errorf(empplay.CodeSketchError,
					"sketch error: the page sent more than %d KiB to the recorder ahead of the encoder, past what it was told to wait for", r.queueLimit()>>10)
			}
			for _, payload := range msgs {
				out, done, err := r.handle(jctx, payload)
				r.dequeued(len(payload))
				if err != nil && jctx.Err() != nil {
					// ffmpeg was still at work when time ran out.
					if cerr := ctx.Err(); cerr != nil && !errors.Is(cerr, context.DeadlineExceeded) {
						return nil, nil, fmt.Errorf("render: %w", cerr)
					}
					return nil, nil, empplay.Errorf(empplay.CodeRenderTimeout, "render timeout: %d of %d frames were done but encoding the %s did not finish within %v",
						r.enc.Frames(), r.cfg.Frames, r.format, deadline.Sub(start).Round(time.Millisecond))
				}
				if err != nil || done {
					if err == nil {
						log.Debug("video recorded", "ms", time.Since(start).Milliseconds(), "record_ms", int(r.last.DriveMs),
							"encoder_wait_ms", int(r.last.WaitMs), "load_wait_ms", int(r.last.LoadWaitMs), "bytes", len(out.Artifacts[0].Body))
					}
					return out, nil, err
				}
				video.ReportProgress(ctx, r.enc.Frames(), r.cfg.Frames)
			}
			continue
		case used := <-r.mem.over:
			return nil, nil, memoryLimitError(used, r.mem.limit)
		case <-tb.crashed:
			return nil, nil, tb.crashError(r.mem)
		case <-inst.cdp.LostConnection:
			return nil, errConnectionLost,
				empplay.Transient(empplay.CodeBrowserError, errors.New("render: lost the connection to chromium"))
		case <-jctx.Done():
		}
		break
	}

	// Out of time, or the caller gave up.
	broken = tb.stop()
	if err := ctx.Err(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, broken, fmt.Errorf("render: %w", err)
	}
	what := "the sketch did not start"
	if n := r.enc.Frames(); n > 0 {
		what = fmt.Sprintf("%d of %d frames were done", n, r.cfg.Frames)
	}
	return nil, broken, empplay.Errorf(empplay.CodeRenderTimeout, "%s", tb.explain(fmt.Sprintf(
		"render timeout: %s within %v", what, deadline.Sub(start).Round(time.Millisecond))))
}

// handle takes one message of the page: frames go to the encoder; the end
// of the video or a failure ends the recording (done or err).
//
// A message that video.js would not send, in its place in the stream, can
// only come from the page's own code (the binding is heard from the main
// frame only, see fromMainWorld, but the prelude shares the sketch's
// realm): it fails the job as the sketch's error, for good, rather than as
// the host's, which would be retried.
func (r *recording) handle(ctx context.Context, payload string) (out *empplay.Output, done bool, err error) {
	before := r.handled // messages taken before this one
	r.handled++
	header, data, _ := strings.Cut(payload, "\n")
	var m videoMessage
	if err := json.Unmarshal([]byte(header), &m); err != nil {
		return nil, false, unreadable("not JSON", err)
	}
	switch m.Type {
	case "chunks":
		if m.First != r.enc.Frames() || len(m.Sizes) != m.Count {
			return nil, false, unreadable(fmt.Sprintf("frames %d-%d after %d frames", m.First, m.First+m.Count-1, r.enc.Frames()), nil)
		}
		// Each frame is base64 of its own (padding and all), one after
		// the other. A size is bounded by the data before its base64
		// length is computed: EncodedLen of a huge size overflows.
		for _, n := range m.Sizes {
			if n < 0 || n > len(data) {
				return nil, false, unreadable("frame sizes that do not add up", nil)
			}
			el := base64.StdEncoding.EncodedLen(n)
			if el > len(data) {
				return nil, false, unreadable("frame sizes that do not add up", nil)
			}
			raw, err := base64.StdEncoding.DecodeString(data[:el])
			if err != nil || len(raw) != n {
				return nil, false, unreadable(fmt.Sprintf("frame %d not in base64 of its size", r.enc.Frames()), err)
			}
			data = data[el:]
			if err := r.enc.WriteFrame(raw); err != nil {
				return nil, false, err
			}
		}
		if data != "" {
			return nil, false, unreadable("more data than its frame sizes", nil)
		}
		return nil, false, nil
	case "poster":
		// video.js sends one, the canvas (or the canvas scaled to the
		// video) as a PNG.
		if r.poster != nil {
			return nil, false, unreadable("a second poster frame", nil)
		}
		raw, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			return nil, false, unreadable("a poster frame that is not base64", err)
		}
		pc, err := png.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			return nil, false, unreadable("a poster frame that is not a PNG", err)
		}
		if pc.Width != r.cfg.Width || pc.Height != r.cfg.Height {
			return nil, false, unreadable(fmt.Sprintf("a %dx%d poster frame for a %dx%d video",
				pc.Width, pc.Height, r.cfg.Width, r.cfg.Height), nil)
		}
		r.poster, r.posterW, r.posterH = raw, pc.Width, pc.Height
		return nil, false, nil
	case "done":
		r.last = m
		// video.js sends done after the poster and the chunks of every
		// frame: its encoder runs in latencyMode "quality", which drops
		// none, and a gap in the chunks fails above.
		if n := r.enc.Frames(); n != r.cfg.Frames || m.Frames != r.cfg.Frames {
			return nil, true, unreadable(fmt.Sprintf("the end of a %d-frame video after %d of %d frames",
				m.Frames, n, r.cfg.Frames), nil)
		}
		if r.poster == nil {
			return nil, true, unreadable("the end of the video without a poster frame", nil)
		}
		res, err := r.enc.Finish(ctx)
		if err != nil {
			return nil, true, err
		}
		return &empplay.Output{
			Artifacts: []empplay.Artifact{
				{Name: r.job.BlobName(), MimeType: res.MimeType, Body: res.Body, Width: res.Width, Height: res.Height},
				{Name: PosterName(r.job.BlobName()), MimeType: "image/png", Body: r.poster, Width: r.posterW, Height: r.posterH},
			},
			Trigger:  TriggerVideo,
			Renderer: m.Renderer,
		}, true, nil
	case "error":
		when := "in setup"
		if m.Frame >= 0 {
			when = fmt.Sprintf("at frame %d (t=%.3fs)", m.Frame, float64(m.Frame)/r.cfg.FPS)
		}
		msg := fmt.Sprintf("sketch error %s: %s", when, m.Message)
		if m.Line > 0 {
			msg += fmt.Sprintf(" (line %d)", m.Line)
		}
		msg += p5Advice(m.Clash, m.PreloadIgnored)
		return nil, true, empplay.Errorf(empplay.CodeSketchError, "%s", r.tb.explain(msg))
	case "nop5":
		// video.js sends it first and alone, before the sketch runs: p5.js
		// did not load, the host's fault. After another message it is the
		// sketch's.
		if before > 0 {
			return nil, true, unreadable("p5.js missing after the recording began", nil)
		}
		return nil, true, errNoP5()
	case "nocanvas":
		return nil, true, empplay.Errorf(empplay.CodeNoCanvas, "%s", r.tb.explain("no canvas: "+m.Message))
	case "encoder":
		// video.js reports its encoder's failure at the frame it was
		// making, by when it has sent at most that frame's chunks and those
		// before; -1 is a worker that did not start, before anything else.
		if m.Frame < -1 || m.Frame >= r.cfg.Frames || r.enc.Frames() > m.Frame+1 || (m.Frame == -1 && before > 0) {
			return nil, true, unreadable(fmt.Sprintf("an encoder failure at frame %d after %d frames",
				m.Frame, r.enc.Frames()), nil)
		}
		return nil, true, &empplay.Error{Code: empplay.CodeEncoderError, Retryable: true,
			Msg: fmt.Sprintf("the browser's video encoder failed at frame %d: %s", m.Frame, m.Message)}
	}
	return nil, true, unreadable(fmt.Sprintf("of unknown type %.40q", m.Type), nil)
}
