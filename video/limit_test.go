package video

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/testenv"
)

// noiseH264 is 10 frames of 320x240 noise at 10 fps as H.264 (Annex B),
// made by ffmpeg: cheap as H.264 at a low quality, and about a megabyte as
// a GIF, whose every pixel of every frame is kept.
func noiseH264(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "noise.h264")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
		"-f", "lavfi", "-i", "nullsrc=s=320x240:r=10,geq=lum='random(1)*255':cb=128:cr=128",
		"-frames:v", "10", "-c:v", "libx264", "-crf", "40", "-pix_fmt", "yuv420p", "-f", "h264", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make the test video: %v: %s", err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncoderSizeLimit: a video over MaxBytes fails with output_too_large,
// for good, as soon as that is known: while its frames come for an MP4
// (no more is written), in Finish for the bytes the muxer adds and for a
// GIF, which ffmpeg stops writing soon after the limit.
func TestEncoderSizeLimit(t *testing.T) {
	t.Parallel()
	testenv.SkipShort(t, "ffmpeg")
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Missing(t, "ffmpeg")
	}
	stream := noiseH264(t)
	n := int64(len(stream))
	// The stream in 10 pieces: the encoder counts bytes, not access units.
	piece := (len(stream) + 9) / 10
	for _, tc := range []struct {
		name      string
		format    Format
		max       int64
		failFrame int    // the frame WriteFrame refuses; -1 none
		wantErr   string // in Finish's output_too_large; "" for a video
	}{
		{"mp4 without a limit", MP4, 0, -1, ""},
		{"mp4 under the limit", MP4, n + 64<<10, -1, ""},
		{"mp4 frames over the limit", MP4, int64(5 * piece), 5, ""},
		{"mp4 over the limit with its container", MP4, n, -1, "with its 10 frames"},
		{"gif under the limit", GIF, 4 << 20, -1, ""},
		{"gif over the limit", GIF, n + 1024, -1, "GIF is over this worker's limit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := testenv.Context(t, time.Minute)
			dir := t.TempDir()
			e, err := Start(ctx, Options{Format: tc.format, Width: 320, Height: 240, FPS: 10, TempDir: dir, MaxBytes: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			defer noWorkDir(t, dir)
			defer e.Close()
			for i := 0; i < 10; i++ {
				err := e.WriteFrame(stream[i*piece : min(len(stream), (i+1)*piece)])
				if i != tc.failFrame {
					if err != nil {
						t.Fatalf("frame %d: %v", i, err)
					}
					continue
				}
				tooLarge(t, err, "at frame 5")
				if e.Frames() != 5 {
					t.Errorf("%d frames written; want the 5 under the limit", e.Frames())
				}
				return
			}
			res, err := e.Finish(ctx)
			if tc.wantErr != "" {
				tooLarge(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.max > 0 && int64(len(res.Body)) > tc.max {
				t.Errorf("the %s is %d bytes, over the limit of %d", tc.format, len(res.Body), tc.max)
			}
			if tc.format == GIF && (len(res.Body) < int(n) || !bytes.HasPrefix(res.Body, []byte("GIF89a"))) {
				t.Errorf("the GIF is %d bytes (the H.264 %d), starting %q; want a bigger GIF", len(res.Body), n, res.Body[:min(6, len(res.Body))])
			}
		})
	}
}

// tooLarge fails t unless err is a permanent output_too_large whose
// message names the setting and says when.
func tooLarge(t *testing.T, err error, when string) {
	t.Helper()
	if empplay.ErrorCode(err) != empplay.CodeOutputTooLarge || empplay.IsRetryable(err) ||
		!strings.Contains(err.Error(), "VIDEO_MAX_MB") || !strings.Contains(err.Error(), when) {
		t.Errorf("got %v (%s); want a permanent output_too_large %q naming VIDEO_MAX_MB", err, empplay.ErrorCode(err), when)
	}
}
