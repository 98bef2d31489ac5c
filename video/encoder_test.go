package video

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/internal/proc"
	"github.com/empplay/empplay/internal/testenv"
)

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in    string
		want  Format
		mime  string
		codec string
		bad   bool
	}{
		{"", MP4, "video/mp4", "avc", false},
		{"mp4", MP4, "video/mp4", "avc", false},
		{"webm", WebM, "video/webm", "vp9", false},
		{"gif", GIF, "image/gif", "avc", false},
		{"avi", "", "", "", true},
		{"MP4", "", "", "", true},
	} {
		f, err := ParseFormat(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseFormat(%q) = %q; want an error", tc.in, f)
			}
			continue
		}
		if err != nil || f != tc.want || f.MimeType() != tc.mime || f.Codec() != tc.codec {
			t.Errorf("ParseFormat(%q) = %q (%s, %s), %v; want %q (%s, %s)", tc.in, f, f.MimeType(), f.Codec(), err, tc.want, tc.mime, tc.codec)
		}
	}
}

func TestRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fps      float64
		rate     string
		num, den uint32
	}{
		{30, "30/1", 1, 30},
		{24, "24/1", 1, 24},
		{29.97, "29970/1000", 1000, 29970},
		{12.5, "12500/1000", 1000, 12500},
	} {
		num, den := timeBase(tc.fps)
		if got := rate(tc.fps); got != tc.rate || num != tc.num || den != tc.den {
			t.Errorf("fps %v: rate %s, time base %d/%d; want %s, %d/%d", tc.fps, got, num, den, tc.rate, tc.num, tc.den)
		}
	}
}

func TestIVFWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w, err := NewIVFWriter(&buf, "VP90", 320, 240, 1, 30)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range [][]byte{[]byte("abc"), []byte("de")} {
		if err := w.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	b := buf.Bytes()
	if len(b) != 32+12+3+12+2 {
		t.Fatalf("%d bytes; want %d", len(b), 32+12+3+12+2)
	}
	le := binary.LittleEndian
	if string(b[:4]) != "DKIF" || le.Uint16(b[6:]) != 32 || string(b[8:12]) != "VP90" ||
		le.Uint16(b[12:]) != 320 || le.Uint16(b[14:]) != 240 || le.Uint32(b[16:]) != 30 || le.Uint32(b[20:]) != 1 {
		t.Errorf("bad file header % x", b[:32])
	}
	second := b[32+12+3:]
	if le.Uint32(second) != 2 || le.Uint64(second[4:]) != 1 || string(second[12:]) != "de" {
		t.Errorf("bad second frame % x", second)
	}
	if _, err := NewIVFWriter(&buf, "VP9", 1, 1, 1, 1); err == nil {
		t.Error("a 3-byte fourcc was accepted")
	}
}

