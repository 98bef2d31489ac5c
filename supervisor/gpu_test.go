package supervisor

import (
	"math"
	"strings"
	"testing"
)

// tenth is the default headroom of total, rounded as PlanGPU rounds it.
func tenth(total uint64) uint64 { return uint64(math.Round(0.1 * float64(total))) }

func TestPlanGPU(t *testing.T) {
	t.Parallel()
	const (
		gib  = uint64(1) << 30
		mib  = uint64(1) << 20
		slot = 1536 * mib // browser 512 MiB + a "high" job 1 GiB
	)
	for _, tc := range []struct {
		name      string
		b         GPUBudget
		slots     int
		share     uint64
		available uint64
		reason    string // a substring of the reason
	}{
		{
			name: "no GPU backend", b: GPUBudget{Slots: 4, Total: 24 * gib, Free: 24 * gib, SlotMemory: slot},
			reason: "no GPU backend",
		},
		{
			name: "L4 alone: every slot fits", b: GPUBudget{Slots: 4, Backend: true, Total: 24 * gib, Free: 23 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// min(24, 23) - 2.4 = 20.6 GiB; 4 slots of 5.15 GiB
			slots: 4, available: 23*gib - tenth(24*gib), share: (23*gib - tenth(24*gib)) / 4,
		},
		{
			name: "two comfyui on an L4 leave room for 4 of 6",
			b:    GPUBudget{Slots: 6, Backend: true, ComfyUI: 2, Total: 24 * gib, Free: 24 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// 24 - 16 = 8; - 2.4 = 5.6 GiB; 5.6 / 1.5 = 3
			slots: 3, available: 8*gib - tenth(24*gib), share: (8*gib - tenth(24*gib)) / 3, reason: "16384 MiB reserved for 2 comfyui",
		},
		{
			name: "running comfyui holds more than its reservation: free memory decides",
			b:    GPUBudget{Slots: 4, Backend: true, ComfyUI: 1, ComfyUIMemory: 4 * gib, Total: 24 * gib, Free: 10 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// min(20, 10) - 2.4 = 7.6 GiB: 5 slots' worth, 4 slots
			slots: 4, available: 10*gib - tenth(24*gib), share: (10*gib - tenth(24*gib)) / 4,
		},
		{
			name: "reservation above total", b: GPUBudget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			slots: 0, available: 0, reason: "0 of 2 slots",
		},
		{
			name:  "on: at least one slot even when memory says none",
			b:     GPUBudget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: -1, Require: true},
			slots: 1, share: slot, reason: "overcommitted",
		},
		{
			name:  "on but capped at zero GPU slots",
			b:     GPUBudget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: 0, Require: true},
			slots: 0,
		},
		{
			name: "operator cap", b: GPUBudget{Slots: 8, Backend: true, Total: 80 * gib, Free: 80 * gib, SlotMemory: slot, MaxGPUSlots: 2},
			slots: 2, available: 72 * gib, share: 36 * gib,
		},
		{
			name: "no headroom", b: GPUBudget{Slots: 8, Backend: true, Total: 6 * gib, Free: 6 * gib, SlotMemory: slot, MaxGPUSlots: -1, Headroom: -1},
			slots: 4, available: 6 * gib, share: slot,
		},
		{
			name: "Mesa: memory unknown, every slot", b: GPUBudget{Slots: 3, Backend: true, SlotMemory: slot, MaxGPUSlots: -1},
			slots: 3, reason: "memory unknown",
		},
		{
			name: "Mesa with a cap", b: GPUBudget{Slots: 3, Backend: true, MaxGPUSlots: 1},
			slots: 1,
		},
		{
			name: "no slot memory given: nothing fits", b: GPUBudget{Slots: 3, Backend: true, Total: 8 * gib, Free: 8 * gib, MaxGPUSlots: -1},
			slots: 0, available: 8*gib - tenth(8*gib),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := PlanGPU(tc.b)
			if p.GPUSlots != tc.slots || p.Share != tc.share || p.Available != tc.available {
				t.Errorf("PlanGPU = %d slots, share %d MiB, available %d MiB; want %d, %d MiB, %d MiB (%s)",
					p.GPUSlots, p.Share>>20, p.Available>>20, tc.slots, tc.share>>20, tc.available>>20, p.Reason)
			}
			if !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("reason %q; want it to mention %q", p.Reason, tc.reason)
			}
		})
	}
}

// The first GPUSlots slots are GPU slots, in every incarnation.
func TestSlotGPU(t *testing.T) {
	t.Parallel()
	s := New(Config{Slots: 3, GPUSlots: 2})
	for i, want := range []bool{true, true, false} {
		if got := s.slotGPU(i); got != want {
			t.Errorf("slot %d GPU = %v; want %v", i, got, want)
		}
	}
}
