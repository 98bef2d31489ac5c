package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
	"github.com/empplay/empplay/video"
)

// frameSketch paints each frame so that a decoded video can be checked: the
// left half is the colour of frame index frameCount-1, the right half the
// colour of the frame index millis() says, the bottom strip white when
// deltaTime is exactly 1/fps (from the third frame on), and the index as
// text, for people.
const frameSketch = `
function colorOf(k) { return [(k % 6) * 51, (Math.floor(k / 6) % 6) * 51, (Math.floor(k / 36) % 6) * 51]; }
function setup() { createCanvas(windowWidth, windowHeight); pixelDensity(1); noStroke(); }
function draw() {
  const fps = empplay.video.fps;
  const k = frameCount - 1;
  const m = Math.round(millis() * fps / 1000);
  fill(colorOf(k)); rect(0, 0, width / 2, height);
  fill(colorOf(m)); rect(width / 2, 0, width - width / 2, height);
  const exact = k < 2 || Math.abs(deltaTime - 1000 / fps) < 1e-6;
  fill(exact ? 255 : 0); rect(0, height * 0.8, width, height - height * 0.8);
  fill(128); textSize(Math.max(8, height / 10)); text(k, 4, height / 2);
}`

// glSketch is frameSketch in WEBGL.
const glSketch = `
function colorOf(k) { return [(k % 6) * 51, (Math.floor(k / 6) % 6) * 51, (Math.floor(k / 36) % 6) * 51]; }
function setup() { createCanvas(windowWidth, windowHeight, WEBGL); noStroke(); }
function draw() {
  const fps = empplay.video.fps;
  const k = frameCount - 1;
  const m = Math.round(millis() * fps / 1000);
  background(colorOf(k));
  push(); translate(width / 4, 0, 0); fill(colorOf(m)); plane(width / 2, height); pop();
  const exact = k < 2 || Math.abs(deltaTime - 1000 / fps) < 1e-6;
  push(); translate(0, height * 0.4, 0); fill(exact ? 255 : 0); plane(width, height * 0.2); pop();
}`

// rawSketch is frameSketch without p5: a canvas of its own, animated with
// requestAnimationFrame, the time from its timestamp.
const rawSketch = `
function colorOf(k) { return [(k % 6) * 51, (Math.floor(k / 6) % 6) * 51, (Math.floor(k / 36) % 6) * 51]; }
const c = document.createElement('canvas');
c.width = innerWidth; c.height = innerHeight;
document.body.appendChild(c);
const g = c.getContext('2d');
let n = 0;
function frame(t) {
  const fps = empplay.video.fps, w = c.width, h = c.height;
  const k = n++, m = Math.round(t * fps / 1000);
  g.fillStyle = 'rgb(' + colorOf(k) + ')'; g.fillRect(0, 0, w / 2, h);
  g.fillStyle = 'rgb(' + colorOf(m) + ')'; g.fillRect(w / 2, 0, w - w / 2, h);
  g.fillStyle = performance.now() === t ? '#fff' : '#000'; g.fillRect(0, h * 0.8, w, h - h * 0.8);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);`

// colorOf is the colour frameSketch paints for frame k.
func colorOf(k int) [3]int {
	return [3]int{(k % 6) * 51, (k / 6 % 6) * 51, (k / 36 % 6) * 51}
}

// patch is the mean colour of the w x h box at (x, y) of an RGB frame of
// width fw.
func patch(rgb []byte, fw, x, y, w, h int) [3]int {
	var sum [3]int
	for yy := y; yy < y+h; yy++ {
		for xx := x; xx < x+w; xx++ {
			i := (yy*fw + xx) * 3
			sum[0] += int(rgb[i])
			sum[1] += int(rgb[i+1])
			sum[2] += int(rgb[i+2])
		}
	}
	n := w * h
	return [3]int{sum[0] / n, sum[1] / n, sum[2] / n}
}

func near(a, b [3]int, tol int) bool {
	for i := range a {
		if d := a[i] - b[i]; d > tol || d < -tol {
			return false
		}
	}
	return true
}

func needFFmpeg(t *testing.T) {
	t.Helper()
	testenv.SkipShort(t, "ffmpeg")
	for _, bin := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(bin); err != nil {
			testenv.Missing(t, bin)
		}
	}
}

