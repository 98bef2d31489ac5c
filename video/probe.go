package video

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// Info is what ffprobe says about the first video stream of a file.
type Info struct {
	Format     string  `json:"format"` // ffprobe's format_name ("mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "gif")
	Codec      string  `json:"codec"`  // "h264", "vp9", "gif"
	Profile    string  `json:"profile,omitempty"`
	PixFmt     string  `json:"pixFmt"`
	ColorRange string  `json:"colorRange,omitempty"`
	ColorSpace string  `json:"colorSpace,omitempty"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	Frames     int     `json:"frames"`   // counted by decoding
	Duration   float64 `json:"duration"` // seconds, of the container
	FPS        float64 `json:"fps"`      // the stream's average frame rate
}

// Probe runs ffprobe (the one next to ffmpeg in PATH when ffprobe is "")
// on the file at path and counts its frames.
func Probe(ctx context.Context, ffprobe, path string) (*Info, error) {
	if ffprobe == "" {
		ffprobe = "ffprobe"
	}
	cmd := exec.CommandContext(ctx, ffprobe, "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,profile,pix_fmt,color_range,color_space,width,height,nb_read_frames,avg_frame_rate:format=format_name,duration",
		"-of", "json", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ffprobe %s: %w: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	var doc struct {
		Streams []struct {
			Codec      string `json:"codec_name"`
			Profile    string `json:"profile"`
			PixFmt     string `json:"pix_fmt"`
			ColorRange string `json:"color_range"`
			ColorSpace string `json:"color_space"`
			Width      int    `json:"width"`
			Height     int    `json:"height"`
			Frames     string `json:"nb_read_frames"`
			Rate       string `json:"avg_frame_rate"`
		} `json:"streams"`
		Format struct {
			Name     string `json:"format_name"`
			Duration string `json:"duration"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("ffprobe %s: decode its answer: %w", path, err)
	}
	if len(doc.Streams) == 0 {
		return nil, fmt.Errorf("ffprobe %s: no video stream", path)
	}
	s := doc.Streams[0]
	info := &Info{
		Format: doc.Format.Name, Codec: s.Codec, Profile: s.Profile, PixFmt: s.PixFmt,
		ColorRange: s.ColorRange, ColorSpace: s.ColorSpace, Width: s.Width, Height: s.Height,
	}
	info.Frames, _ = strconv.Atoi(s.Frames)
	info.Duration, _ = strconv.ParseFloat(doc.Format.Duration, 64)
	if num, den, ok := strings.Cut(s.Rate, "/"); ok {
		n, _ := strconv.ParseFloat(num, 64)
		d, _ := strconv.ParseFloat(den, 64)
		if d > 0 {
			info.FPS = n / d
		}
	}
	return info, nil
}

// Decode decodes the video at path to RGB (8 bits per channel, rows top to
// bottom) with ffmpeg (from PATH when ffmpeg is ""), and calls f with each
// frame in order, reusing the buffer. H.264 and VP9 are read as BT.709
// limited range, what empplay writes. It stops at f's first error.
func Decode(ctx context.Context, ffmpeg, path string, width, height int, f func(k int, rgb []byte) error) error {
	if ffmpeg == "" {
		ffmpeg = "ffmpeg"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
		"-vf", "scale=in_color_matrix=bt709:in_range=tv:out_range=pc,format=rgb24",
		"-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	r := bufio.NewReaderSize(out, 1<<20)
	buf := make([]byte, width*height*3)
	var ferr error
	for k := 0; ; k++ {
		if _, err := io.ReadFull(r, buf); err != nil {
			if !errors.Is(err, io.EOF) {
				ferr = fmt.Errorf("decode %s: frame %d: %w", path, k, err)
			}
			break
		}
		if ferr = f(k, buf); ferr != nil {
			cancel()
			break
		}
	}
	werr := cmd.Wait()
	if ferr != nil {
		return ferr
	}
	if werr != nil {
		return fmt.Errorf("decode %s: %w: %s", path, werr, strings.TrimSpace(stderr.String()))
	}
	return nil
}
