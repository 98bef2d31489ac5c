package supervisor

// slotGPU reports whether slot i renders on the GPU.
func (s *Supervisor) slotGPU(i int) bool { return i < s.cfg.GPUSlots }