// writeArtifact writes the video of out to a temp file for ffprobe.
func writeArtifact(t *testing.T, a empplay.Artifact) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), filepath.Base(a.Name))
	if err := os.WriteFile(p, a.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func videoJob(code string, w, h int, duration, fps float64, format string) *empplay.Job {
	ext := format
	if ext == "" {
		ext = "mp4"
	}
	return &empplay.Job{
		Type: empplay.TypeVideo, Code: code, Width: w, Height: h, Duration: duration, FPS: fps, Format: format,
		Bucket: "videos", Prefix: "t", Filename: "v." + ext,
	}
}

func TestVideoFrameAccuracy(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	for _, tc := range []struct {
		name      string
		code      string
		format    string
		p5        string
		w, h      int
		fps       float64
		duration  float64
		codec     string
		pixFmt    string
		outW      int
		outH      int
		tolerance int
	}{
		{"mp4", frameSketch, "", "", 320, 240, 30, 2, "h264", "yuv420p", 320, 240, 24},
		{"mp4 p5 2", frameSketch, "mp4", "2", 320, 240, 30, 1, "h264", "yuv420p", 320, 240, 24},
		{"mp4 60fps", frameSketch, "mp4", "", 160, 160, 60, 1, "h264", "yuv420p", 160, 160, 24},
		{"webm", frameSketch, "webm", "", 320, 240, 24, 2, "vp9", "yuv420p", 320, 240, 24},
		{"gif", frameSketch, "gif", "", 200, 150, 25, 2, "gif", "bgra", 200, 150, 24},
		{"odd size mp4", frameSketch, "mp4", "", 201, 99, 30, 1, "h264", "yuv420p", 202, 100, 24},
		{"odd size webm", frameSketch, "webm", "", 99, 201, 30, 1, "vp9", "yuv420p", 100, 202, 24},
		{"webgl", glSketch, "mp4", "", 320, 240, 30, 1, "h264", "yuv420p", 320, 240, 24},
		{"webgl p5 2", glSketch, "mp4", "2", 320, 240, 30, 1, "h264", "yuv420p", 320, 240, 24},
		{"without p5", rawSketch, "mp4", "", 320, 240, 30, 1, "h264", "yuv420p", 320, 240, 24},
		{"odd size gif", frameSketch, "gif", "", 201, 99, 25, 1, "gif", "bgra", 201, 99, 24},
		// Started 300 ms into virtual time: each frame is still its own
		// 1/fps after the last, millis() counted from the sketch's start.
		{"started from a timer", "setTimeout(() => { (0, eval)(" + strconv.Quote(frameSketch) + "); new p5(); }, 300);",
			"mp4", "", 160, 120, 30, 1, "h264", "yuv420p", 160, 120, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			job := videoJob(tc.code, tc.w, tc.h, tc.duration, tc.fps, tc.format)
			job.P5Version = tc.p5
			n := job.VideoFrames()
			var last atomic.Int64
			ctx := video.WithProgress(testenv.Context(t, 2*time.Minute), func(done, total int) {
				if total != n {
					t.Errorf("progress total %d; want %d", total, n)
				}
				last.Store(int64(done))
			})
			out, err := b.Render(ctx, job)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if len(out.Artifacts) != 2 {
				t.Fatalf("%d artifacts; want the video and its poster", len(out.Artifacts))
			}
			if got := last.Load(); got != int64(n) {
				t.Errorf("last progress %d; want %d", got, n)
			}
			a := out.Artifacts[0]
			if a.Name != job.BlobName() || a.Width != tc.outW || a.Height != tc.outH {
				t.Errorf("video artifact %s %dx%d; want %s %dx%d", a.Name, a.Width, a.Height, job.BlobName(), tc.outW, tc.outH)
			}
			path := writeArtifact(t, a)
			info, err := video.Probe(ctx, "", path)
			if err != nil {
				t.Fatal(err)
			}
			if info.Codec != tc.codec || info.PixFmt != tc.pixFmt || info.Width != tc.outW || info.Height != tc.outH {
				t.Errorf("probe: %+v; want %s %s %dx%d", info, tc.codec, tc.pixFmt, tc.outW, tc.outH)
			}
			if tc.codec != "gif" && (info.ColorRange != "tv" || info.ColorSpace != "bt709") {
				t.Errorf("colour range %q space %q; want tv bt709", info.ColorRange, info.ColorSpace)
			}
			if info.Frames != n {
				t.Errorf("%d frames; want %d", info.Frames, n)
			}
			want := float64(n) / tc.fps
			if d := info.Duration - want; d > 0.002 || d < -0.002 {
				t.Errorf("duration %.4fs; want %.4fs", info.Duration, want)
			}
			frames := 0
			err = video.Decode(ctx, "", path, tc.outW, tc.outH, func(k int, rgb []byte) error {
				frames++
				w, h := tc.w, tc.h
				pw, ph := w/8, h/8
				left := patch(rgb, tc.outW, w/4-pw/2, h/4-ph/2, pw, ph)
				right := patch(rgb, tc.outW, 3*w/4-pw/2, h/4-ph/2, pw, ph)
				strip := patch(rgb, tc.outW, w/4, h*9/10-ph/4, w/2, ph/2)
				if !near(left, colorOf(k), tc.tolerance) {
					t.Errorf("frame %d: frameCount colour %v; want %v", k, left, colorOf(k))
				}
				if !near(right, colorOf(k), tc.tolerance) {
					t.Errorf("frame %d: millis() colour %v; want %v", k, right, colorOf(k))
				}
				if !near(strip, [3]int{255, 255, 255}, tc.tolerance) {
					t.Errorf("frame %d: deltaTime was not 1/fps (strip %v)", k, strip)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if frames != n {
				t.Errorf("decoded %d frames; want %d", frames, n)
			}
			p := out.Artifacts[1]
			if p.Name != PosterName(job.BlobName()) || p.MimeType != "image/png" {
				t.Errorf("poster %s %s", p.Name, p.MimeType)
			}
			img, err := png.Decode(bytes.NewReader(p.Body))
			if err != nil {
				t.Fatalf("poster: %v", err)
			}
			if s := img.Bounds().Size(); s.X != tc.w || s.Y != tc.h {
				t.Errorf("poster %v; want %dx%d", s, tc.w, tc.h)
			}
		})
	}
}

// TestVideoDeterministic renders a sketch that reads random(), noise(),
// Math.random, millis() and Date twice and compares the decoded frames.
func TestVideoDeterministic(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const code = `
let x = 0;
function setup() { createCanvas(200, 200); setInterval(() => { x += 3; }, 50); }
function draw() {
  background(random(255), noise(frameCount / 10) * 255, Math.random() * 255);
  fill(255); circle(x % 200, 100 + 50 * Math.sin(millis() / 200), 20 + (Date.now() % 1000) / 50);
}`
	digest := func() []string {
		ctx := testenv.Context(t, time.Minute)
		out, err := b.Render(ctx, videoJob(code, 200, 200, 1, 30, "mp4"))
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		var sums []string
		err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 200, 200, func(k int, rgb []byte) error {
			sums = append(sums, fmt.Sprintf("%x", sha256.Sum256(rgb)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return sums
	}
	a, b2 := digest(), digest()
	if len(a) != 30 || len(b2) != 30 {
		t.Fatalf("decoded %d and %d frames; want 30", len(a), len(b2))
	}
	for k := range a {
		if a[k] != b2[k] {
			t.Errorf("frame %d differs between two renders of the same job", k)
		}
	}
}

func TestVideoFailures(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	dir := t.TempDir()
	failing := filepath.Join(dir, "ffmpeg")
	if err := os.WriteFile(failing, []byte("#!/bin/sh\necho 'fake ffmpeg: codec exploded' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	slow := filepath.Join(dir, "slow-ffmpeg")
	if err := os.WriteFile(slow, []byte("#!/bin/sh\ncat >/dev/null\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	const ok = `function setup(){createCanvas(64,64)} function draw(){background(frameCount % 255)}`
	const noise = `function setup(){createCanvas(160,160); pixelDensity(1)}
function draw(){loadPixels(); for (let i = 0; i < pixels.length; i++) pixels[i] = i % 4 === 3 ? 255 : random(255); updatePixels()}`
	timeoutMs := func(j *empplay.Job, ms int) *empplay.Job { j.TimeoutMs = ms; return j }
	p5v2 := func(j *empplay.Job) *empplay.Job { j.P5Version = "2"; return j }
	for _, tc := range []struct {
		name      string
		job       *empplay.Job
		opts      VideoOptions
		code      empplay.Code
		retryable bool
		msg       string
	}{
		{"throws at frame 5", videoJob(`function setup(){createCanvas(64,64)}
function draw(){ background(0); if (frameCount === 6) throw new Error('boom'); }`, 64, 64, 1, 30, ""), VideoOptions{},
			empplay.CodeSketchError, false, "at frame 5 (t=0.167s): Error: boom (line 2)"},
		{"throws in setup", videoJob(`function setup(){createCanvas(64,64); null.x}`, 64, 64, 1, 30, ""), VideoOptions{},
			empplay.CodeSketchError, false, "in setup: TypeError"},
		{"throws in a timer", videoJob(`function setup(){createCanvas(64,64); setTimeout(() => { throw new Error('late') }, 500)}
function draw(){background(9)}`, 64, 64, 1, 30, ""), VideoOptions{},
			empplay.CodeSketchError, false, "at frame 15 (t=0.500s): Error: late"},
		{"a global p5 2.x defines too", p5v2(videoJob(`function mix(a, b){ return a }
function setup(){createCanvas(64,64)} function draw(){background(9)}`, 64, 64, 1, 30, "")), VideoOptions{},
			empplay.CodeSketchError, false, "Cannot redefine property: mix; p5.js 2.x defines mix as a global itself"},
		{"a preload() p5 2.x never calls", p5v2(videoJob(`let img; function preload(){ img = createImage(4, 4) }
function setup(){createCanvas(64,64)} function draw(){background(9); image(img, 0, 0)}`, 64, 64, 1, 30, "")), VideoOptions{},
			empplay.CodeSketchError, false, "at frame 0 (t=0.000s): TypeError: Cannot read properties of undefined (reading 'width') (line 2); " + preloadNote},
		{"no canvas", videoJob(`function setup(){noCanvas()} function draw(){}`, 64, 64, 1, 30, ""), VideoOptions{},
			empplay.CodeNoCanvas, false, "no canvas"},
		{"fps out of range", videoJob(ok, 64, 64, 1, 120, ""), VideoOptions{}, empplay.CodeInvalidField, false, `"fps"`},
		{"duration out of range", videoJob(ok, 64, 64, 1000, 30, ""), VideoOptions{}, empplay.CodeInvalidField, false, `"duration"`},
		{"bad format", videoJob(ok, 64, 64, 1, 30, "avi"), VideoOptions{}, empplay.CodeInvalidField, false, `"format"`},
		{"ffmpeg missing", videoJob(ok, 64, 64, 1, 30, ""), VideoOptions{FFmpeg: filepath.Join(dir, "no-ffmpeg")},
			empplay.CodeEncoderError, true, "ffmpeg not found"},
		{"ffmpeg fails", videoJob(ok, 64, 64, 1, 30, ""), VideoOptions{FFmpeg: failing},
			empplay.CodeEncoderError, true, "codec exploded"},
		{"ffmpeg too slow", timeoutMs(videoJob(ok, 64, 64, 0.5, 30, ""), 5000), VideoOptions{FFmpeg: slow},
			empplay.CodeRenderTimeout, false, "15 of 15 frames were done but encoding the mp4 did not finish"},
		{"ffmpeg fails making a gif", videoJob(ok, 64, 64, 1, 25, "gif"), VideoOptions{FFmpeg: failing},
			empplay.CodeEncoderError, true, "codec exploded"},
		// A new picture of noise every frame: the encoder cannot keep
		// it small, and the limit stops it early.
		{"noise over the size limit", videoJob(noise, 160, 160, 1, 30, ""), VideoOptions{MaxBytes: 8 << 10},
			empplay.CodeOutputTooLarge, false, "the MP4 is over this worker's limit of 8192 bytes per video (VIDEO_MAX_MB) at frame"},
		{"noise gif over the size limit", videoJob(noise, 160, 160, 1, 10, "gif"), VideoOptions{MaxBytes: 64 << 10},
			empplay.CodeOutputTooLarge, false, "the GIF is over this worker's limit of 65536 bytes per video"},
		// A sketch's own error cannot pass for the host's (p5.js
		// missing, retried) through a toJSON of its own (see reportJSON
		// in runtime.js).
		{"toJSON nop5", videoJob(`Object.prototype.toJSON = function(){ return {type:'nop5'}; };
function setup(){createCanvas(64,64); throw new Error('my bug')}`, 64, 64, 1, 30, ""), VideoOptions{},
			empplay.CodeSketchError, false, "in setup: Error: my bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := b.RenderVideo(testenv.Context(t, time.Minute), tc.job, tc.opts)
			if err == nil {
				t.Fatalf("RenderVideo succeeded with %d artifacts; want %s", len(out.Artifacts), tc.code)
			}
			if got := empplay.ErrorCode(err); got != tc.code {
				t.Errorf("code %s (%v); want %s", got, err, tc.code)
			}
			if got := empplay.IsRetryable(err); got != tc.retryable {
				t.Errorf("retryable %v; want %v", got, tc.retryable)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not mention %q", err, tc.msg)
			}
		})
	}
}

// TestVideoIgnoresForgedMessages: the recorder's binding is gone from
// the page's window, not from a same-origin iframe's; what an iframe
// sends there is not heard (see tab.fromMainWorld). Nor can a sketch
// break the encoder's worker through what it changes in the realm it
// shares with video.js, which would fail the job as the host's
// encoder_error, retried. The video is the sketch's own, every frame of
// it.
func TestVideoIgnoresForgedMessages(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const sketch = "function setup(){createCanvas(64,64)}\nfunction draw(){background(9)}"
	forge := func(msg string) string {
		return `function setup(){createCanvas(64,64);
const f = document.createElement('iframe'); document.body.appendChild(f);
f.contentWindow.__empplayVideo(` + msg + `)}
function draw(){background(9)}`
	}
	for _, tc := range []struct{ name, code string }{
		{"forged frame sizes", forge(`'{"type":"chunks","first":0,"count":1,"sizes":[9000000000000000000],"keys":[true]}\nAAAA'`)},
		{"forged end", forge(`'{"type":"done","frames":30}'`)},
		{"forged error", forge(`'{"type":"error","message":"forged","frame":-1}'`)},
		{"forged nop5", forge(`'{"type":"nop5"}'`)},
		{"forged encoder failure", forge(`'{"type":"encoder","message":"forged","frame":-1}'`)},
		{"Object.prototype.error", "Object.prototype.error = 'forged';\n" + sketch},
		{"Worker replaced", "window.Worker = function(){ throw new Error('forged'); };\n" + sketch},
		{"Worker.prototype.postMessage", `const post = Worker.prototype.postMessage;
Worker.prototype.postMessage = function(m, t){ if (m && m.init) m.init.codec = 'forged'; return post.call(this, m, t); };
` + sketch},
		{"MessageEvent data", `Object.defineProperty(MessageEvent.prototype, 'data', { configurable: true, get(){ return {error: 'forged'}; } });
` + sketch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			out, err := b.RenderVideo(ctx, videoJob(tc.code, 64, 64, 1, 30, ""), VideoOptions{})
			if err != nil {
				t.Fatalf("RenderVideo: %s %v", empplay.ErrorCode(err), err)
			}
			frames := 0
			err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 64, 64, func(int, []byte) error { frames++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if frames != 30 || out.Trigger != TriggerVideo {
				t.Errorf("%d frames, trigger %q; want 30, %q", frames, out.Trigger, TriggerVideo)
			}
		})
	}
}

// TestVideoDeadline: a sketch that hangs at frame 10 fails with
// render_timeout, saying how far it got, and the browser still works.
func TestVideoDeadline(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	job := videoJob(`function setup(){createCanvas(64,64)}
function draw(){ background(0); if (frameCount === 11) for(;;){} }`, 64, 64, 2, 30, "")
	job.TimeoutMs = 5000 // time for frames 0-9 on a loaded host
	start := time.Now()
	_, err := b.Render(testenv.Context(t, time.Minute), job)
	if got := empplay.ErrorCode(err); got != empplay.CodeRenderTimeout {
		t.Fatalf("code %s (%v); want render_timeout", got, err)
	}
	// Frames 0-9 were drawn; the last few may still have been in the
	// encoder when the page hung.
	if !strings.Contains(err.Error(), " of 60 frames were done") {
		t.Errorf("error %q does not say how many frames were done", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v with a 5s deadline", d)
	}
	out, err := b.Render(testenv.Context(t, time.Minute), videoJob(`function setup(){createCanvas(64,64)} function draw(){background(200)}`, 64, 64, 0.5, 30, ""))
	if err != nil {
		t.Fatalf("the next job: %v", err)
	}
	if len(out.Artifacts[0].Body) == 0 {
		t.Error("the next job made an empty video")
	}
}

func TestVideoDeadlineScales(t *testing.T) {
	t.Parallel()
	b := New(Options{ChromiumPath: "unused", DefaultTimeout: 10 * time.Second}, nil, nil)
	short := videoJob("x", 64, 64, 1, 30, "")
	long := videoJob("x", 64, 64, 60, 30, "")
	ctx := context.Background()
	ds, dl := time.Until(b.deadline(ctx, short)), time.Until(b.deadline(ctx, long))
	if ds < 12*time.Second || ds > 14*time.Second {
		t.Errorf("1 s video: deadline in %v; want 10s + 30 frames x 100ms", ds)
	}
	if dl < 189*time.Second || dl > 191*time.Second {
		t.Errorf("60 s video: deadline in %v; want 10s + 1800 frames x 100ms", dl)
	}
	if d := time.Until(b.deadline(ctx, videoJob("x", 64, 64, 1, 30, "gif"))); d < 18*time.Second || d > 20*time.Second {
		t.Errorf("1 s GIF: deadline in %v; want 10s + 30 frames x 300ms", d)
	}
	long.TimeoutMs = 5000
	if d := time.Until(b.deadline(ctx, long)); d > 5*time.Second {
		t.Errorf("timeoutMs 5000: deadline in %v", d)
	}
}

func TestAVCCodec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		w, h int
		fps  float64
		want string
	}{
		{320, 240, 30, "avc1.64001e"},
		{800, 800, 30, "avc1.64001f"},
		{800, 800, 60, "avc1.640020"},
		{1920, 1080, 30, "avc1.640028"},
		{1920, 1080, 60, "avc1.64002a"},
		{3840, 2160, 30, "avc1.640033"},
		{3840, 2160, 60, "avc1.640034"},
	} {
		if got := avcCodec(tc.w, tc.h, tc.fps); got != tc.want {
			t.Errorf("avcCodec(%d, %d, %v) = %s; want %s", tc.w, tc.h, tc.fps, got, tc.want)
		}
	}
}

func TestPosterName(t *testing.T) {
	t.Parallel()
	for blob, want := range map[string]string{
		"a/b/video.mp4": "a/b/video.poster.png",
		"video":         "video.poster.png",
		"a.b/clip.webm": "a.b/clip.poster.png",
	} {
		if got := PosterName(blob); got != want {
			t.Errorf("PosterName(%q) = %q; want %q", blob, got, want)
		}
	}
}

// TestVideoSketchKinds: sketches that do not draw every frame still give
// one video frame per 1/fps, showing what they drew last.
func TestVideoSketchKinds(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const colors = `function colorOf(k) { return [(k % 6) * 51, (Math.floor(k / 6) % 6) * 51, (Math.floor(k / 36) % 6) * 51]; }
`
	for _, tc := range []struct {
		name string
		code string
		want func(k int) int // the frame index painted in video frame k
	}{
		{"noLoop", colors + `function setup(){createCanvas(64,64); noLoop()} function draw(){background(colorOf(frameCount - 1))}`,
			func(int) int { return 0 }},
		{"frameRate 10", colors + `function setup(){createCanvas(64,64); frameRate(10)} function draw(){background(colorOf(frameCount - 1))}`,
			func(k int) int { return k / 3 }},
		{"setup only", colors + `function setup(){createCanvas(64,64); background(colorOf(7))}`,
			func(int) int { return 7 }},
		{"instance mode", colors + `new p5(p => { p.setup = () => p.createCanvas(64, 64); p.draw = () => p.background(colorOf(p.frameCount - 1)); });`,
			func(k int) int { return k }},
		{"timers", colors + `let n = 0; function setup(){createCanvas(64,64); setInterval(() => n++, 1000 / 30)}
function draw(){background(colorOf(n))}`,
			func(k int) int { return k }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testenv.Context(t, time.Minute)
			out, err := b.Render(ctx, videoJob(tc.code, 64, 64, 1, 30, ""))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			n := 0
			err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 64, 64, func(k int, rgb []byte) error {
				n++
				if got, want := patch(rgb, 64, 16, 16, 32, 32), colorOf(tc.want(k)); !near(got, want, 24) {
					t.Errorf("frame %d: colour %v; want %v (frame %d's)", k, got, want, tc.want(k))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != 30 {
				t.Errorf("%d frames; want 30", n)
			}
		})
	}
}

// TestVideoFFmpegPathOption: Render (the worker's path) uses
// Options.FFmpegPath.
func TestVideoFFmpegPathOption(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-ffmpeg")
	b := newTestBrowser(t, Options{FFmpegPath: missing})
	_, err := b.Render(testenv.Context(t, time.Minute), videoJob(`function setup(){createCanvas(64,64)} function draw(){background(frameCount % 255)}`, 64, 64, 1, 30, ""))
	if empplay.ErrorCode(err) != empplay.CodeEncoderError || !strings.Contains(fmt.Sprint(err), missing) {
		t.Errorf("error %v; want encoder_error naming %s", err, missing)
	}
}

// TestVideoWarmPage: a video job runs in the shell page a tab prewarmed
// (see warmPage) as well as in a fresh tab, with the same frames.
func TestVideoWarmPage(t *testing.T) {
	needFFmpeg(t)
	b := newTestBrowser(t, Options{})
	const code = `
function setup() { createCanvas(64, 64); }
function draw() { background(frameCount * 20 % 255, millis() / 4 % 255, random(255)); }`
	digest := func() []string {
		ctx := testenv.Context(t, time.Minute)
		j := videoJob(code, 64, 64, 0.5, 20, "mp4")
		j.P5Version = "2"
		out, err := b.Render(ctx, j)
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		var sums []string
		err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 64, 64, func(k int, rgb []byte) error {
			sums = append(sums, fmt.Sprintf("%x", sha256.Sum256(rgb)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return sums
	}
	// The browser prewarms p5 1.x: the first p5 2.x video loads cold.
	cold := digest()
	ctx := testenv.Context(t, time.Minute)
	if err := b.settle(ctx); err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	spare := b.spare
	b.mu.Unlock()
	if spare == nil || spare.warm != "2" {
		t.Fatalf("no tab prewarmed with p5 2 after a p5 2 video (spare %v)", spare)
	}
	warm := digest()
	if len(cold) != 10 || len(warm) != 10 {
		t.Fatalf("decoded %d and %d frames; want 10", len(cold), len(warm))
	}
	for k := range cold {
		if cold[k] != warm[k] {
			t.Errorf("frame %d differs between the cold and the warm page", k)
		}
	}
}

// TestVideoWorkDirUnderProfileDir: a video job's encoder works under the
// browser's ProfileDir, which the supervisor removes with the worker, not
// in the system's temp directory, where a killed worker's frames would stay.
func TestVideoWorkDirUnderProfileDir(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	args := filepath.Join(dir, "args")
	ffmpeg := filepath.Join(dir, "ffmpeg")
	// The behaviour: an ffmpeg that writes down where it was told to write.
	script := fmt.Sprintf("#!/bin/sh\nfor a in \"$@\"; do last=$a; done\necho \"$last\" >>%s\nexit 1\n", args)
	if err := os.WriteFile(ffmpeg, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	b := newTestBrowser(t, Options{FFmpegPath: ffmpeg})
	job := videoJob(`function setup(){createCanvas(64,64)} function draw(){background(frameCount % 255)}`, 64, 64, 0.5, 30, "")
	if _, err := b.Render(testenv.Context(t, time.Minute), job); empplay.ErrorCode(err) != empplay.CodeEncoderError {
		t.Fatalf("Render = %v; want the fake ffmpeg's encoder_error", err)
	}
	got, err := os.ReadFile(args)
	if err != nil {
		t.Fatalf("ffmpeg never ran: %v", err)
	}
	out := strings.TrimSpace(string(got))
	if work := filepath.Dir(out); filepath.Dir(work) != testRoot || !strings.HasPrefix(filepath.Base(work), "empplay-video-") {
		t.Errorf("ffmpeg wrote %s; want it in an empplay-video-* directory under the ProfileDir %s", out, testRoot)
	}
}

// TestVideoSlowEncoderHoldsFrames: an ffmpeg that takes its input slower
// than the page makes frames slows the page down (video.js draws no frame
// while half the queue waits for it) instead of failing the job: the page's
// frames (over 1 MiB) pass through a queue of 512 KiB.
func TestVideoSlowEncoderHoldsFrames(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	real, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal(err)
	}
	// ffmpeg behind a pipe that passes 64 KiB every 50 ms (about 1.3 MB/s).
	slow := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\nbuf=$(mktemp)\n" +
		"{ while head -c 65536 > \"$buf\" && [ -s \"$buf\" ]; do cat \"$buf\"; sleep 0.05; done; rm -f \"$buf\"; } | " + real + " \"$@\"\n"
	if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	const noise = `function setup(){createCanvas(160,160); pixelDensity(1)}
function draw(){loadPixels(); for (let i = 0; i < pixels.length; i++) pixels[i] = i % 4 === 3 ? 255 : random(255); updatePixels()}`
	j := videoJob(noise, 160, 160, 2, 30, "webm")
	ctx := testenv.Context(t, time.Minute)
	out, err := b.RenderVideo(ctx, j, VideoOptions{FFmpeg: slow, Bitrate: 20_000_000, queueMax: 512 << 10})
	if err != nil {
		t.Fatalf("RenderVideo: %v", err)
	}
	// In base64, a third more: over twice what the queue holds.
	if n := len(out.Artifacts[0].Body); n < 1<<20 {
		t.Fatalf("a video of %d bytes: the queue was never full, the test tested nothing", n)
	}
	info, err := video.Probe(ctx, "", writeArtifact(t, out.Artifacts[0]))
	if err != nil {
		t.Fatal(err)
	}
	if info.Frames != 60 {
		t.Errorf("%d frames, want 60", info.Frames)
	}
}

// TestVideoSketchStartedByTimer: a sketch started from a timer or an
// animation frame, which a still renders, records too, from the time it
// started: frame 0
// (the poster) is the sketch's first frame. Code that starts no sketch
// and makes no canvas still fails with no_canvas, saying so.
func TestVideoSketchStartedByTimer(t *testing.T) {
	needFFmpeg(t)
	b := sharedBrowser(t)
	const sketch = `p => {
  p.setup = () => { p.createCanvas(32, 32); p.pixelDensity(1); };
  p.draw = () => { p.background(p.frameCount === 1 ? 255 : 0, 0, 0); };
}`
	for _, tc := range []struct{ name, code string }{
		{"after 0 ms", `setTimeout(() => new p5(` + sketch + `), 0);`},
		{"after 300 ms", `setTimeout(() => new p5(` + sketch + `), 300);`},
		{"in an animation frame", `requestAnimationFrame(() => new p5(` + sketch + `));`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := videoJob(tc.code, 32, 32, 0.5, 10, "")
			out, err := b.RenderVideo(testenv.Context(t, time.Minute), j, VideoOptions{})
			if err != nil {
				t.Fatalf("RenderVideo: %v", err)
			}
			img, err := png.Decode(bytes.NewReader(out.Artifacts[1].Body))
			if err != nil {
				t.Fatalf("poster: %v", err)
			}
			if r, g, b, _ := img.At(16, 16).RGBA(); r>>8 != 255 || g>>8 != 0 || b>>8 != 0 {
				t.Errorf("poster (frame 0) is %d,%d,%d; want the sketch's first frame, red", r>>8, g>>8, b>>8)
			}
		})
	}
	t.Run("no sketch", func(t *testing.T) {
		_, err := b.RenderVideo(testenv.Context(t, time.Minute), videoJob(`let n = 0; setInterval(() => n++, 5);`, 32, 32, 0.5, 10, ""), VideoOptions{})
		if empplay.ErrorCode(err) != empplay.CodeNoCanvas || !strings.Contains(err.Error(), "no setup() or draw()") {
			t.Errorf("got %v; want no_canvas: no setup() or draw()", err)
		}
	})
}

// TestVideoSlowAssetsSameFrames: a file the sketch loads while it records
// (a loadImage callback, not preload) is in the same frames however fast
// the CDN answered: the virtual clock waits for it, as a still's does.
func TestVideoSlowAssetsSameFrames(t *testing.T) {
	needFFmpeg(t)
	red := color.NRGBA{255, 0, 0, 255}
	tile := solidPNG(t, 4, 4, red)
	b, src := slowCDNBrowser(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/slow/") {
			time.Sleep(800 * time.Millisecond) // the behaviour under test: a slow CDN
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(tile)
	})
	var first []byte
	for _, speed := range []string{"fast", "slow"} {
		j := videoJob(`let img;
function setup() { createCanvas(16, 16); pixelDensity(1); }
function draw() {
  if (frameCount === 3) loadImage('data/tile.png', i => { img = i; });
  background(0, 0, 255);
  if (img) image(img, 0, 0, 16, 16);
}`, 16, 16, 1, 10, "")
		j.Assets = map[string]string{"data/tile.png": src.URL + "/" + speed + "/tile.png"}
		out, err := b.RenderVideo(testenv.Context(t, time.Minute), j, VideoOptions{})
		if err != nil {
			t.Fatalf("%s: RenderVideo: %v", speed, err)
		}
		// The file is asked for in frame 2's draw(): frame 3 has it.
		ctx := testenv.Context(t, time.Minute)
		err = video.Decode(ctx, "", writeArtifact(t, out.Artifacts[0]), 16, 16, func(k int, rgb []byte) error {
			want := [3]int{0, 0, 255}
			if k >= 3 {
				want = [3]int{255, 0, 0}
			}
			if got := patch(rgb, 16, 4, 4, 8, 8); !near(got, want, 24) {
				t.Errorf("%s: frame %d is %v; want %v", speed, k, got, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = out.Artifacts[0].Body
			continue
		}
		if !bytes.Equal(out.Artifacts[0].Body, first) {
			t.Errorf("the slow CDN's video differs from the fast one's")
		}
	}
}
