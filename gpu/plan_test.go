package gpu

import (
	"math"
	"strings"
	"testing"
)

// tenth is the default headroom of total, rounded as PlanSlots rounds it.
func tenth(total uint64) uint64 { return uint64(math.Round(0.1 * float64(total))) }

func TestPlanSlots(t *testing.T) {
	t.Parallel()
	const (
		gib  = uint64(1) << 30
		mib  = uint64(1) << 20
		slot = 1536 * mib // browser 512 MiB + a "high" job 1 GiB
	)
	for _, tc := range []struct {
		name      string
		b         Budget
		slots     int
		share     uint64
		available uint64
		reason    string // a substring of the reason
	}{
		{
			name: "no GPU backend", b: Budget{Slots: 4, Total: 24 * gib, Free: 24 * gib, SlotMemory: slot},
			reason: "no GPU backend",
		},
		{
			name: "L4 alone: every slot fits", b: Budget{Slots: 4, Backend: true, Total: 24 * gib, Free: 23 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// min(24, 23) - 2.4 = 20.6 GiB; 4 slots of 5.15 GiB
			slots: 4, available: 23*gib - tenth(24*gib), share: (23*gib - tenth(24*gib)) / 4,
		},
		{
			name: "two comfyui on an L4 leave room for 4 of 6",
			b:    Budget{Slots: 6, Backend: true, ComfyUI: 2, Total: 24 * gib, Free: 24 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// 24 - 16 = 8; - 2.4 = 5.6 GiB; 5.6 / 1.5 = 3
			slots: 3, available: 8*gib - tenth(24*gib), share: (8*gib - tenth(24*gib)) / 3, reason: "16384 MiB reserved for 2 comfyui",
		},
		{
			name: "running comfyui holds more than its reservation: free memory decides",
			b:    Budget{Slots: 4, Backend: true, ComfyUI: 1, ComfyUIMemory: 4 * gib, Total: 24 * gib, Free: 10 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			// min(20, 10) - 2.4 = 7.6 GiB: 5 slots' worth, 4 slots
			slots: 4, available: 10*gib - tenth(24*gib), share: (10*gib - tenth(24*gib)) / 4,
		},
		{
			name: "reservation above total", b: Budget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: -1},
			slots: 0, available: 0, reason: "0 of 2 slots",
		},
		{
			name:  "on: at least one slot even when memory says none",
			b:     Budget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: -1, Require: true},
			slots: 1, share: slot, reason: "overcommitted",
		},
		{
			name:  "on but capped at zero GPU slots",
			b:     Budget{Slots: 2, Backend: true, ComfyUI: 4, Total: 16 * gib, Free: 16 * gib, SlotMemory: slot, MaxGPUSlots: 0, Require: true},
			slots: 0,
		},
		{
			name: "operator cap", b: Budget{Slots: 8, Backend: true, Total: 80 * gib, Free: 80 * gib, SlotMemory: slot, MaxGPUSlots: 2},
			slots: 2, available: 72 * gib, share: 36 * gib,
		},
		{
			name: "no headroom", b: Budget{Slots: 8, Backend: true, Total: 6 * gib, Free: 6 * gib, SlotMemory: slot, MaxGPUSlots: -1, Headroom: -1},
			slots: 4, available: 6 * gib, share: slot,
		},
		{
			name: "Mesa: memory unknown, every slot", b: Budget{Slots: 3, Backend: true, SlotMemory: slot, MaxGPUSlots: -1},
			slots: 3, reason: "memory unknown",
		},
		{
			name: "Mesa with a cap", b: Budget{Slots: 3, Backend: true, MaxGPUSlots: 1},
			slots: 1,
		},
		{
			name: "no slot memory given: nothing fits", b: Budget{Slots: 3, Backend: true, Total: 8 * gib, Free: 8 * gib, MaxGPUSlots: -1},
			slots: 0, available: 8*gib - tenth(8*gib),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := PlanSlots(tc.b)
			if p.GPUSlots != tc.slots || p.Share != tc.share || p.Available != tc.available {
				t.Errorf("PlanSlots = %d slots, share %d MiB, available %d MiB; want %d, %d MiB, %d MiB (%s)",
					p.GPUSlots, p.Share>>20, p.Available>>20, tc.slots, tc.share>>20, tc.available>>20, p.Reason)
			}
			if !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("reason %q; want it to mention %q", p.Reason, tc.reason)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want uint64
		err  bool
	}{
		{"512", 512 << 20, false},
		{"8GiB", 8 << 30, false},
		{"8G", 8 << 30, false},
		{"8gb", 8 << 30, false},
		{"1.5GiB", 3 << 29, false},
		{"512MiB", 512 << 20, false},
		{"512M", 512 << 20, false},
		{"1024KiB", 1 << 20, false},
		{" 2 TiB ", 2 << 40, false},
		{"0", 0, false},
		{"lots", 0, true},
		{"-1G", 0, true},
		{"", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
