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
	assets  assetFlags
	out     string
	width   int
	height  int
	hash    string
	p5      string
	vars    string
	// job is a job file (--job, or an argument ending in .json).
	job string
	// context is a file with the job's context: {hash, variables, components}.
	context       string
	captureFrames int
	// video
	video    bool
	duration float64
	fps      float64
	format   string
}

func newRenderCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &renderFlags{}
	c := &cobra.Command{
		Use:   "render SKETCH.js | JOB.json",
		Short: "Render a local p5.js sketch or job file to PNG (or a video), with no Redis and no Azure",
		Long: `render runs one sketch, or one whole job, through the same renderer the
workers use and writes the output, so an artist can check a sketch before
submitting it. A job file (JOB.json, or --job FILE) is the JSON a producer
sends, so every field can be tried locally: context (hash, variables,
components), captureFrames, captureDelayMs, captureSelector,
deviceScaleFactor, allowBlank, timeoutMs, type js with html and
javascript, video. bucket and filename may be left out. Flags given
explicitly override the file's fields.

The sketch sees the same globals as in production:
  EmProps Studio  hash, variables, getVariable(name), components,
                  getComponentOutput(alias), pseudorandomSeed(seed),
                  pseudorandom(min, max), pseudorandoms(n, min, max),
                  pseudorandomInteger(min, max), pseudorandomIntegers(n, min, max),
                  pseudorandomBoolean(), pseudorandomPick(list),
                  pseudorandomWeightedPick(list, weights),
                  pseudorandomPickButNot(list, excluded), capture()
  fxhash          $fx (hash, rand, minter, randminter, iteration, preview(),
                  params(), getParam(), features(), ...), fxhash, fxrand,
                  fxminter, fxrandminter, fxpreview(), isFxpreview
  Art Blocks      tokenData {hash, tokenId}
  empplay         empplay {hash, seed, variables, components, width, height,
                  capture()} (and video {fps, frames, duration} in videos)
Math.random, p5's random() and noise() are seeded from the hash.`,
		Example: `  empplay render sketch.js -o out.png --width 800 --height 800 --hash 0x3f2a...
  empplay render sketch.js --p5 2 --capture-frames 12
  empplay render sketch.js --context context.json
  empplay render job.json -o out.png
  empplay render --job job.json
  empplay render sketch.js --video --duration 10 --fps 30 -o out.mp4`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			logger, err := g.logger(env.Stderr)
			if err != nil {
				return err
			}
			if f.job == "" && len(args) == 1 && strings.HasSuffix(strings.ToLower(args[0]), ".json") {
				f.job = args[0]
			}
			if f.job == "" && len(args) == 0 {
				return empplay.ConfigError(fmt.Errorf("render needs a sketch file or a job file (--job)"))
			}
			if f.video && !c.Flags().Changed("output") {
				f.out = "out.mp4"
				if f.format != "" {
					f.out = "out." + f.format
				}
			}
			job, err := f.buildJob(c, args)
			if err != nil {
				return err
			}
			name := f.job
			if name == "" {
				name = args[0]
			}
			args = []string{name}
			if err := job.Validate(); err != nil {
				return empplay.ConfigError(err)
			}
			// The artist's own machine: the job's own sources are allowed,
			// with ASSET_ORIGINS and the usual limits and cache.
			fetch, limits, err := f.assets.build(job.SourceURLs(), f.browser.timeout())
			if err != nil {
				return err
			}
			f.browser.fetcher, f.browser.assetLimits = fetch, limits
			ctx := c.Context()
			br, err := f.browser.start(ctx, logger)
			if err != nil {
				return err
			}
			defer br.Close()
			rctx, cancel := context.WithTimeout(ctx, job.RenderTimeout(f.browser.timeout()))
			defer cancel()
			if job.Type == empplay.TypeP5 || job.Type == empplay.TypeVideo {
				// The time printed is the render's, from a warm tab, as a
				// worker has one between jobs: Chromium's start is not in it.
				if err := br.Warm(rctx, job.P5Version); err != nil {
					return fmt.Errorf("%s: %w", args[0], err)
				}
			}
			start := time.Now()
			bar := &progressBar{w: env.Stderr, start: start}
			if job.Type == empplay.TypeVideo {
				rctx = video.WithProgress(rctx, bar.update)
			}
			out, err := br.Render(rctx, job)
			bar.end()
			if err != nil {
				return fmt.Errorf("%s: %w (error code %s)", args[0], err, empplay.ErrorCode(err))
			}
			if job.Type == empplay.TypeVideo {
				return writeVideo(env.Stdout, f.out, job, out, time.Since(start), bar.recording())
			}
			for i, a := range out.Artifacts {
				name := f.out
				if i > 0 {
					name = filepath.Join(filepath.Dir(f.out), filepath.Base(a.Name))
				}
				if err := os.WriteFile(name, a.Body, 0o644); err != nil {
					return fmt.Errorf("write %s: %w", name, err)
				}
				blank := ""
				if out.Blank {
					blank = ", one colour throughout"
				}
				kind := a.MimeType
				if kind == "image/png" {
					kind = "PNG"
				}
				fmt.Fprintf(env.Stdout, "%s: %dx%d %s, %d bytes, trigger %s%s, %d ms\n",
					name, a.Width, a.Height, kind, len(a.Body), out.Trigger, blank, time.Since(start).Milliseconds())
			}
			for _, w := range out.Warnings {
				fmt.Fprintf(env.Stdout, "warning: %s\n", w)
			}
			return nil
		},
	}
	fs := c.Flags()
	f.browser.register(fs)
	f.assets.register(fs)
	fs.StringVarP(&f.out, "output", "o", "out.png", "PNG file to write")
	fs.IntVar(&f.width, "width", 800, "canvas/viewport width in pixels")
	fs.IntVar(&f.height, "height", 800, "canvas/viewport height in pixels")
	fs.StringVar(&f.hash, "hash", "", "token hash the sketch sees as empplay.hash")
	fs.StringVar(&f.p5, "p5", "1", "p5.js major version: 1 or 2")
	fs.StringVar(&f.vars, "vars", "", "JSON the sketch sees as variables (and empplay.variables)")
	fs.StringVar(&f.job, "job", "", "job file: the JSON a producer sends (flags given explicitly override its fields)")
	fs.StringVar(&f.context, "context", "", "JSON file with the job's context: {hash, variables, components}")
	fs.IntVar(&f.captureFrames, "capture-frames", 0, "capture after this many draw() frames (the job's captureFrames)")
	fs.BoolVar(&f.video, "video", false, "record a video instead of a PNG (out.mp4 unless -o says)")
	fs.Float64Var(&f.duration, "duration", 5, "video: length in seconds")
	fs.Float64Var(&f.fps, "fps", empplay.DefaultVideoFPS, "video: frames per second")
	fs.StringVar(&f.format, "format", "", "video: mp4 (default), webm or gif")
	return c
}