func TestEncoderErrors(t *testing.T) {
	t.Parallel()
	opts := Options{Format: MP4, Width: 64, Height: 64, FPS: 30, TempDir: t.TempDir()}

	missing := opts
	missing.FFmpeg = filepath.Join(t.TempDir(), "no-ffmpeg")
	if _, err := Start(context.Background(), missing); empplay.ErrorCode(err) != empplay.CodeEncoderError ||
		!empplay.IsRetryable(err) || !strings.Contains(err.Error(), "ffmpeg not found") {
		t.Errorf("missing ffmpeg: %v; want a retryable encoder_error that says ffmpeg was not found", err)
	}
	bad := opts
	bad.FPS = 0
	if _, err := Start(context.Background(), bad); err == nil {
		t.Error("fps 0 was accepted")
	}
	bad = opts
	bad.Format = "avi"
	if _, err := Start(context.Background(), bad); err == nil {
		t.Error("format avi was accepted")
	}

	testenv.SkipShort(t, "ffmpeg")
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		testenv.Missing(t, "ffmpeg")
	}
	for _, format := range []Format{MP4, WebM, GIF} {
		t.Run(string(format), func(t *testing.T) {
			t.Parallel()
			ctx := testenv.Context(t, time.Minute)
			o := opts
			o.Format = format
			o.TempDir = t.TempDir() // this format's work directories alone
			e, err := Start(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if _, err := e.Finish(ctx); empplay.ErrorCode(err) != empplay.CodeEncoderError {
				t.Errorf("Finish without frames: %v; want encoder_error", err)
			}
			if format == WebM {
				e.Close()
				noWorkDir(t, o.TempDir)
				return // -c copy of IVF does not look into the frames
			}
			e2, err := Start(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			defer e2.Close()
			for range 5 {
				if err := e2.WriteFrame([]byte("this is not a video frame")); err != nil {
					break // ffmpeg may already have given up
				}
			}
			_, err = e2.Finish(ctx)
			// Every failure says "video: ffmpeg:"; this is ffmpeg's own
			// stderr (ffmpeg 5.1 and later: "could not find codec parameters").
			if empplay.ErrorCode(err) != empplay.CodeEncoderError || !strings.Contains(strings.ToLower(err.Error()), "could not find codec parameters") {
				t.Errorf("Finish after garbage: %v; want an encoder_error with ffmpeg's message", err)
			}
			e.Close()
			e2.Close()
			e2.Close() // idempotent
			noWorkDir(t, o.TempDir)
		})
	}
}

// noWorkDir fails t if an encoder's work directory is left in dir.
func noWorkDir(t *testing.T, dir string) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(dir, "empplay-video-*")); len(left) > 0 {
		t.Errorf("work directories left after Close: %v", left)
	}
}

// TestEncoderProcessGroup: ffmpeg behind a wrapper script that does not
// exec it (here two sleeps, one in the background, both holding the
// output pipe) is killed with everything it started, when the context
// ends and when the encoder is closed while it runs; Close neither waits
// for the sleeps nor leaves them, or the work directory, behind.
func TestEncoderProcessGroup(t *testing.T) {
	t.Parallel()
	wrapper := filepath.Join(t.TempDir(), "ffmpeg")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nsleep 30 &\nsleep 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration // of the context; 0: none, Close alone
	}{
		// Long enough for sh and both sleeps to start on a busy host: the
		// group must hold all three before the context ends.
		{"the context ends", 2 * time.Second},
		{"closed while it runs", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			tmp := t.TempDir()
			e, err := Start(ctx, Options{FFmpeg: wrapper, Format: MP4, Width: 64, Height: 64, FPS: 30, TempDir: tmp})
			if err != nil {
				t.Fatal(err)
			}
			pgid := e.cmd.Process.Pid
			// The script and both sleeps, in ffmpeg's group.
			if !poll(5*time.Second, func() bool { return len(live(pgid)) == 3 }) {
				t.Errorf("group %d holds %v; want the script and two sleeps", pgid, live(pgid))
			}
			// From the context's end when there is one: Finish waits for it.
			start := time.Now()
			if dl, ok := ctx.Deadline(); ok && dl.After(start) {
				start = dl
			}
			if tc.timeout > 0 {
				if err := e.WriteFrame([]byte("frame")); err != nil {
					t.Fatal(err)
				}
				// It waits for the script until the context ends.
				if _, err := e.Finish(ctx); !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Finish: %v; want the context's end", err)
				}
			}
			e.Close()
			// Under waitDelay (5s): the group's kill, not the wait's bound,
			// freed the pipe.
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Finish and Close returned %v after the context's end (or the call to Close); want under 3s", d)
			}
			if !poll(5*time.Second, func() bool { return len(live(pgid)) == 0 }) {
				t.Errorf("after Close, group %d still holds %v", pgid, live(pgid))
			}
			noWorkDir(t, tmp)
		})
	}
}

// live is the pids of process group pgid that have not exited (a killed
// orphan may stay a zombie where nothing reaps it).
func live(pgid int) []int {
	var pids []int
	for _, p := range proc.InGroup(pgid) {
		if p.Stat.State != 'Z' {
			pids = append(pids, p.PID)
		}
	}
	return pids
}

// poll reports whether cond came true within timeout.
func poll(timeout time.Duration, cond func() bool) bool {
	for end := time.Now().Add(timeout); ; time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}
