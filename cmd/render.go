package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/empplay/empplay"
)

type renderFlags struct {
	browser browserFlags
	out     string
	width   int
	height  int
	hash    string
	p5      string
	vars    string
}

func newRenderCmd(env *Env, g *globalFlags) *cobra.Command {
	f := &renderFlags{}
	c := &cobra.Command{
		Use:   "render SKETCH.js",
		Short: "Render a local p5.js sketch to PNG, with no Redis and no Azure",
		Long: `render runs one sketch file through the same renderer the workers use and
writes the PNG, so an artist can check a sketch before submitting it.
The sketch sees the same globals as in production (window.empplay with hash,
variables and components).`,
		Example: `  empplay render sketch.js -o out.png --width 800 --height 800 --hash 0x3f2a...
  empplay render sketch.js --p5 2`,
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
			job := &empplay.Job{
				Type: empplay.TypeP5, Code: string(code), Width: f.width, Height: f.height,
				Bucket: "local", Filename: filepath.Base(f.out), P5Version: f.p5,
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
			rctx, cancel := context.WithTimeout(ctx, f.browser.timeout())
			defer cancel()
			start := time.Now()
			out, err := br.Render(rctx, job)
			if err != nil {
				return fmt.Errorf("%s: %w (error code %s)", args[0], err, empplay.ErrorCode(err))
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
	return c
}
