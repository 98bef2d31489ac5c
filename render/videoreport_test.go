package render

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/video"
)

// reportRecording is the recording of a 3-frame 8x8 GIF with no tab and no
// browser, for feeding handle the page's messages by hand: a GIF's frames
// go to a file until Finish, whose ffmpeg fails with "fake ffmpeg: no".
func reportRecording(t *testing.T) *recording {
	t.Helper()
	ffmpeg := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(ffmpeg, []byte("#!/bin/sh\necho 'fake ffmpeg: no' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	job := videoJob("", 8, 8, 0.1, 30, "gif")
	cfg := newVideoConfig(job, video.GIF, 0)
	if cfg.Frames != 3 {
		t.Fatalf("%d frames; want 3", cfg.Frames)
	}
	enc, err := video.Start(context.Background(), video.Options{
		FFmpeg: ffmpeg, Format: video.GIF, TempDir: t.TempDir(), Width: 8, Height: 8, FPS: cfg.FPS,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(enc.Close)
	return &recording{job: job, cfg: cfg, format: video.GIF, enc: enc}
}

// chunks is video.js's message of the encoded frames first, first+1, ...
func chunks(first int, frames ...string) string {
	sizes, keys, data := []string{}, []string{}, ""
	for _, f := range frames {
		sizes = append(sizes, fmt.Sprint(len(f)))
		keys = append(keys, "false")
		data += base64.StdEncoding.EncodeToString([]byte(f))
	}
	return fmt.Sprintf(`{"type":"chunks","first":%d,"count":%d,"sizes":[%s],"keys":[%s],"done":%d,"total":3}`+"\n%s",
		first, len(frames), strings.Join(sizes, ","), strings.Join(keys, ","), first+len(frames), data)
}

// TestVideoReports feeds a recording messages that video.js does not send
// (only the page's own code, reaching the binding through an iframe, can):
// each fails the job as the sketch's error, for good, and none panics. The
// failures video.js does report keep their codes.
func TestVideoReports(t *testing.T) {
	t.Parallel()
	poster := func(w, h int) string {
		return fmt.Sprintf(`{"type":"poster","width":%d,"height":%d}`+"\n", w, h) +
			base64.StdEncoding.EncodeToString(posterPNG(t, w, h))
	}
	frames := chunks(0, "abc", "de", "f")
	for _, tc := range []struct {
		name      string
		msgs      []string // all but the last are taken; the last fails the job
		code      empplay.Code
		want      string
		retryable bool
	}{
		{"a frame size whose base64 length overflows", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[9000000000000000000],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up", false},
		{"the largest frame size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[9223372036854775807],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up", false},
		{"a negative frame size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[-3],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up", false},
		{"a frame size beyond the data", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[4],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up", false},
		{"a second frame beyond the data", []string{
			`{"type":"chunks","first":0,"count":2,"sizes":[3,3],"keys":[true,false]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up", false},
		{"more data than the frame sizes", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[3],"keys":[true]}` + "\nAAAAAAAA",
		}, empplay.CodeSketchError, "more data than its frame sizes", false},
		{"a frame that is not base64", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[3],"keys":[true]}` + "\n!!!!",
		}, empplay.CodeSketchError, "frame 0 not in base64 of its size", false},
		{"base64 of another size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[2],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame 0 not in base64 of its size", false},
		{"a count the sizes do not have", []string{
			`{"type":"chunks","first":0,"count":2,"sizes":[3],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frames 0-1 after 0 frames", false},
		{"frames out of order", []string{chunks(0, "abc"), chunks(2, "def")},
			empplay.CodeSketchError, "frames 2-2 after 1 frames", false},
		{"not JSON", []string{"{chunks"}, empplay.CodeSketchError, "not JSON", false},
		{"of an unknown type", []string{`{"type":"frames"}`}, empplay.CodeSketchError, `unknown type "frames"`, false},

		{"the end before the frames", []string{`{"type":"done","frames":3}`},
			empplay.CodeSketchError, "the end of a 3-frame video after 0 of 3 frames", false},
		{"the end after some frames", []string{poster(8, 8), chunks(0, "abc"), `{"type":"done","frames":3}`},
			empplay.CodeSketchError, "after 1 of 3 frames", false},
		{"the end of a video of another length", []string{poster(8, 8), frames, `{"type":"done","frames":5}`},
			empplay.CodeSketchError, "the end of a 5-frame video after 3 of 3 frames", false},
		{"the end without a poster", []string{frames, `{"type":"done","frames":3}`},
			empplay.CodeSketchError, "without a poster frame", false},
		{"a poster that is not base64", []string{`{"type":"poster","width":8,"height":8}` + "\n!!!!"},
			empplay.CodeSketchError, "a poster frame that is not base64", false},
		{"a poster that is not a PNG", []string{`{"type":"poster","width":8,"height":8}` + "\naGVsbG8="},
			empplay.CodeSketchError, "a poster frame that is not a PNG", false},
		{"a poster of another size", []string{poster(16, 8)},
			empplay.CodeSketchError, "a 16x8 poster frame for a 8x8 video", false},
		{"a second poster", []string{poster(8, 8), poster(8, 8)},
			empplay.CodeSketchError, "a second poster frame", false},
		{"no p5.js after frames", []string{chunks(0, "abc"), `{"type":"nop5"}`},
			empplay.CodeSketchError, "p5.js missing after the recording began", false},
		{"an encoder failure past the last frame", []string{`{"type":"encoder","message":"x","frame":3}`},
			empplay.CodeSketchError, "an encoder failure at frame 3 after 0 frames", false},
		{"an encoder failure before frame -1", []string{`{"type":"encoder","message":"x","frame":-2}`},
			empplay.CodeSketchError, "an encoder failure at frame -2", false},
		{"an encoder failure at a frame before those sent", []string{frames, `{"type":"encoder","message":"x","frame":1}`},
			empplay.CodeSketchError, "an encoder failure at frame 1 after 3 frames", false},
		{"a worker that did not start, after the poster", []string{poster(8, 8), `{"type":"encoder","message":"x","frame":-1}`},
			empplay.CodeSketchError, "an encoder failure at frame -1 after 0 frames", false},

		// What video.js does send.
		{"no p5.js", []string{`{"type":"nop5"}`}, empplay.CodeBrowserError, "p5.js did not load", true},
		{"a worker that did not start", []string{`{"type":"encoder","message":"no worker","frame":-1}`},
			empplay.CodeEncoderError, "at frame -1: no worker", true},
		{"an encoder failure at frame 1", []string{poster(8, 8), chunks(0, "abc"), `{"type":"encoder","message":"broke","frame":1}`},
			empplay.CodeEncoderError, "at frame 1: broke", true},
		{"an encoder failure at the last frame", []string{poster(8, 8), frames, `{"type":"encoder","message":"broke","frame":2}`},
			empplay.CodeEncoderError, "at frame 2: broke", true},
		{"the end, to ffmpeg", []string{poster(8, 8), frames, `{"type":"done","frames":3}`},
			empplay.CodeEncoderError, "fake ffmpeg: no", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := reportRecording(t)
			for i, m := range tc.msgs {
				last := i == len(tc.msgs)-1
				out, done, err := handleNoPanic(t, r, m)
				if t.Failed() {
					return
				}
				if !last {
					if err != nil || done {
						t.Fatalf("message %d: done %v, %v; want it taken", i, done, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("done %v with output %v; want %s", done, out, tc.code)
				}
				if got := empplay.ErrorCode(err); got != tc.code {
					t.Errorf("code %s (%v); want %s", got, err, tc.code)
				}
				if got := empplay.IsRetryable(err); got != tc.retryable {
					t.Errorf("retryable %v (%v); want %v", got, err, tc.retryable)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %q does not say %q", err, tc.want)
				}
			}
		})
	}
}

// handleNoPanic is r.handle(payload), with a panic reported as the
// test's failure.
func handleNoPanic(t *testing.T, r *recording, payload string) (out *empplay.Output, done bool, err error) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Errorf("handle(%.80q) panicked: %v", payload, p)
		}
	}()
	return r.handle(context.Background(), payload)
}

// posterPNG is a w x h PNG.
func posterPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