// buildJob is the job to render: the job file's, or a p5 job of the sketch
// in args[0], with the flags given explicitly on top.
func (f *renderFlags) buildJob(c *cobra.Command, args []string) (*empplay.Job, error) {
	changed := c.Flags().Changed
	job := &empplay.Job{Type: empplay.TypeP5, Width: f.width, Height: f.height, P5Version: f.p5}
	if f.job != "" {
		raw, err := os.ReadFile(f.job)
		if err != nil {
			return nil, empplay.ConfigError(fmt.Errorf("read job: %w", err))
		}
		job = &empplay.Job{}
		if err := json.Unmarshal(raw, job); err != nil {
			return nil, empplay.ConfigError(fmt.Errorf("%s is not a job: %w", f.job, err))
		}
		if job.Type == "" {
			job.Type = empplay.TypeP5
		}
		if job.Width == 0 || changed("width") {
			job.Width = f.width
		}
		if job.Height == 0 || changed("height") {
			job.Height = f.height
		}
		if changed("p5") {
			job.P5Version = f.p5
		}
	}
	if len(args) == 1 && f.job != args[0] {
		code, err := os.ReadFile(args[0])
		if err != nil {
			return nil, empplay.ConfigError(fmt.Errorf("read sketch: %w", err))
		}
		job.Code = string(code)
	}
	if job.Bucket == "" {
		job.Bucket = "local"
	}
	if job.Filename == "" || changed("output") {
		job.Filename = filepath.Base(f.out)
	}
	if f.video {
		job.Type, job.Duration, job.FPS, job.Format = empplay.TypeVideo, f.duration, f.fps, f.format
	}
	if changed("capture-frames") {
		job.CaptureFrames = f.captureFrames
	}
	if f.context != "" {
		raw, err := os.ReadFile(f.context)
		if err != nil {
			return nil, empplay.ConfigError(fmt.Errorf("read context: %w", err))
		}
		ctx := &empplay.SketchContext{}
		if err := json.Unmarshal(raw, ctx); err != nil {
			return nil, empplay.ConfigError(fmt.Errorf("%s is not a context {hash, variables, components}: %w", f.context, err))
		}
		job.Context = ctx
	}
	if f.hash != "" || f.vars != "" {
		if job.Context == nil {
			job.Context = &empplay.SketchContext{}
		}
		if f.hash != "" {
			job.Context.Hash = f.hash
		}
		if f.vars != "" {
			if !json.Valid([]byte(f.vars)) {
				return nil, empplay.ConfigError(fmt.Errorf("--vars is not valid JSON"))
			}
			job.Context.Variables = json.RawMessage(f.vars)
		}
	}
	return job, nil
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
