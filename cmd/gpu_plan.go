// This file turns the GPU-sharing flags into a gpu.Budget for gpu.PlanSlots.

package cmd

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/empplay/empplay"
	"github.com/empplay/empplay/gpu"
	"github.com/empplay/empplay/supervisor"
)

// gpuShareFlags decide how the supervisor shares the GPU among its slots
// (see gpu.PlanSlots).
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
func (f *gpuShareFlags) plan(c gpuChoice, pools []supervisor.Pool, mode string) (gpu.Plan, error) {
	comfy, err := gpu.ParseSize(f.comfyMemory)
	if err != nil {
		return gpu.Plan{}, empplay.ConfigError(fmt.Errorf("--comfyui-gpu-memory (COMFYUI_GPU_MEMORY): %w", err))
	}
	switch f.complexity {
	case "low", "medium", "high":
	default:
		return gpu.Plan{}, empplay.ConfigError(fmt.Errorf("--gpu-plan-complexity (GPU_PLAN_COMPLEXITY) %q: want low, medium or high", f.complexity))
	}
	slot := gpu.BrowserGPUMemory + gpu.JobMemory(nil, f.complexity)
	if f.slotMemory != "" {
		if slot, err = gpu.ParseSize(f.slotMemory); err != nil || slot == 0 {
			if err == nil {
				err = errors.New("it must be above 0")
			}
			return gpu.Plan{}, empplay.ConfigError(fmt.Errorf("--gpu-slot-memory (GPU_SLOT_MEMORY): %w", err))
		}
	}
	b := gpu.Budget{
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
	return gpu.PlanSlots(b), nil
}
