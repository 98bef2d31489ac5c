package render

import (
	"context"
	"encoding/base64"
	"fmt"
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
// each fails the job as the sketch's error, for good, and none panics.
func TestVideoReports(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		msgs []string // all but the last are taken; the last fails the job
		code empplay.Code
		want string
	}{
		{"a frame size whose base64 length overflows", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[9000000000000000000],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up"},
		{"the largest frame size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[9223372036854775807],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up"},
		{"a negative frame size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[-3],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up"},
		{"a frame size beyond the data", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[4],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up"},
		{"a second frame beyond the data", []string{
			`{"type":"chunks","first":0,"count":2,"sizes":[3,3],"keys":[true,false]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame sizes that do not add up"},
		{"more data than the frame sizes", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[3],"keys":[true]}` + "\nAAAAAAAA",
		}, empplay.CodeSketchError, "more data than its frame sizes"},
		{"a frame that is not base64", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[3],"keys":[true]}` + "\n!!!!",
		}, empplay.CodeSketchError, "frame 0 not in base64 of its size"},
		{"base64 of another size", []string{
			`{"type":"chunks","first":0,"count":1,"sizes":[2],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frame 0 not in base64 of its size"},
		{"a count the sizes do not have", []string{
			`{"type":"chunks","first":0,"count":2,"sizes":[3],"keys":[true]}` + "\nAAAA",
		}, empplay.CodeSketchError, "frames 0-1 after 0 frames"},
		{"frames out of order", []string{chunks(0, "abc"), chunks(2, "def")},
			empplay.CodeSketchError, "frames 2-2 after 1 frames"},
		{"not JSON", []string{"{chunks"}, empplay.CodeSketchError, "not JSON"},
		{"of an unknown type", []string{`{"type":"frames"}`}, empplay.CodeSketchError, `unknown type "frames"`},
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
				if empplay.IsRetryable(err) {
					t.Errorf("%v is retryable", err)
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
