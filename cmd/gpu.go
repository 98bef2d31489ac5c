package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/render"
	"github.com/empplay/empplay/supervisor"
)

// gpuDetectTimeout bounds GPU detection: a wedged NVIDIA driver can block
// nvmlInit for minutes.
const gpuDetectTimeout = 10 * time.Second

// gpuFlags choose GPU acceleration. The worker can register them too.
type gpuFlags struct {
	mode string
}

func (f *gpuFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.mode, "gpu-acceleration", gpu.ModeAuto,
		"render WebGL and raster on a GPU: auto (when one is usable, else on the CPU with a warning), on (require one) or off")
	bindEnv(fs, "gpu-acceleration", "GPU_ACCELERATION")
}

// gpuChoice is what the host offers and what empplay makes of it; `empplay
// gpu --json` prints it.
type gpuChoice struct {
	Mode     string      `json:"mode"`
	Backend  gpu.Backend `json:"backend,omitempty"`
	Warning  string      `json:"warning,omitempty"`
	Error    string      `json:"error,omitempty"`
	Flags    []string    `json:"flags"` // Chromium switches for the backend
	Detected gpu.Info    `json:"detected"`
	// Plan is how `empplay supervise` would share the GPU among the
	// playwright slots of WORKERS.
	Plan *supervisor.GPUPlan `json:"plan,omitempty"`
}

// choose detects the host's GPUs with d and picks the backend for f.mode.
// The error, an invalid mode or "on" without a usable GPU, is a
// configuration error naming the flag and the variable; the choice is
// filled in as far as it got either way.
func (f *gpuFlags) choose(ctx context.Context, d *gpu.Detector) (gpuChoice, error) {
	ctx, cancel := context.WithTimeout(ctx, gpuDetectTimeout)
	defer cancel()
	c := gpuChoice{Mode: f.mode, Flags: []string{}, Detected: d.Detect(ctx)}
	b, warning, err := gpu.Choose(f.mode, c.Detected)
	if err != nil {
		c.Error = err.Error()
		if errors.Is(err, gpu.ErrNoUsableGPU) {
			return c, empplay.ConfigError(fmt.Errorf("--gpu-acceleration (GPU_ACCELERATION) is on: %w", err))
		}
		return c, empplay.ConfigError(fmt.Errorf("--gpu-acceleration (GPU_ACCELERATION): %w", err))
	}
	c.Backend, c.Warning, c.Flags = b, warning, gpu.Flags(b)
	return c, nil
}

