package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
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
	Plan *gpu.Plan `json:"plan,omitempty"`
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

With --gpu-acceleration on and no usable GPU it exits with status 78 (a
configuration error), as a worker would refuse to start.`,
		Example: `  empplay gpu
  GPU_ACCELERATION=on empplay gpu --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			pools, err := supervisor.ParseWorkers(workers)
			if err != nil {
				return empplay.ConfigError(fmt.Errorf("--workers (WORKERS): %w", err))
			}
			return runGPU(c.Context(), env.Stdout, gpu.NewDetector(gpu.NewSystemNVML()), f, asJSON, func(ch gpuChoice) (gpu.Plan, error) {
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
	plan func(gpuChoice) (gpu.Plan, error),
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
