// This file is `empplay gpu render`: a sketch rendered a few times on one
// backend, to see which renderer drew it and how fast.

package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/render"
)

// gpuRenderReport is what `empplay gpu render` prints.
type gpuRenderReport struct {
	Sketch  string      `json:"sketch"`
	Backend gpu.Backend `json:"backend"`
	// OnGPU is true when the browser (and the sketch, for WebGL) drew on
	// a GPU, not a software rasterizer.
	OnGPU bool `json:"onGPU"`
	// Renderer is the WebGL renderer that drew the sketch ("" for a
	// sketch without WebGL); BrowserRenderer the one the browser's
	// start-up probe read (Probe.Renderer).
	Renderer        string    `json:"renderer"`
	BrowserRenderer string    `json:"browserRenderer"`
	StartMs         float64   `json:"startMs"`
	MedianMs        float64   `json:"medianMs"`
	RenderMs        []float64 `json:"renderMs"`
	Trigger         string    `json:"trigger"`
	Bytes           int       `json:"bytes"`
	Output          string    `json:"output,omitempty"`
	// Probe is the browser's start-up WebGL probe.
	Probe render.WebGLInfo `json:"probe"`
}

func newGPURenderCmd(env *Env) *cobra.Command {
	var (
		br        browserFlags
		mode      gpuFlags
		backend   string
		runs      int
		width     int
		height    int
		out       string
		asJSON    bool
		requireOn bool
	)
	c := &cobra.Command{
		Use:   "render SKETCH.js",
		Short: "Render a p5.js sketch on one rendering backend and report the WebGL renderer and timings",
		Long: `render starts Chromium with the flags of one backend (cpu, nvidia or mesa; auto:
what --gpu-acceleration and detection choose), reads its WebGL renderer,
renders the sketch --runs times and prints the renderer and the timings.
With --require-gpu it exits 1 when the drawing was done in software.`,
		Example: `  empplay gpu render sketch.js --backend nvidia --require-gpu
  empplay gpu render sketch.js --backend cpu --runs 5 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			logger := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			code, err := os.ReadFile(args[0])
			if err != nil {
				return empplay.ConfigError(fmt.Errorf("read sketch: %w", err))
			}
			if runs < 1 {
				return empplay.ConfigError(fmt.Errorf("--runs must be at least 1, got %d", runs))
			}
			ctx := c.Context()
			if backend == "auto" {
				backend = ""
			}
			b, err := resolveBackend(ctx, &gpuWorkerFlags{backend: backend}, &mode, logger)
			if err != nil {
				return err
			}
			rep := gpuRenderReport{Sketch: args[0], Backend: b, Output: out}
			start := time.Now()
			browser, err := br.startOn(ctx, b, logger)
			if err != nil {
				return err
			}
			defer browser.Close()
			rep.StartMs = empplay.Ms(time.Since(start))
			if rep.Probe, err = browser.ProbeWebGL(ctx); err != nil {
				return err
			}
			rep.BrowserRenderer = rep.Probe.Renderer
			job := &empplay.Job{Type: empplay.TypeP5, Code: string(code), Width: width, Height: height, Bucket: "local", Filename: "gpu.png"}
			if err := job.Validate(); err != nil {
				return empplay.ConfigError(err)
			}
			if err := rep.measure(ctx, browser, job, runs, br.timeout()); err != nil {
				return err
			}
			if asJSON {
				if err := json.NewEncoder(env.Stdout).Encode(rep); err != nil {
					return fmt.Errorf("write report: %w", err)
				}
			} else {
				drew := rep.Renderer
				if drew == "" {
					drew = "(no WebGL: 2D canvas)"
				}
				fmt.Fprintf(env.Stdout, "%s: backend %s, browser renderer %q, sketch renderer %s, on GPU %v, start %.0f ms, render median %.0f ms of %d, trigger %s, %d bytes\n",
					args[0], b, rep.Probe.Renderer, drew, rep.OnGPU, rep.StartMs, rep.MedianMs, runs, rep.Trigger, rep.Bytes)
			}
			if requireOn && !rep.OnGPU {
				return &empplay.ExitError{Code: empplay.ExitFailure,
					Err: fmt.Errorf("%s was not drawn on a GPU (browser renderer %q, sketch renderer %q)", args[0], rep.Probe.Renderer, rep.Renderer)}
			}
			return nil
		},
	}
	fs := c.Flags()
	br.register(fs)
	mode.register(fs)
	fs.StringVar(&backend, "backend", "auto", "cpu, nvidia, mesa, or auto (detect, as --gpu-acceleration says)")
	fs.IntVar(&runs, "runs", 3, "renders of the sketch in the one browser (the first is cold)")
	fs.IntVar(&width, "width", 800, "canvas/viewport width in pixels")
	fs.IntVar(&height, "height", 800, "canvas/viewport height in pixels")
	fs.StringVarP(&out, "output", "o", "", "write the last PNG here")
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
	fs.BoolVar(&requireOn, "require-gpu", false, "exit 1 unless the drawing was done on a GPU")
	return c
}

// sketchRenderer is what the benchmark needs of the browser.
type sketchRenderer interface {
	Render(ctx context.Context, job *empplay.Job) (*empplay.Output, error)
}

// measure renders job runs times with r, each under timeout, and fills in
// the timings, the renderer that drew it and whether that was a GPU; the
// last PNG goes to rep.Output when set.
func (rep *gpuRenderReport) measure(ctx context.Context, r sketchRenderer, job *empplay.Job, runs int, timeout time.Duration) error {
	for range runs {
		rctx, cancel := context.WithTimeout(ctx, timeout)
		t := time.Now()
		o, err := r.Render(rctx, job)
		cancel()
		if err != nil {
			return fmt.Errorf("%s: %w (error code %s)", rep.Sketch, err, empplay.ErrorCode(err))
		}
		rep.RenderMs = append(rep.RenderMs, empplay.Ms(time.Since(t)))
		rep.Renderer, rep.Trigger, rep.Bytes = o.Renderer, o.Trigger, len(o.Artifacts[0].Body)
		if rep.Output != "" {
			if err := os.WriteFile(rep.Output, o.Artifacts[0].Body, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", rep.Output, err)
			}
		}
	}
	sorted := slices.Clone(rep.RenderMs)
	slices.Sort(sorted)
	rep.MedianMs = sorted[len(sorted)/2]
	rep.OnGPU = rep.Probe.Renderer != "" && !rep.Probe.Software &&
		(rep.Renderer == "" || !gpu.IsSoftwareRenderer(rep.Renderer))
	return nil
}
