package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/video"
)

type renderFlags struct {
	browser browserFlags
	out     string
	width   int
	height  int
	hash    string
	p5      string
	vars    string
	// video
	video    bool
	duration float64
	fps      float64
	format   string
}

func newRenderCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &renderFlags{}
	c := &cobra.Command{
		Use:   "render SKETCH.js",
		Short: "Render a local p5.js sketch to PNG (or a video), with no Redis and no Azure",
		Long: `render runs one sketch file through the same renderer the workers use and
writes the PNG, so an artist can check a sketch before submitting it.
The sketch sees the same globals as in production (window.empplay with hash,
variables and components).`,
		Example: `  empplay render sketch.js -o out.png --width 800 --height 800 --hash 0x3f2a...
  empplay render sketch.js --p5 2
  empplay render sketch.js --video --duration 10 --fps 30 -o out.mp4`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			logger, err := g.logger(env.Stderr)
			if err != nil {
				return err
			}
			code, err := os.ReadFile(args[0])
			if err != nil {
				return empplay.ConfigError(fmt.Errorf("read sketch: %w", err))
			}
			if f.video && !c.Flags().Changed("output") {
				f.out = "out.mp4"
				if f.format != "" {
					f.out = "out." + f.format
				}
			}
			job := &empplay.Job{
				Type: empplay.TypeP5, Code: string(code), Width: f.width, Height: f.height,
				Bucket: "local", Filename: filepath.Base(f.out), P5Version: f.p5,
			}
			if f.video {
				job.Type, job.Duration, job.FPS, job.Format = empplay.TypeVideo, f.duration, f.fps, f.format
			}
			if f.hash != "" || f.vars != "" {
				job.Context = &empplay.SketchContext{Hash: f.hash}
				if f.vars != "" {
					if !json.Valid([]byte(f.vars)) {
						return empplay.ConfigError(fmt.Errorf("--vars is not valid JSON"))
					}
					job.Context.Variables = json.RawMessage(f.vars)
				}
			}
			if err := job.Validate(); err != nil {
				return empplay.ConfigError(err)
			}
			ctx := c.Context()
			br, err := f.browser.start(ctx, logger)
			if err != nil {
				return err
			}
			defer br.Close()
			rctx, cancel := context.WithTimeout(ctx, job.RenderTimeout(f.browser.timeout()))
			defer cancel()
			start := time.Now()
			bar := &progressBar{w: env.Stderr, start: start}
			if f.video {
				rctx = video.WithProgress(rctx, bar.update)
			}
			out, err := br.Render(rctx, job)
			bar.end()
			if err != nil {
				return fmt.Errorf("%s: %w (error code %s)", args[0], err, empplay.ErrorCode(err))
			}
			if f.video {
				return writeVideo(env.Stdout, f.out, job, out, time.Since(start), bar.recording())
			}
			a := out.Artifacts[0]
			if err := os.WriteFile(f.out, a.Body, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", f.out, err)
			}
			fmt.Fprintf(env.Stdout, "%s: %dx%d PNG, %d bytes, trigger %s, %d ms\n",
				f.out, a.Width, a.Height, len(a.Body), out.Trigger, time.Since(start).Milliseconds())
			return nil
		},
	}
	fs := c.Flags()
	f.browser.register(fs)
	fs.StringVarP(&f.out, "output", "o", "out.png", "PNG file to write")
	fs.IntVar(&f.width, "width", 800, "canvas/viewport width in pixels")
	fs.IntVar(&f.height, "height", 800, "canvas/viewport height in pixels")
	fs.StringVar(&f.hash, "hash", "", "token hash the sketch sees as empplay.hash")
	fs.StringVar(&f.p5, "p5", "1", "p5.js major version: 1 or 2")
	fs.StringVar(&f.vars, "vars", "", "JSON the sketch sees as empplay.variables")
	fs.BoolVar(&f.video, "video", false, "record a video instead of a PNG (out.mp4 unless -o says)")
	fs.Float64Var(&f.duration, "duration", 5, "video: length in seconds")
	fs.Float64Var(&f.fps, "fps", empplay.DefaultVideoFPS, "video: frames per second")
	fs.StringVar(&f.format, "format", "", "video: mp4 (default), webm or gif")
	return c
}

// writeVideo writes a video job's output (and its poster beside it) and
// prints what it is and how fast it was made.
// took is the whole render, rec the time from the first frame to the last.
func writeVideo(w io.Writer, name string, job *empplay.Job, out *empplay.Output, took, rec time.Duration) error {
	v := out.Artifacts[0]
	if err := os.WriteFile(name, v.Body, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	poster := ""
	if len(out.Artifacts) > 1 {
		poster = strings.TrimSuffix(name, filepath.Ext(name)) + ".poster.png"
		if err := os.WriteFile(poster, out.Artifacts[1].Body, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", poster, err)
		}
	}
	n := job.VideoFrames()
	fps := float64(n) / took.Seconds()
	// Frames arrive in batches: too short a recording has no rate.
	recFPS := "n/a"
	if rec >= 100*time.Millisecond {
		recFPS = fmt.Sprintf("%.1f", float64(n-1)/rec.Seconds())
	}
	fmt.Fprintf(w, "%s: %dx%d %s, %d frames, %.2f s, %d bytes, poster %s; rendered in %.2f s: %.1f fps, %.2fx real time (recording %s fps)\n",
		name, v.Width, v.Height, v.MimeType, n, float64(n)/job.VideoFPS(), len(v.Body), poster,
		took.Seconds(), fps, fps/job.VideoFPS(), recFPS)
	return nil
}

// progressBar draws a video's progress on one terminal line, and notes
// when the first and the last frame were done.
type progressBar struct {
	mu          sync.Mutex
	w           io.Writer
	start       time.Time
	last        time.Time
	drawn       bool
	first, done time.Time
}

// recording is the time from the first frame done to the last.
func (p *progressBar) recording() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first.IsZero() || p.done.IsZero() {
		return 0
	}
	return p.done.Sub(p.first)
}

func (p *progressBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done > 0 && p.first.IsZero() {
		p.first = time.Now()
	}
	if total > 0 && done == total {
		p.done = time.Now()
	}
	if total <= 0 || (time.Since(p.last) < 100*time.Millisecond && done < total) {
		return
	}
	p.last = time.Now()
	const width = 30
	fill := done * width / total
	fps := float64(done) / time.Since(p.start).Seconds()
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d frames, %.1f fps", strings.Repeat("#", fill), strings.Repeat(".", width-fill), done, total, fps)
	p.drawn = true
}

func (p *progressBar) end() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
