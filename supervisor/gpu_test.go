package supervisor

import "testing"

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
