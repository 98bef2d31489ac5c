// This file shares a GPU's memory among the supervisor's worker slots.

package gpu

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Defaults of [Budget].
const (
	// DefaultComfyUIMemory is the GPU memory reserved for each comfyui
	// entry of WORKERS (COMFYUI_GPU_MEMORY): what a Stable Diffusion XL
	// pipeline in ComfyUI holds at 1024x1024 with its default memory
	// management, rounded up.
	DefaultComfyUIMemory uint64 = 8 << 30
	// DefaultHeadroom is the share of the GPU's memory left unplanned, for
	// the driver, the display and bursts.
	DefaultHeadroom = 0.10
)

// Budget is what [PlanSlots] decides from. Memory is in bytes.
type Budget struct {
	// Slots is the number of worker slots (the playwright count).
	Slots int
	// Backend is true when the host has a GPU Chromium can use.
	Backend bool
	// Total and Free are the memory of the GPU Chromium renders on, as
	// NVML reports it; Total 0 means unknown (an Intel or AMD GPU through
	// Mesa, which shares system memory).
	Total, Free uint64
	// ComfyUI is the number of comfyui processes sharing the GPU, and
	// ComfyUIMemory what each is expected to hold [DefaultComfyUIMemory].
	ComfyUI       int
	ComfyUIMemory uint64
	// SlotMemory is what one GPU worker slot needs: its browser's GPU
	// process plus the largest job it is planned for. Required when Total
	// is known.
	SlotMemory uint64
	// Headroom is the share of Total left unplanned [DefaultHeadroom];
	// negative means none.
	Headroom float64
	// MaxGPUSlots caps the GPU slots; negative means no cap.
	MaxGPUSlots int
	// Require (GPU_ACCELERATION=on) gives at least one slot the GPU even
	// when the memory plan gives none.
	Require bool
}

// Plan says which worker slots get the GPU: slots 0 to GPUSlots-1; the
// others render on the CPU.
type Plan struct {
	GPUSlots int `json:"gpuSlots"`
	// Share is the GPU memory each GPU slot's browser may hold before it is
	// recycled: the available memory split evenly over the GPU slots; 0
	// when unknown (no limit).
	Share uint64 `json:"share"`
	// Available is the memory planned for workers: the smaller of Total
	// less the ComfyUI reservation and Free, less the headroom.
	Available uint64 `json:"available"`
	// Reason explains the plan in one line, for logs and `empplay gpu`.
	Reason string `json:"reason"`
}

// PlanSlots decides how many worker slots render on the GPU:
//
//	reserved  = ComfyUI * ComfyUIMemory
//	available = min(Total - reserved, Free) - Headroom*Total
//	GPU slots = min(Slots, MaxGPUSlots, available / SlotMemory)
//	share     = available / GPU slots
//
// Free already excludes what running services hold; the reservation keeps
// room for ComfyUI processes that are not running yet (or are between
// jobs), so the plan does not change with start-up order. With Total
// unknown (Mesa) every slot gets the GPU up to MaxGPUSlots, without a
// memory limit. Require raises a plan of zero to one slot.
func PlanSlots(b Budget) Plan {
	if !b.Backend || b.Slots <= 0 {
		return Plan{Reason: "no GPU backend: every slot renders on the CPU"}
	}
	capSlots := func(n int) int {
		n = min(n, b.Slots)
		if b.MaxGPUSlots >= 0 {
			n = min(n, b.MaxGPUSlots)
		}
		return max(n, 0)
	}
	if b.Total == 0 {
		n := capSlots(b.Slots)
		return Plan{GPUSlots: n, Reason: fmt.Sprintf("GPU memory unknown (shared with the system): %d of %d slots on the GPU, no memory limit", n, b.Slots)}
	}
	comfy := b.ComfyUIMemory
	if comfy == 0 {
		comfy = DefaultComfyUIMemory
	}
	headroom := b.Headroom
	switch {
	case headroom == 0:
		headroom = DefaultHeadroom
	case headroom < 0:
		headroom = 0
	}
	reserved := uint64(max(b.ComfyUI, 0)) * comfy
	avail := min(sub(b.Total, reserved), b.Free)
	avail = sub(avail, uint64(math.Round(headroom*float64(b.Total))))
	p := Plan{Available: avail}
	if b.SlotMemory > 0 {
		p.GPUSlots = capSlots(int(min(avail/b.SlotMemory, uint64(b.Slots))))
	}
	p.Reason = fmt.Sprintf("%d of %d slots on the GPU: %s available (%s total, %s free, %s reserved for %d comfyui, %.0f%% headroom), %s per slot",
		p.GPUSlots, b.Slots, mib(avail), mib(b.Total), mib(b.Free), mib(reserved), b.ComfyUI, headroom*100, mib(b.SlotMemory))
	if p.GPUSlots == 0 && b.Require && capSlots(1) == 1 {
		p.GPUSlots = 1
		p.Reason += "; GPU acceleration is on, so slot 0 gets the GPU anyway (memory is overcommitted)"
	}
	if p.GPUSlots > 0 {
		p.Share = max(avail/uint64(p.GPUSlots), b.SlotMemory)
	}
	return p
}

// sub is a - b, or 0 when b is larger.
func sub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

func mib(n uint64) string { return fmt.Sprintf("%d MiB", n>>20) }

// ParseSize parses a memory size: a number of MiB ("512"), or a number
// with a unit, binary or decimal ("8GiB", "1.5G", "512MiB", "512M",
// "1024KiB"); B and case are optional.
func ParseSize(s string) (uint64, error) {
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