func newGPUCmd(env *Env) *cobra.Command {
	f := &gpuFlags{}
	share := &gpuShareFlags{}
	var asJSON bool
	var workers string
	c := &cobra.Command{
		Use:   "gpu",
		Short: "Show the GPUs of this host and the Chromium flags empplay would use",
		Long: `gpu detects NVIDIA GPUs (through NVML), DRI render nodes (Intel, AMD, NVIDIA)
and the EGL and Vulkan loaders, then prints them with the rendering backend
GPU_ACCELERATION selects (cpu, nvidia or mesa) and its Chromium flags.

With --gpu-acceleration on and no usable GPU it exits with status 2, as a
worker would refuse to start.`,
		Example: `  empplay gpu
  GPU_ACCELERATION=on empplay gpu --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			pools, err := supervisor.ParseWorkers(workers)
			if err != nil {
				return empplay.ConfigError(fmt.Errorf("--workers (WORKERS): %w", err))
			}
			return runGPU(c.Context(), env.Stdout, gpu.NewDetector(gpu.NewSystemNVML()), f, asJSON, func(ch gpuChoice) (supervisor.GPUPlan, error) {
				return share.plan(ch, pools, f.mode)
			})
		},
	}
	fs := c.Flags()
	f.register(fs)
	share.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print JSON instead of text")
	fs.StringVar(&workers, "workers", "playwright:1", "pools on this host, for the slot plan")
	bindEnv(fs, "workers", "WORKERS")
	c.AddCommand(newGPURenderCmd(env))
	return c
}

// runGPU prints what d detects and the choice f makes of it, as text or
// JSON, to w.
func runGPU(ctx context.Context, w io.Writer, d *gpu.Detector, f *gpuFlags, asJSON bool,
	plan func(gpuChoice) (supervisor.GPUPlan, error),
) error {
	choice, err := f.choose(ctx, d)
	if err == nil && plan != nil {
		p, perr := plan(choice)
		if perr != nil {
			return perr
		}
		choice.Plan = &p
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if werr := enc.Encode(choice); werr != nil {
			return fmt.Errorf("write gpu report: %w", werr)
		}
		if err != nil {
			// The JSON carries the error; only the exit status is left.
			return &empplay.ExitError{Code: empplay.ExitConfig, Err: errSilent}
		}
		return nil
	}
	if werr := writeGPUText(w, choice); werr != nil {
		return fmt.Errorf("write gpu report: %w", werr)
	}
	return err
}

func writeGPUText(w io.Writer, c gpuChoice) error {
	var b strings.Builder
	info := c.Detected
	switch {
	case len(info.NVIDIA) > 0:
		fmt.Fprintf(&b, "NVIDIA (NVML): driver %s, %d GPU(s)\n", info.DriverVersion, len(info.NVIDIA))
	case info.NVMLError != "":
		fmt.Fprintf(&b, "NVIDIA (NVML): unusable: %s\n", info.NVMLError)
	default:
		fmt.Fprintf(&b, "NVIDIA (NVML): driver %s, no GPU\n", info.DriverVersion)
	}
	for _, d := range info.NVIDIA {
		fmt.Fprintf(&b, "  GPU %d: %s, %d MiB (%d MiB free), PCI %s, %s\n",
			d.Index, d.Name, d.MemoryTotal>>20, d.MemoryFree>>20, gpuOrNone(d.PCIBusID), d.UUID)
	}
	if len(info.NVIDIA) > 0 && info.NVMLError != "" {
		fmt.Fprintf(&b, "  NVML error: %s\n", info.NVMLError)
	}
	fmt.Fprintf(&b, "DRI render nodes: %d\n", len(info.DRI))
	for _, n := range info.DRI {
		access := "accessible"
		if !n.Accessible {
			access = "not accessible: " + n.AccessError
		}
		fmt.Fprintf(&b, "  %s: %s (%s:%s), driver %s, PCI %s, %s\n",
			n.Path, n.Vendor, gpuOrNone(n.VendorID), gpuOrNone(n.DeviceID), gpuOrNone(n.Driver), gpuOrNone(n.PCIBusID), access)
	}
	fmt.Fprintf(&b, "EGL loader (libEGL.so.1): %s; vendors: %s\n", gpuFound(info.EGL), gpuList(info.EGLVendors))
	fmt.Fprintf(&b, "Vulkan loader (libvulkan.so.1): %s; ICDs: %s\n", gpuFound(info.Vulkan), gpuList(info.VulkanICDs))
	fmt.Fprintf(&b, "GPU_ACCELERATION: %s\n", c.Mode)
	if c.Error != "" {
		fmt.Fprintf(&b, "Backend: none (%s)\n", c.Error)
	} else {
		fmt.Fprintf(&b, "Backend: %s\n", c.Backend)
		fmt.Fprintf(&b, "Chromium flags: %s\n", strings.Join(c.Flags, " "))
	}
	if c.Warning != "" {
		fmt.Fprintf(&b, "Warning: %s\n", c.Warning)
	}
	if c.Plan != nil {
		fmt.Fprintf(&b, "Slot plan: %s\n", c.Plan.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func gpuFound(ok bool) string {
	if ok {
		return "found"
	}
	return "not found"
}

func gpuList(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func gpuOrNone(s string) string {
	if s == "" {
		return "?"
	}
	return s
}

// parseBytes parses a memory size: a number of MiB ("512"), or a number
// with a unit, binary or decimal ("8GiB", "1.5G", "512MiB", "512M",
// "1024KiB"); B and case are optional.
func parseBytes(s string) (uint64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "b")
	t = strings.TrimSuffix(t, "i")
	mult := float64(1 << 20)
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1<<10, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1<<20, strings.TrimSuffix(t, "m")
	case strings.HasSuffix(t, "g"):
		mult, t = 1<<30, strings.TrimSuffix(t, "g")
	case strings.HasSuffix(t, "t"):
		mult, t = 1<<40, strings.TrimSuffix(t, "t")
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a memory size: want a number of MiB or one with a unit, such as 8GiB or 512MiB", s)
	}
	return uint64(math.Round(v * mult)), nil
}

// gpuShareFlags decide how the supervisor shares the GPU among its slots
// (see supervisor.PlanGPU).
type gpuShareFlags struct {
	comfyMemory string
	slotMemory  string
	complexity  string
	maxSlots    int
}

func (f *gpuShareFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.comfyMemory, "comfyui-gpu-memory", "8GiB", "GPU memory reserved for each comfyui entry of WORKERS")
	fs.StringVar(&f.slotMemory, "gpu-slot-memory", "",
		"GPU memory one GPU worker slot needs (default: 512MiB for the browser plus the estimate of a --gpu-plan-complexity job)")
	fs.StringVar(&f.complexity, "gpu-plan-complexity", "high",
		"gpuComplexity of the largest job a GPU slot is planned for: low (256MiB), medium (512MiB) or high (1GiB)")
	fs.IntVar(&f.maxSlots, "gpu-slots", -1, "at most this many worker slots on the GPU (-1: as many as the GPU memory allows)")
	bindEnv(fs, "comfyui-gpu-memory", "COMFYUI_GPU_MEMORY")
	bindEnv(fs, "gpu-slot-memory", "GPU_SLOT_MEMORY")
	bindEnv(fs, "gpu-plan-complexity", "GPU_PLAN_COMPLEXITY")
	bindEnv(fs, "gpu-slots", "GPU_SLOTS")
}

// plan shares the GPU of choice among the playwright slots of pools.
func (f *gpuShareFlags) plan(c gpuChoice, pools []supervisor.Pool, mode string) (supervisor.GPUPlan, error) {
	comfy, err := parseBytes(f.comfyMemory)
	if err != nil {
		return supervisor.GPUPlan{}, empplay.ConfigError(fmt.Errorf("--comfyui-gpu-memory (COMFYUI_GPU_MEMORY): %w", err))
	}
	switch f.complexity {
	case "low", "medium", "high":
	default:
		return supervisor.GPUPlan{}, empplay.ConfigError(fmt.Errorf("--gpu-plan-complexity (GPU_PLAN_COMPLEXITY) %q: want low, medium or high", f.complexity))
	}
	slot := gpu.BrowserGPUMemory + gpu.JobMemory(nil, f.complexity)
	if f.slotMemory != "" {
		if slot, err = parseBytes(f.slotMemory); err != nil || slot == 0 {
			if err == nil {
				err = errors.New("it must be above 0")
			}
			return supervisor.GPUPlan{}, empplay.ConfigError(fmt.Errorf("--gpu-slot-memory (GPU_SLOT_MEMORY): %w", err))
		}
	}
	b := supervisor.GPUBudget{
		Backend:       c.Backend != "" && c.Backend != gpu.CPU,
		ComfyUIMemory: comfy,
		SlotMemory:    slot,
		MaxGPUSlots:   f.maxSlots,
		Require:       strings.EqualFold(strings.TrimSpace(mode), gpu.ModeOn),
	}
	for _, p := range pools {
		switch p.Name {
		case supervisor.PoolPlaywright:
			b.Slots = p.Count
		case supervisor.PoolComfyUI:
			b.ComfyUI = p.Count
		}
	}
	// ANGLE on EGL draws on the default EGL device: the first GPU.
	if c.Backend == gpu.NVIDIA && len(c.Detected.NVIDIA) > 0 {
		b.Total, b.Free = c.Detected.NVIDIA[0].MemoryTotal, c.Detected.NVIDIA[0].MemoryFree
	}
	return supervisor.PlanGPU(b), nil
}

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
			for range runs {
				rctx, cancel := context.WithTimeout(ctx, br.timeout())
				t := time.Now()
				o, err := browser.Render(rctx, job)
				cancel()
				if err != nil {
					return fmt.Errorf("%s: %w (error code %s)", args[0], err, empplay.ErrorCode(err))
				}
				rep.RenderMs = append(rep.RenderMs, empplay.Ms(time.Since(t)))
				rep.Renderer, rep.Trigger, rep.Bytes = o.Renderer, o.Trigger, len(o.Artifacts[0].Body)
				if out != "" {
					if err := os.WriteFile(out, o.Artifacts[0].Body, 0o644); err != nil {
						return fmt.Errorf("write %s: %w", out, err)
					}
				}
			}
			sorted := slices.Clone(rep.RenderMs)
			slices.Sort(sorted)
			rep.MedianMs = sorted[len(sorted)/2]
			rep.OnGPU = rep.Probe.Renderer != "" && !rep.Probe.Software &&
				(rep.Renderer == "" || !gpu.IsSoftwareRenderer(rep.Renderer))
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
